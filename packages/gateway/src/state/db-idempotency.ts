// Idempotency records in the database table `idempotency` (SPEC §13), used without Redis and
// while Redis is unreachable. Every process on the database shares them. An in-flight record
// expires after the lease time unless its process renews it, so a crashed process does not
// block the key for 24 h.
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/db.ts';
import type { IdempotencyRecord, IdempotencyStore, Reservation, ReserveResult, StoredResponse } from './index.ts';
import { IDEMPOTENCY_TTL_MS } from './index.ts';

interface Held {
  org: string;
  key: string;
  marker: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class DbIdempotency implements IdempotencyStore {
  private readonly store: Store;
  private readonly leaseMs: number;
  private readonly held = new Set<Held>();
  private timer: NodeJS.Timeout | null = null;
  private calls = 0;

  constructor(store: Store, leaseMs: number) {
    this.store = store;
    this.leaseMs = leaseMs;
  }

  async reserve(org: string, key: string, fingerprint: string): Promise<ReserveResult> {
    const db = this.store.db;
    if (++this.calls % 1000 === 0) void this.sweep();
    for (let attempt = 0; attempt < 3; attempt++) {
      const now = Date.now();
      // While in flight, `response` holds a marker naming this reservation.
      const marker = JSON.stringify({ in_flight: randomBytes(9).toString('base64url') });
      const row = { organization: org, key, fingerprint, state: 'in_flight', response: marker, expires_at: iso(now + this.leaseMs) };
      const inserted = await db
        .insertInto('idempotency')
        .values(row)
        .onConflict((oc) => oc.columns(['organization', 'key']).doNothing())
        .returning('key')
        .execute();
      if (inserted.length > 0) return { reserved: this.hold({ org, key, marker }) };
      const cur = await db.selectFrom('idempotency').selectAll().where('organization', '=', org).where('key', '=', key).executeTakeFirst();
      if (!cur) continue;
      if (cur.expires_at > iso(now)) return { existing: decode(cur) };
      // Expired: take it over, unless another process just did.
      const taken = await db
        .updateTable('idempotency')
        .set(row)
        .where('organization', '=', org)
        .where('key', '=', key)
        .where('expires_at', '=', cur.expires_at)
        .returning('key')
        .execute();
      if (taken.length > 0) return { reserved: this.hold({ org, key, marker }) };
    }
    throw new Error('idempotency record is contended');
  }

  private hold(h: Held): Reservation {
    this.held.add(h);
    this.timer ??= setInterval(() => void this.renew(), Math.max(250, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
    const mine = () =>
      this.store.db
        .updateTable('idempotency')
        .where('organization', '=', h.org)
        .where('key', '=', h.key)
        .where('state', '=', 'in_flight')
        .where('response', '=', h.marker);
    let open = true;
    const close = () => {
      if (!open) return false;
      open = false;
      this.held.delete(h);
      return true;
    };
    return {
      complete: async (state: 'done' | 'unstorable', response: StoredResponse | null) => {
        if (!close()) return;
        await mine()
          .set({ state, response: response ? JSON.stringify(response) : null, expires_at: iso(Date.now() + IDEMPOTENCY_TTL_MS) })
          .execute()
          .catch(() => {});
      },
      abandon: async () => {
        if (!close()) return;
        await this.store.db
          .deleteFrom('idempotency')
          .where('organization', '=', h.org)
          .where('key', '=', h.key)
          .where('state', '=', 'in_flight')
          .where('response', '=', h.marker)
          .execute()
          .catch(() => {});
      },
    };
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    const expires = iso(Date.now() + this.leaseMs);
    for (const h of [...this.held]) {
      await this.store.db
        .updateTable('idempotency')
        .set({ expires_at: expires })
        .where('organization', '=', h.org)
        .where('key', '=', h.key)
        .where('response', '=', h.marker)
        .execute()
        .catch(() => {});
    }
  }

  private async sweep(): Promise<void> {
    await this.store.db
      .deleteFrom('idempotency')
      .where('expires_at', '<', iso(Date.now()))
      .execute()
      .catch(() => {});
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

function decode(row: { fingerprint: string; state: string; response: string | null }): IdempotencyRecord {
  const state = row.state === 'done' || row.state === 'unstorable' ? row.state : 'in_flight';
  return { fingerprint: row.fingerprint, state, response: state === 'done' && row.response ? (JSON.parse(row.response) as StoredResponse) : null };
}
