// Key-pool cool-downs (SPEC §6.5). `isCoolingDown` is synchronous on the request path, so every
// process keeps a local mirror; BusCooldowns also tells the other processes through a Bus.
import type { Cooldowns } from './index.ts';
import type { Bus } from './bus.ts';

export class MemoryCooldowns implements Cooldowns {
  protected readonly until = new Map<string, number>();

  isCoolingDown(id: string): boolean {
    if (this.until.size === 0) return false;
    const t = this.until.get(id);
    if (t === undefined) return false;
    if (t > Date.now()) return true;
    this.until.delete(id);
    return false;
  }

  coolDown(id: string, ms: number): void {
    this.setUntil(id, Date.now() + ms);
  }

  clear(id: string): void {
    this.until.delete(id);
  }

  /** Mirror a cool-down decided elsewhere (absolute time, epoch ms). */
  setUntil(id: string, until: number): void {
    if (until > Date.now()) this.until.set(id, until);
    else this.until.delete(id);
  }
}

export class BusCooldowns extends MemoryCooldowns {
  private readonly bus: Bus;

  constructor(bus: Bus) {
    super();
    this.bus = bus;
  }

  override coolDown(id: string, ms: number): void {
    // Nothing to tell for a cool-down that is already over (Retry-After: 0), nor when this process
    // already mirrors one lasting about as long: many requests in flight on one key all get the
    // provider's 429, and one message per key is enough.
    if (ms <= 0) return;
    const until = Date.now() + ms;
    const known = this.until.get(id);
    if (known !== undefined && known >= until - Math.min(1000, ms / 10)) return;
    this.setUntil(id, until);
    this.bus.publish({ t: 'cd', id, until });
  }

  override clear(id: string): void {
    super.clear(id);
    this.bus.publish({ t: 'cdc', id });
  }
}
