// Usage metering (SPEC §13): every invoke is counted in memory into a rollup per minute and per
// (organization, key, service, action, status, upstream status, credential source), with its
// durations as a histogram; the rollups are written off the request path (at most one flush a
// second per process, and on shutdown). Also the aggregation behind GET /admin/usage.
import type { Logger } from 'pino';
import { sql } from 'kysely';
import type { Store } from '../store/db.ts';
import type { UsageEvent, UsageRollupsTable } from '../store/schema.ts';

export type { UsageEvent } from '../store/schema.ts';

/** Rollups kept in memory while the database is unreachable; past it, new keys are dropped. */
const MAX_PENDING = 100_000;
/** Rows per statement (PostgreSQL) or transaction (SQLite): about a millisecond of work. */
const SLICE = 250;

// Durations go into log-scale buckets: bucket 0 holds up to 0.1 ms, bucket b > 0 holds
// (0.1·1.05^(b-1), 0.1·1.05^b] ms. A percentile read from them is at most 5% above the true one.
const BUCKET_BASE_MS = 0.1;
const BUCKET_GROWTH = Math.log(1.05);

export function latencyBucket(ms: number): number {
  return ms <= BUCKET_BASE_MS ? 0 : Math.ceil(Math.log(ms / BUCKET_BASE_MS) / BUCKET_GROWTH);
}

/** The upper bound of a bucket, in ms to 0.1. */
function bucketCeiling(bucket: number): number {
  return Math.round(BUCKET_BASE_MS * Math.exp(bucket * BUCKET_GROWTH) * 10) / 10;
}

interface Pending {
  row: Omit<UsageRollupsTable, 'latency'>;
  /** Count per latency bucket, by bucket index (an array: no hash lookup per invoke). */
  latency: number[];
}

/** Rollups being counted: one entry per minute and dimension set. */
class Rollups {
  private map = new Map<string, Pending>();
  // The last event's rollup: traffic mostly repeats the same dimensions, which then need no key.
  private last: UsageEvent | null = null;
  private lastMinute = 0;
  private lastPending: Pending | null = null;

  get size(): number {
    return this.map.size;
  }

  private sameAsLast(e: UsageEvent, minute: number): boolean {
    const l = this.last;
    return (
      l !== null &&
      minute === this.lastMinute &&
      e.organization === l.organization &&
      e.api_key_id === l.api_key_id &&
      e.service === l.service &&
      e.action === l.action &&
      e.status === l.status &&
      e.upstream_status === l.upstream_status &&
      e.credential_source === l.credential_source
    );
  }

  add(e: UsageEvent): boolean {
    const minute = e.at - (e.at % 60_000);
    const p = this.sameAsLast(e, minute) ? this.lastPending! : this.lookup(e, minute);
    if (p === null) return false;
    this.last = e;
    this.lastMinute = minute;
    this.lastPending = p;
    const r = p.row;
    r.requests++;
    r.units += Number(e.units);
    r.bytes_in += Number(e.bytes_in);
    r.bytes_out += Number(e.bytes_out);
    r.duration_ms_sum += Number(e.duration_ms);
    const b = latencyBucket(Number(e.duration_ms));
    p.latency[b] = (p.latency[b] ?? 0) + 1;
    return true;
  }

  /** The rollup of the event's minute and dimensions, made if new; null when too many are pending. */
  private lookup(e: UsageEvent, minute: number): Pending | null {
    const key = `${minute}|${e.organization}|${e.api_key_id}|${e.service}|${e.action}|${e.status}|${e.upstream_status}|${e.credential_source}`;
    let p = this.map.get(key);
    if (p === undefined) {
      if (this.map.size >= MAX_PENDING) return null;
      p = {
        row: {
          minute: new Date(minute).toISOString(),
          organization: e.organization,
          api_key_id: e.api_key_id,
          service: e.service,
          action: e.action,
          status: e.status,
          upstream_status: e.upstream_status,
          credential_source: e.credential_source,
          requests: 0,
          units: 0,
          bytes_in: 0,
          bytes_out: 0,
          duration_ms_sum: 0,
        },
        latency: [],
      };
      this.map.set(key, p);
    }
    return p;
  }

  /** The rows counted so far; the counting starts over. */
  take(): UsageRollupsTable[] {
    const out: UsageRollupsTable[] = [];
    for (const p of this.map.values()) {
      p.row.duration_ms_sum = Math.round(p.row.duration_ms_sum * 10) / 10;
      const latency: Record<number, number> = {};
      p.latency.forEach((count, bucket) => (latency[bucket] = count)); // skips the empty buckets
      out.push({ ...p.row, latency: JSON.stringify(latency) });
    }
    this.map = new Map();
    this.last = this.lastPending = null;
    return out;
  }
}

/** Folds invokes into rollup rows (the migration from per-invoke rows uses it too). */
export function rollupEvents(events: UsageEvent[]): UsageRollupsTable[] {
  const r = new Rollups();
  for (const e of events) r.add(e);
  return r.take();
}

