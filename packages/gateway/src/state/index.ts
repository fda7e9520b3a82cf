// State shared between gateway processes (SPEC §13): key-pool cool-downs, cache invalidation,
// limit counters with concurrency leases, and idempotency records. The rest of the code asks
// this interface and never which implementation it has:
//   - MemoryState (memory.ts): one process, the embedded default;
//   - createState (create.ts) picks Redis when PORTICO_REDIS_URL is set (redis.ts), else
//     in-process counters with invalidation over PostgreSQL LISTEN/NOTIFY (pg-notify.ts) or
//     node:cluster IPC (cluster-bus.ts), and idempotency records in the database (db-idempotency.ts).
import type { Limits } from '../registry.ts';

export interface Cooldowns {
  /** Synchronous: the request path reads a local mirror. */
  isCoolingDown(credentialId: string): boolean;
  coolDown(credentialId: string, ms: number): void;
  clear(credentialId: string): void;
}

export interface SharedState {
  readonly cooldowns: Cooldowns;
  /** Per-organization rate, concurrency and monthly counters (SPEC §13 limits). */
  readonly limits: LimitStore;
  /** Idempotency-Key records of invokes (SPEC §13 idempotency). */
  readonly idempotency: IdempotencyStore;
  /** Tell every process (this one included) that admin data changed. */
  publishInvalidation(): void;
  onInvalidation(listener: () => void): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Limits

/** Requests and units an organization spent in one calendar month (UTC). */
export interface MonthlyUsage {
  requests: number;
  units: number;
}

export interface AdmitInput {
  org: string;
  limits: Limits;
  /** Unique per request: its entry in the sliding window and its concurrency lease. */
  id: string;
  /** Calendar month (UTC) as `YYYYMM`. */
  month: string;
  /** Seconds the monthly counters must live (to the month's end and a margin). */
  monthTtlS: number;
  /**
   * What the database says the organization spent this month; asked once per organization and
   * month (again after an invalidation or a Redis restart), so counters survive restarts.
   */
  seed: () => Promise<MonthlyUsage>;
}

export type AdmitVerdict = 'ok' | 'rate_limited' | 'concurrency' | 'quota_exceeded';

export interface AdmitResult {
  verdict: AdmitVerdict;
  /** Requests in the last 60 s, this one included when admitted (0 without a per-minute limit). */
  windowCount: number;
  /** Milliseconds until the oldest request in the window leaves it (0 when the window is empty). */
  windowResetMs: number;
  /** Held while the request runs when `concurrent_requests` applies; release it once. */
  lease: Lease | null;
}

export interface Lease {
  /** Idempotent. */
  release(): void;
}

export interface LimitStore {
  /**
   * Checks every limit and, when all pass, counts the request: one atomic step. Answers at once
   * when it can from what this process holds (in-process counters, a permit taken in advance),
   * so that a limited invoke waits for nothing it does not need.
   */
  admit(input: AdmitInput): AdmitResult | Promise<AdmitResult>;
  /** Units the upstream reported (monthly_units), added after the answer. */
  addUnits(org: string, month: string, monthTtlS: number, units: number): void;
  /** Forget which months were seeded (after an admin change: limits may have been switched on). */
  forgetSeeds(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Idempotency

export interface StoredResponse {
  status: number;
  headers: Record<string, string | string[]>;
  /** base64 */
  body: string;
  /** A gateway error envelope: its request_id is rewritten on replay. */
  gatewayError?: boolean;
}

export interface IdempotencyRecord {
  fingerprint: string;
  state: 'in_flight' | 'done' | 'unstorable';
  response: StoredResponse | null;
}

/** Both resolve once the record is written (never reject), so the answer can wait for it. */
export interface Reservation {
  /** Stores the outcome for 24 h: `done` with the answer to replay, or `unstorable`. */
  complete(state: 'done' | 'unstorable', response: StoredResponse | null): Promise<void>;
  /** Drops the reservation so that the client may retry (gateway 5xx, nothing answered). */
  abandon(): Promise<void>;
}

export type ReserveResult = { reserved: Reservation } | { existing: IdempotencyRecord };

export interface IdempotencyStore {
  /** Atomically reserves (org, key) for this request, or returns the record already there. */
  reserve(org: string, key: string, fingerprint: string): Promise<ReserveResult>;
  close(): Promise<void>;
}

/** How long a finished record is kept (SPEC §13: 24 h). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export { MemoryCooldowns, MemoryIdempotency, MemoryLimits, MemoryState } from './memory.ts';
export { createState } from './create.ts';
