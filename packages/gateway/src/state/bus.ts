// A Bus carries the few events every process must see (admin changes, key cool-downs). The
// state composes a Bus with a LimitStore and an IdempotencyStore; whichever transport the Bus
// uses (none, Redis pub/sub, PostgreSQL LISTEN/NOTIFY, cluster IPC), the rest is the same.
import type { IdempotencyStore, LimitStore, SharedState } from './index.ts';
import { BusCooldowns } from './cooldowns.ts';

export type BusMessage =
  | { t: 'inv' } // admin data changed: drop cached views
  | { t: 'cd'; id: string; until: number } // credential cooling down until (epoch ms)
  | { t: 'cdc'; id: string } // cool-down ended by an admin
  | { t: 'resync' }; // the transport came back after a gap: messages may have been missed

export interface Bus {
  /** To every other process; never delivered back to this one. Fire and forget. */
  publish(msg: BusMessage): void;
  onMessage(listener: (msg: BusMessage) => void): void;
  close(): Promise<void>;
}

/** One process: nobody else to tell. */
export class LocalBus implements Bus {
  publish(): void {}
  onMessage(): void {}
  async close(): Promise<void> {}
}

export class BusState implements SharedState {
  readonly cooldowns: BusCooldowns;
  readonly limits: LimitStore;
  readonly idempotency: IdempotencyStore;
  protected readonly bus: Bus;
  private readonly listeners: (() => void)[] = [];

  constructor(bus: Bus, limits: LimitStore, idempotency: IdempotencyStore) {
    this.bus = bus;
    this.limits = limits;
    this.idempotency = idempotency;
    this.cooldowns = new BusCooldowns(bus);
    bus.onMessage((m) => {
      if (m.t === 'cd') this.cooldowns.setUntil(m.id, m.until);
      else if (m.t === 'cdc') this.cooldowns.setUntil(m.id, 0);
      else this.invalidateHere();
    });
  }

  publishInvalidation(): void {
    this.invalidateHere();
    this.bus.publish({ t: 'inv' });
  }

  onInvalidation(listener: () => void): void {
    this.listeners.push(listener);
  }

  private invalidateHere(): void {
    this.limits.forgetSeeds();
    for (const l of this.listeners) l();
  }

  async close(): Promise<void> {
    await this.bus.close();
    await this.limits.close();
    await this.idempotency.close();
  }
}
