// Usage metering (SPEC §13): every invoke becomes one row of `usage_events`, written in batches
// off the request path (at most one flush a second per process, and on shutdown), and the
// aggregation behind GET /admin/usage.
import type { Logger } from 'pino';
import { sql } from 'kysely';
import type { Store } from '../store/db.ts';
import type { UsageEventsTable } from '../store/schema.ts';
import { ulid } from '../ids.ts';

/** One invoke as recorded: `at` in epoch milliseconds (turned into text only when written). */
export type UsageEvent = Omit<UsageEventsTable, 'id' | 'at'> & { at: number };

/** Rows kept in memory while the database is unreachable; older ones are dropped past it. */
const MAX_BUFFERED = 100_000;
/** Rows per statement (PostgreSQL) or transaction (SQLite): about a millisecond of work. */
const SLICE = 250;

export class UsageRecorder {
  private readonly store: Store;
  private readonly log: Logger;
  private buffer: UsageEvent[] = [];
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private failing = false;

  constructor(store: Store, log: Logger, intervalMs = 1000) {
    this.store = store;
    this.log = log;
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  record(e: UsageEvent): void {
    if (this.buffer.length >= MAX_BUFFERED) this.buffer.shift();
    this.buffer.push(e);
  }

  /** Writes what is buffered; flushes never overlap. */
  flush(): Promise<void> {
    this.chain = this.chain.then(() => this.write());
    return this.chain;
  }

  private async write(): Promise<void> {
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    let done = 0;
    try {
      // In slices, yielding to requests in between: a second's worth of rows written in one go
      // would hold the event loop for several milliseconds (a latency spike for every request
      // waiting behind it).
      while (done < rows.length) {
        if (done > 0) await new Promise((r) => setImmediate(r));
        await insertUsage(this.store, rows.slice(done, done + SLICE));
        done += SLICE;
      }
      if (this.failing) {
        this.failing = false;
        this.log.info('usage metering writes resumed');
      }
    } catch (err) {
      // Keep the rows for the next flush (bounded), warn once per failure streak.
      this.buffer = rows.slice(done).concat(this.buffer).slice(-MAX_BUFFERED);
      if (!this.failing) {
        this.failing = true;
        this.log.warn({ err: (err as Error).message }, 'usage metering write failed; keeping rows in memory and retrying');
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

const COLUMNS = [
  'id',
  'at',
  'organization',
  'api_key_id',
  'service',
  'action',
  'status',
  'upstream_status',
  'credential_source',
  'bytes_in',
  'bytes_out',
  'duration_ms',
  'units',
] as const;

function values(r: UsageEvent): unknown[] {
  return [
    ulid(r.at),
    new Date(r.at).toISOString(),
    r.organization,
    r.api_key_id,
    r.service,
    r.action,
    r.status,
    r.upstream_status,
    r.credential_source,
    r.bytes_in,
    r.bytes_out,
    r.duration_ms,
    r.units,
  ];
}

/**
 * One batch in one statement or transaction. Thousands of rows a second go through here, so it
 * skips the query builder: a prepared statement in a transaction on SQLite, and a single
 * INSERT … SELECT FROM unnest(arrays) on PostgreSQL.
 */
const statements = new WeakMap<NonNullable<Store['sqlite']>, ReturnType<NonNullable<Store['sqlite']>['prepare']>>();

async function insertUsage(store: Store, rows: UsageEvent[]): Promise<void> {
  if (store.sqlite) {
    const sqlite = store.sqlite;
    let stmt = statements.get(sqlite);
    if (!stmt)
      statements.set(sqlite, (stmt = sqlite.prepare(`insert into usage_events (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`)));
    const insert = stmt;
    sqlite.transaction((batch: UsageEvent[]) => {
      for (const r of batch) insert.run(values(r));
    })(rows);
    return;
  }
  const all = rows.map(values);
  const columns = COLUMNS.map((_, i) => all.map((v) => v[i]));
  const types = ['text', 'text', 'text', 'text', 'text', 'text', 'integer', 'integer', 'text', 'bigint', 'bigint', 'real', 'bigint'];
  await sql`insert into usage_events (${sql.join(COLUMNS.map((c) => sql.ref(c)))})
    select * from unnest(${sql.join(columns.map((col, i) => sql`${col}::${sql.raw(types[i]!)}[]`))})`.execute(store.db);
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
  let q = store.db.selectFrom('usage_events').select(['at', 'api_key_id', 'service', 'action', 'status', 'units', 'bytes_out', 'duration_ms']);
  if (f.organization !== null) q = q.where('organization', '=', f.organization);
  if (f.service !== null) q = q.where('service', '=', f.service);
  if (f.from !== null) q = q.where('at', '>=', f.from);
  if (f.to !== null) q = q.where('at', '<', f.to);
  const rows = await q.execute();
  const groups = new Map<string, { requests: number; errors: number; units: number; bytes: number; durations: number[] }>();
  for (const r of rows) {
    const key =
      groupBy === 'day'
        ? r.at.slice(0, 10)
        : groupBy === 'service'
          ? r.service
          : groupBy === 'action'
            ? `${r.service}/${r.action}`
            : (r.api_key_id ?? 'platform');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { requests: 0, errors: 0, units: 0, bytes: 0, durations: [] }));
    g.requests++;
    if (Number(r.status) >= 400) g.errors++;
    g.units += Number(r.units);
    g.bytes += Number(r.bytes_out);
    g.durations.push(Number(r.duration_ms));
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, g]) => {
      g.durations.sort((a, b) => a - b);
      return {
        key,
        requests: g.requests,
        errors: g.errors,
        units: g.units,
        bytes_out: g.bytes,
        p50_ms: percentile(g.durations, 0.5),
        p95_ms: percentile(g.durations, 0.95),
      };
    });
}

/** Nearest-rank percentile of sorted values, to 0.1 ms. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const v = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
  return Math.round(v * 10) / 10;
}

const CSV_COLUMNS = ['key', 'requests', 'errors', 'units', 'bytes_out', 'p50_ms', 'p95_ms'] as const;

export function usageCsv(rows: UsageRow[]): string {
  const cell = (v: string | number) => (typeof v === 'string' && /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}
