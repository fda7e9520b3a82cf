// In-process state: the embedded default, and the fallback of the Redis state while Redis is
// unreachable (limits then apply per process). Single-threaded JavaScript makes each step atomic.
import type { AdmitInput, AdmitResult, IdempotencyRecord, IdempotencyStore, LimitStore, MonthlyUsage, ReserveResult, StoredResponse } from './index.ts';
import { IDEMPOTENCY_TTL_MS } from './index.ts';
import { BusState, LocalBus } from './bus.ts';

export { MemoryCooldowns } from './cooldowns.ts';

const WINDOW_MS = 60_000;

interface OrgCounters {
  /** Admission times (epoch ms), ascending; entries before `head` have left the window. */
  window: number[];
  head: number;
  inFlight: number;
  month: string;
  monthly: MonthlyUsage;
  seeded: boolean;
}

export class MemoryLimits implements LimitStore {
  private readonly orgs = new Map<string, OrgCounters>();

  private counters(org: string, month: string): OrgCounters {
    let c = this.orgs.get(org);
    if (!c) {
      c = { window: [], head: 0, inFlight: 0, month, monthly: { requests: 0, units: 0 }, seeded: false };
      this.orgs.set(org, c);
    }
    if (c.month !== month) {
      c.month = month;
      c.monthly = { requests: 0, units: 0 };
      c.seeded = false;
    }
    return c;
  }

  admit(input: AdmitInput): AdmitResult | Promise<AdmitResult> {
    const { monthly_requests: mreq, monthly_units: munits } = input.limits;
    if ((mreq !== null || munits !== null) && !this.counters(input.org, input.month).seeded) return this.seedThenAdmit(input);
    return this.count(input);
  }

  private async seedThenAdmit(input: AdmitInput): Promise<AdmitResult> {
    const seed = await input.seed().catch(() => ({ requests: 0, units: 0 }));
    const c = this.counters(input.org, input.month);
    if (!c.seeded) {
      c.seeded = true;
      c.monthly.requests = Math.max(c.monthly.requests, seed.requests);
      c.monthly.units = Math.max(c.monthly.units, seed.units);
    }
    return this.count(input);
  }

  /** Synchronous: one atomic step. */
  private count(input: AdmitInput): AdmitResult {
    const { requests_per_minute: rpm, concurrent_requests: conc, monthly_requests: mreq, monthly_units: munits } = input.limits;
    const monthly = mreq !== null || munits !== null;
    const c = this.counters(input.org, input.month);
    const now = Date.now();
    let count = 0;
    if (rpm !== null) {
      const w = c.window;
      while (c.head < w.length && w[c.head]! <= now - WINDOW_MS) c.head++;
      if (c.head > 1024 && c.head * 2 > w.length) {
        w.splice(0, c.head);
        c.head = 0;
      }
      count = w.length - c.head;
    }
    let verdict: AdmitResult['verdict'] = 'ok';
    if ((mreq !== null && c.monthly.requests >= mreq) || (munits !== null && c.monthly.units >= munits)) verdict = 'quota_exceeded';
    else if (rpm !== null && count >= rpm) verdict = 'rate_limited';
    else if (conc !== null && c.inFlight >= conc) verdict = 'concurrency';
    let lease: AdmitResult['lease'] = null;
    if (verdict === 'ok') {
      if (rpm !== null) {
        c.window.push(now);
        count++;
      }
      if (monthly) c.monthly.requests++;
      if (conc !== null) {
        c.inFlight++;
        let held = true;
        lease = {
          release: () => {
            if (!held) return;
            held = false;
            c.inFlight--;
          },
        };
      }
    }
    const oldest = rpm !== null && count > 0 ? c.window[c.head]! : null;
    return { verdict, windowCount: count, windowResetMs: oldest === null ? 0 : Math.max(0, oldest + WINDOW_MS - now), lease };
  }

  addUnits(org: string, month: string, _ttl: number, units: number): void {
    const c = this.counters(org, month);
    c.monthly.units += units;
  }

  forgetSeeds(): void {
    for (const c of this.orgs.values()) c.seeded = false;
  }

  async close(): Promise<void> {}
}

interface MemoryRecord extends IdempotencyRecord {
  expires: number;
}

export class MemoryIdempotency implements IdempotencyStore {
  private readonly records = new Map<string, MemoryRecord>();
  private calls = 0;

  async reserve(org: string, key: string, fingerprint: string): Promise<ReserveResult> {
    const now = Date.now();
    if (++this.calls % 1000 === 0) this.sweep(now);
    const id = `${org}\u0000${key}`;
    const hit = this.records.get(id);
    if (hit && hit.expires > now) return { existing: { fingerprint: hit.fingerprint, state: hit.state, response: hit.response } };
    // In one process an in-flight record cannot outlive its request, so it needs no expiry.
    const rec: MemoryRecord = { fingerprint, state: 'in_flight', response: null, expires: Infinity };
    this.records.set(id, rec);
    let open = true;
    return {
      reserved: {
        complete: async (state: 'done' | 'unstorable', response: StoredResponse | null) => {
          if (!open || this.records.get(id) !== rec) return;
          open = false;
          rec.state = state;
          rec.response = response;
          rec.expires = Date.now() + IDEMPOTENCY_TTL_MS;
        },
        abandon: async () => {
          if (!open) return;
          open = false;
          if (this.records.get(id) === rec) this.records.delete(id);
        },
      },
    };
  }

  private sweep(now: number): void {
    for (const [id, r] of this.records) if (r.expires <= now) this.records.delete(id);
  }

  async close(): Promise<void> {}
}

/** One process, no sharing: the embedded default (and what tests build directly). */
export class MemoryState extends BusState {
  constructor(idempotency: IdempotencyStore = new MemoryIdempotency()) {
    super(new LocalBus(), new MemoryLimits(), idempotency);
  }
}
