// State shared between gateway processes (SPEC §13): key-pool cool-downs and cache
// invalidation now; counters, leases and idempotency records join with the limits work.
// The rest of the code asks this interface and never which implementation it has.

export interface Cooldowns {
  /** Synchronous: the request path reads a local mirror. */
  isCoolingDown(credentialId: string): boolean;
  coolDown(credentialId: string, ms: number): void;
  clear(credentialId: string): void;
}

export interface SharedState {
  readonly cooldowns: Cooldowns;
  /** Tell every process (this one included) that admin data changed. */
  publishInvalidation(): void;
  onInvalidation(listener: () => void): void;
  close(): Promise<void>;
}

export class MemoryCooldowns implements Cooldowns {
  private readonly until = new Map<string, number>();

  isCoolingDown(id: string): boolean {
    if (this.until.size === 0) return false;
    const t = this.until.get(id);
    if (t === undefined) return false;
    if (t > Date.now()) return true;
    this.until.delete(id);
    return false;
  }

  coolDown(id: string, ms: number): void {
    this.until.set(id, Date.now() + ms);
  }

  clear(id: string): void {
    this.until.delete(id);
  }
}

/** One process, no sharing: the embedded default. */
export class MemoryState implements SharedState {
  readonly cooldowns = new MemoryCooldowns();
  private readonly listeners: (() => void)[] = [];

  publishInvalidation(): void {
    for (const l of this.listeners) l();
  }

  onInvalidation(listener: () => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {}
}