export class UsageRecorder {
  private readonly store: Store;
  private readonly log: Logger;
  private counting = new Rollups();
  /** Rows taken but not written yet (the database was unreachable). */
  private unwritten: UsageRollupsTable[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private failing = false;
  private dropping = false;

  constructor(store: Store, log: Logger, intervalMs = 1000) {
    this.store = store;
    this.log = log;
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  record(e: UsageEvent): void {
    if (this.counting.add(e) || this.dropping) return;
    this.dropping = true;
    this.log.error({ pending: MAX_PENDING }, 'usage metering: too many unwritten rollups; new ones are dropped until the database is back');
  }

  /** Writes what has been counted; flushes never overlap. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.write());
    return this.chain;
  }

  private async write(): Promise<void> {
    const rows = this.unwritten.length > 0 ? this.unwritten.concat(this.counting.take()) : this.counting.take();
    this.unwritten = [];
    if (rows.length === 0) return;
    let done = 0;
    try {
      // In slices, yielding to requests in between, so that a large flush never holds the event loop.
      while (done < rows.length) {
        if (done > 0) await new Promise((r) => setImmediate(r));
        await insertRollups(this.store, rows.slice(done, done + SLICE));
        done += SLICE;
      }
      if (this.failing) {
        this.failing = false;
        this.dropping = false;
        this.log.info('usage metering writes resumed');
      }
    } catch (err) {
      // Keep what was not written for the next flush (bounded), warn once per failure streak.
      this.unwritten = rows.slice(done).slice(-MAX_PENDING);
      if (!this.failing) {
        this.failing = true;
        this.log.warn({ err: (err as Error).message }, 'usage metering write failed; keeping rollups in memory and retrying');
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

const COLUMNS = [
  'minute',
  'organization',
  'api_key_id',
  'service',
  'action',
  'status',
  'upstream_status',
  'credential_source',
  'requests',
  'units',
  'bytes_in',
  'bytes_out',
  'duration_ms_sum',
  'latency',
] as const;
const PG_TYPES = ['text', 'text', 'text', 'text', 'text', 'integer', 'integer', 'text', 'bigint', 'bigint', 'bigint', 'bigint', 'real', 'text'];

const statements = new WeakMap<NonNullable<Store['sqlite']>, ReturnType<NonNullable<Store['sqlite']>['prepare']>>();

/** One slice in one transaction (SQLite, a prepared statement) or one INSERT … FROM unnest (PostgreSQL). */
async function insertRollups(store: Store, rows: UsageRollupsTable[]): Promise<void> {
  if (store.sqlite) {
    const sqlite = store.sqlite;
    let stmt = statements.get(sqlite);
    if (!stmt)
      statements.set(sqlite, (stmt = sqlite.prepare(`insert into usage_rollups (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`)));
    const insert = stmt;
    sqlite.transaction((batch: UsageRollupsTable[]) => {
      for (const r of batch) insert.run(COLUMNS.map((c) => r[c]));
    })(rows);
    return;
  }
  const columns = COLUMNS.map((c) => rows.map((r) => r[c]));
  await sql`insert into usage_rollups (${sql.join(COLUMNS.map((c) => sql.ref(c)))})
    select * from unnest(${sql.join(columns.map((col, i) => sql`${col}::${sql.raw(PG_TYPES[i]!)}[]`))})`.execute(store.db);
}

export type GroupBy = 'day' | 'service' | 'action' | 'key';

export interface UsageFilter {
  organization: string | null;
  service: string | null;
  /** Inclusive, RFC 3339 (UTC). */
  from: string | null;
  /** Exclusive. */
  to: string | null;
}

export interface UsageRow {
  key: string;
  requests: number;
  errors: number;
  units: number;
  bytes_out: number;
  p50_ms: number;
  p95_ms: number;
}

export async function queryUsage(store: Store, f: UsageFilter, groupBy: GroupBy): Promise<UsageRow[]> {
  let q = store.db.selectFrom('usage_rollups').select(['minute', 'api_key_id', 'service', 'action', 'status', 'requests', 'units', 'bytes_out', 'latency']);
  if (f.organization !== null) q = q.where('organization', '=', f.organization);
  if (f.service !== null) q = q.where('service', '=', f.service);
  // Rollups are per minute: the range applies to the minutes the invokes fall in.
  if (f.from !== null) q = q.where('minute', '>=', minuteOf(f.from));
  if (f.to !== null) q = q.where('minute', '<', f.to);
  const rows = await q.execute();
  const groups = new Map<string, { requests: number; errors: number; units: number; bytes: number; latency: Map<number, number> }>();
  for (const r of rows) {
    const key =
      groupBy === 'day'
        ? r.minute.slice(0, 10)
        : groupBy === 'service'
          ? r.service
          : groupBy === 'action'
            ? `${r.service}/${r.action}`
            : (r.api_key_id ?? 'platform');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { requests: 0, errors: 0, units: 0, bytes: 0, latency: new Map() }));
    const n = Number(r.requests);
    g.requests += n;
    if (Number(r.status) >= 400) g.errors += n;
    g.units += Number(r.units);
    g.bytes += Number(r.bytes_out);
    for (const [b, c] of Object.entries(JSON.parse(r.latency) as Record<string, number>)) g.latency.set(Number(b), (g.latency.get(Number(b)) ?? 0) + c);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, g]) => ({
      key,
      requests: g.requests,
      errors: g.errors,
      units: g.units,
      bytes_out: g.bytes,
      p50_ms: percentile(g.latency, g.requests, 0.5),
      p95_ms: percentile(g.latency, g.requests, 0.95),
    }));
}

/** The start of the minute an RFC 3339 instant falls in, in the rollups' own format. */
function minuteOf(iso: string): string {
  const t = Date.parse(iso);
  return new Date(t - (((t % 60_000) + 60_000) % 60_000)).toISOString();
}

/** Nearest-rank percentile of a latency histogram (the bucket's upper bound, to 0.1 ms). */
function percentile(latency: Map<number, number>, total: number, p: number): number {
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const b of [...latency.keys()].sort((x, y) => x - y)) {
    seen += latency.get(b)!;
    if (seen >= rank) return bucketCeiling(b);
  }
  return 0;
}

const CSV_COLUMNS = ['key', 'requests', 'errors', 'units', 'bytes_out', 'p50_ms', 'p95_ms'] as const;

export function usageCsv(rows: UsageRow[]): string {
  const cell = (v: string | number) => (typeof v === 'string' && /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}
