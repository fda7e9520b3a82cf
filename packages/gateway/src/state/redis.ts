// Shared state in Redis (SPEC §13 scale-out), with ioredis. Every key starts with the deployment's
// prefix (PORTICO_REDIS_PREFIX) and keeps one organization's keys in one hash slot (`{org}`).
//
// - limits: one Lua script per check (sliding-window log, one entry per script run, with its
//   running total; concurrency leases, monthly counters);
//   leases expire unless the process renews them, so a killed process frees its slots;
// - idempotency records: one Lua script per reservation; in-flight records expire like leases;
// - cool-downs and cache invalidation: pub/sub on `<prefix>events`, cool-downs also in a sorted
//   set so a process that starts or reconnects later loads them.
//
// Redis unreachable (at start or later): every call falls back at once to in-process state
// (limits per process, idempotency in the database), one warning line per outage, and sharing
// resumes when it returns. Commands are never queued while disconnected.
import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { AdmitInput, AdmitResult, IdempotencyRecord, IdempotencyStore, LimitStore, Reservation, ReserveResult, StoredResponse } from './index.ts';
import type { Limits } from '../registry.ts';
import { IDEMPOTENCY_TTL_MS } from './index.ts';
import { BusState, type Bus, type BusMessage } from './bus.ts';
import { MemoryLimits } from './memory.ts';

// KEYS: window zset, lease zset, month requests, month units, window total.
// The window is a log with one entry per script run, not per request: member `<n>|<first id>`
// for the n requests it admitted, scored with their time, and the running total of all entries
// beside it, so a run costs the same for one admit or 32 (a busy process takes permits in
// advance by the block; one entry per request made Redis spend ~8 µs per request on the log
// at 14,000 requests a second). Expired entries are subtracted from the total as they go.
// ARGV: rpm, concurrent, monthly requests, monthly units (-1 = none), lease ms, month ttl s,
// ahead ms (window entries are dated that far ahead: permits a process keeps for a moment count
// from the latest time they can be used), the number r of leases to release first, those r lease
// ids, then one id per request to admit, in arrival order (the requests of one organization that
// arrived in the same event-loop turn, then any permits asked in advance, and the leases its
// finished requests gave back: one script run and one reply for all of them).
// Every limit only tightens as a run admits, so the ids admitted are a prefix and the rest are
// refused for one reason. Returns {n admitted (the first n ids), the others' verdict (1 rate,
// 2 concurrency, 3 quota), requests in the window before the run, ms to the window's reset}: the
// i-th admitted id is request count + i + 1 of its window, a refused one sees count + n.
const ADMIT_LUA = `
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rpm, conc, mreq, munits = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local lease, ttl, ahead, released = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
if released > 0 then redis.call('ZREM', KEYS[2], unpack(ARGV, 9, 8 + released)) end
local function weight(member)
  local n = string.match(member, '^(%d+)|')
  return n and tonumber(n) or 1
end
local count, oldest, held, reqs, units, expired = 0, -1, 0, 0, 0, false
if rpm >= 0 then
  local cut = now - 60000
  local total = redis.call('GET', KEYS[5])
  if total and redis.call('EXISTS', KEYS[1]) == 1 then
    count = tonumber(total)
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cut)) do
      count = count - weight(m)
      expired = true
    end
    if expired then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cut) end
  else
    -- No total (a new window, or one written before totals were kept): count the entries.
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cut)
    for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do count = count + weight(m) end
    expired = true
  end
  if count < 0 then count = 0 end
  if count > 0 then oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]) end
end
if conc >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  held = redis.call('ZCARD', KEYS[2])
end
if mreq >= 0 then reqs = tonumber(redis.call('GET', KEYS[3]) or '0') end
if munits >= 0 then units = tonumber(redis.call('GET', KEYS[4]) or '0') end
local before, leases, admitted, first, verdict = count, {}, 0, nil, 0
for i = 9 + released, #ARGV do
  if mreq >= 0 and reqs >= mreq then verdict = 3
  elseif munits >= 0 and units >= munits then verdict = 3
  elseif rpm >= 0 and count >= rpm then verdict = 1
  elseif conc >= 0 and held >= conc then verdict = 2 end
  if verdict ~= 0 then break end
  admitted = admitted + 1
  reqs = reqs + 1
  if rpm >= 0 then
    first = first or ARGV[i]
    count = count + 1
    if oldest < 0 then oldest = now + ahead end
  end
  if conc >= 0 then
    leases[#leases + 1] = now + lease
    leases[#leases + 1] = ARGV[i]
    held = held + 1
  end
end
if first then
  redis.call('ZADD', KEYS[1], now + ahead, (admitted .. '|') .. first)
  redis.call('PEXPIRE', KEYS[1], 61000 + ahead)
end
if first or expired then redis.call('SET', KEYS[5], count, 'PX', 61000 + ahead) end
if #leases > 0 then
  redis.call('ZADD', KEYS[2], unpack(leases))
  redis.call('PEXPIRE', KEYS[2], lease * 2)
end
if admitted > 0 and (mreq >= 0 or munits >= 0) then
  redis.call('INCRBY', KEYS[3], admitted)
  redis.call('EXPIRE', KEYS[3], ttl)
end
local reset = 0
if oldest >= 0 then reset = oldest + 60000 - now end
return {admitted, verdict, before, reset}
`;

// KEYS: lease zset. ARGV: id, lease ms. Extends a lease that still exists.
const RENEW_LUA = `
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return n
`;

// KEYS: month requests, month units. ARGV: requests, units, ttl s. Raises counters to the
// database's figures (never lowers them: Redis may be ahead by the last second's usage).
const SEED_LUA = `
for i = 1, 2 do
  local cur = tonumber(redis.call('GET', KEYS[i]) or '0')
  local v = tonumber(ARGV[i])
  if v > cur then redis.call('SET', KEYS[i], v, 'EX', tonumber(ARGV[3])) end
end
return 1
`;

// KEYS: record. ARGV: in-flight record, ttl ms. Returns the existing record, or nil once reserved.
const IDEM_RESERVE_LUA = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
`;

// KEYS: record. ARGV: token, op (set | del | renew), ttl ms, new record. Acts only on this
// reservation's own in-flight record.
const IDEM_UPDATE_LUA = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local r = cjson.decode(v)
if r.tok ~= ARGV[1] or r.st ~= 'in_flight' then return 0 end
if ARGV[2] == 'del' then redis.call('DEL', KEYS[1])
elseif ARGV[2] == 'renew' then redis.call('PEXPIRE', KEYS[1], ARGV[3])
else redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[3]) end
return 1
`;

interface PorticoCommands {
  porticoAdmit(...args: (string | number)[]): Promise<number[]>;
  porticoRenew(...args: (string | number)[]): Promise<number>;
  porticoSeed(...args: (string | number)[]): Promise<number>;
  porticoIdemReserve(...args: (string | number)[]): Promise<string | null>;
  porticoIdemUpdate(...args: (string | number)[]): Promise<number>;
}
type Client = Redis & PorticoCommands;

const COMMANDS: [keyof PorticoCommands, number, string][] = [
  ['porticoAdmit', 5, ADMIT_LUA],
  ['porticoRenew', 1, RENEW_LUA],
  ['porticoSeed', 2, SEED_LUA],
  ['porticoIdemReserve', 1, IDEM_RESERVE_LUA],
  ['porticoIdemUpdate', 1, IDEM_UPDATE_LUA],
];

/** The two connections (commands, subscriber) and the outage bookkeeping. */
export class RedisLink {
  readonly client: Client;
  readonly sub: Redis;
  readonly prefix: string;
  readonly channel: string;
  /** True from the first failure until Redis answers again (one warning per outage). */
  outage = false;
  private readonly log: Logger;
  private closing = false;
  private skipUntil = 0;
  private clientWasReady = false;
  private readonly resyncListeners: (() => void)[] = [];
  private readonly messageListeners: ((raw: string) => void)[] = [];

  constructor(url: string, prefix: string, log: Logger) {
    this.prefix = prefix;
    this.channel = `${prefix}events`;
    this.log = log;
    const base: RedisOptions = {
      // Fail fast instead of queueing while disconnected: the caller falls back at once.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 1000,
      connectTimeout: 2000,
      keepAlive: 10_000,
      retryStrategy: (times: number) => Math.min(100 * times, 1000),
    };
    // Commands issued in the same tick (many requests' checks under load) go out in one write.
    this.client = new Redis(url, { ...base, enableAutoPipelining: true }) as Client;
    for (const [name, numberOfKeys, lua] of COMMANDS) this.client.defineCommand(name, { numberOfKeys, lua });
    this.sub = new Redis(url, { ...base, enableOfflineQueue: true, commandTimeout: undefined, autoResubscribe: false });
    for (const c of [this.client, this.sub]) {
      c.on('error', (err: Error) => this.trouble(err));
      c.on('close', () => this.trouble());
    }
    this.client.on('ready', () => {
      this.recovered();
      if (this.clientWasReady) this.resync();
      this.clientWasReady = true;
    });
    let subWasReady = false;
    this.sub.on('ready', () => {
      this.sub.subscribe(this.channel).then(
        () => {
          this.recovered();
          if (subWasReady) this.resync();
          subWasReady = true;
          this.sub.emit('portico:subscribed');
        },
        (err: Error) => this.trouble(err),
      );
    });
    this.sub.on('message', (channel: string, raw: string) => {
      if (channel === this.channel) for (const l of this.messageListeners) l(raw);
    });
  }

  /** Resolves once connected, or after the first failure or `ms` (start-up goes on either way). */
  async waitReady(ms: number): Promise<void> {
    const until = (emitter: Redis, event: string) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          emitter.off(event, done);
          emitter.off('error', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        emitter.once(event, done);
        emitter.once('error', done);
      });
    await Promise.all([this.client.status === 'ready' ? null : until(this.client, 'ready'), until(this.sub, 'portico:subscribed')]);
  }

  /** Whether to try Redis for this call (sync, on the request path). */
  usable(): boolean {
    return this.client.status === 'ready' && (this.skipUntil === 0 || Date.now() >= this.skipUntil);
  }

  /** A command failed (timeout, reset): use the fallback for a second, warn once. */
  failed(err: unknown): void {
    this.skipUntil = Date.now() + 1000;
    this.trouble(err as Error);
  }

  /** A connection is back or a command succeeded after a failure: the outage ends once both connections are up. */
  recovered(): void {
    if (!this.outage || this.closing || this.client.status !== 'ready' || this.sub.status !== 'ready') return;
    this.outage = false;
    this.skipUntil = 0;
    this.log.info('redis reachable again: limits, idempotency and cool-downs are shared again');
  }

  private trouble(err?: Error): void {
    if (this.closing || this.outage) return;
    this.outage = true;
    this.log.warn({ err: err?.message }, 'redis unreachable: invokes go on with limits per process (fail-open) until it returns');
  }

  private resync(): void {
    for (const l of this.resyncListeners) l();
  }

  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  onMessage(listener: (raw: string) => void): void {
    this.messageListeners.push(listener);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      [this.client, this.sub].map((c) =>
        c.status === 'ready'
          ? c.quit().then(
              () => {},
              () => c.disconnect(),
            )
          : Promise.resolve(c.disconnect()),
      ),
    );
  }
}

const VERDICTS = ['ok', 'rate_limited', 'concurrency', 'quota_exceeded'] as const;
/** Group records kept before idle ones are dropped (see RedisLimits.group). */
const MAX_GROUPS = 1000;
/** Requests per script run: bounded so that a burst never holds Redis for long. */
const MAX_BATCH = 200;

interface Waiting {
  input: AdmitInput;
  resolve: (r: AdmitResult | Promise<AdmitResult>) => void;
}

/**
 * One organization's admits under one set of limits and month, kept while in use (see `group`): the
 * per-turn state hangs off it in fields that are reset, never in maps that are cleared every turn.
 * (A Map cleared every turn keeps its old tables, linked to the new ones, until the next full GC:
 * a long-lived Map's tables are in the old generation, so every batch a cleared table held, and
 * through it every waiting request, survived young-generation GCs: whole requests promoted.)
 */
interface Group {
  readonly key: string;
  /** This turn's batch still taking admits. */
  filling: Batch | null;
  /** Permits to ask in advance with this turn's last batch (0: none), and whether an ask is out. */
  ask: number;
  asking: boolean;
  /** Admits since `since` (see RedisLimits.advance). */
  since: number;
  n: number;
  /** Permits taken in advance and not used yet. */
  allowance: Allowance | null;
}

/** Lease ids released and not yet sent to Redis, per lease key (long-lived, as Group). */
interface Released {
  readonly key: string;
  ids: string[];
}

/** A batch's script on the turn's pipeline, with what reading its answer needs. */
interface ScriptRun {
  batch: Batch;
  leaseKey: string;
  ids: string[];
  limits: Limits;
}

type TurnPipeline = PorticoCommands & {
  zrem(key: string, ...members: string[]): unknown;
  exec(): Promise<[Error | null, unknown][] | null>;
};

interface Batch {
  group: Group;
  /** Permits asked in advance with it (see RedisLimits.advance). */
  extra: number;
  waiting: Waiting[];
}

interface Permit {
  /** The window count it was given, and its concurrency slot (null without a concurrency limit). */
  windowCount: number;
  lease: AdmitResult['lease'];
  /** Unused from then on, it is given back (its slot; its window entry simply counts). */
  until: number;
  resetAt: number;
}

/** Permits taken in advance for one organization and its limits, oldest first. */
class Allowance {
  private permits: Permit[] = [];

  add(p: Permit): void {
    this.permits.push(p);
  }

  /** The oldest permit still usable at `now`; expired ones are given back on the way. */
  take(now: number): Permit | undefined {
    for (let p = this.permits.shift(); p !== undefined; p = this.permits.shift()) {
      if (now < p.until) return p;
      p.lease?.release();
    }
    return undefined;
  }

  /** Gives back every permit expired at `now`; true when none is left. */
  expire(now: number): boolean {
    while (this.permits.length > 0 && now >= this.permits[0]!.until) this.permits.shift()!.lease?.release();
    return this.permits.length === 0;
  }
}

const groups = new WeakMap<Limits, { org: string; month: string; group: string }>();

/** Requests share batches and permits when their organization, month and limits are the same. */
function groupOf(org: string, month: string, l: Limits): string {
  // The limits object is the organization's cached view: the key string is built once per view.
  const g = groups.get(l);
  if (g !== undefined && g.org === org && g.month === month) return g.group;
  const group = `${org}|${month}|${l.requests_per_minute}|${l.concurrent_requests}|${l.monthly_requests}|${l.monthly_units}`;
  groups.set(l, { org, month, group });
  return group;
}

/**
 * A concurrency lease this process holds, linked into RedisLimits' list of held leases for the
 * renewals. A list rather than a Map: a Map that takes and drops an entry per request keeps
 * reallocating its tables, and a long-lived Map's tables keep young objects alive across GCs.
 */
class HeldLease {
  prev: HeldLease | null = null;
  next: HeldLease | null = null;
  private owner: RedisLimits | null;
  readonly key: string;
  readonly id: string;
  /** See RedisLimits.lease. */
  readonly hold: number;

  constructor(owner: RedisLimits, key: string, id: string, hold: number) {
    this.owner = owner;
    this.key = key;
    this.id = id;
    this.hold = hold;
  }

  /** Idempotent. */
  release(): void {
    const owner = this.owner;
    if (owner === null) return;
    this.owner = null;
    owner.released(this);
  }
}

/** How long permits taken in advance may wait for a request. */
const ALLOWANCE_MS = 100;
/** The most permits taken in advance at once. */
const MAX_BLOCK = 32;

/**
 * Permits per advance for these limits: at most 0.1% of a per-minute limit and 1% of a
 * concurrency limit, so that what one process holds unused is a small share; 1 (none in advance)
 * with monthly quotas, which are counted exactly.
 */
export function blockSize(l: Limits): number {
  if (l.monthly_requests !== null || l.monthly_units !== null) return 1;
  let k = MAX_BLOCK;
  if (l.requests_per_minute !== null) k = Math.min(k, Math.floor(l.requests_per_minute / 1000));
  if (l.concurrent_requests !== null) k = Math.min(k, Math.floor(l.concurrent_requests / 100));
  return Math.max(1, k);
}

export class RedisLimits implements LimitStore {
  private readonly link: RedisLink;
  private readonly leaseMs: number;
  private readonly fallback = new MemoryLimits();
  /** org|month whose Redis counters were raised to the database's figures by this process. */
  private readonly seeded = new Set<string>();
  /** Leases held by this process (renewed until released): an intrusive list, see HeldLease. */
  private held: HeldLease | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Lease ids released and not sent yet, per lease key; `releasesDue` once any is. */
  private readonly releases = new Map<string, Released>();
  private releasesDue = false;
  /** Admits waiting for this event-loop turn's script runs. */
  private batches: Batch[] = [];
  private scheduled = false;
  private readonly groups = new Map<string, Group>();
  /** Groups asking for permits in advance with this turn's batches. */
  private askers: Group[] = [];
  private expiring: NodeJS.Timeout | null = null;
  private releasing: NodeJS.Timeout | null = null;

  constructor(link: RedisLink, leaseMs: number) {
    this.link = link;
    this.leaseMs = leaseMs;
    link.onResync(() => this.seeded.clear());
  }

  private key(org: string, what: string): string {
    return `${this.link.prefix}rl:{${org}}:${what}`;
  }

  admit(input: AdmitInput): AdmitResult | Promise<AdmitResult> {
    if (!this.link.usable()) return this.fallback.admit(input);
    const { org, month, limits: l } = input;
    if ((l.monthly_requests !== null || l.monthly_units !== null) && !this.seeded.has(`${org}|${month}`)) return this.seedThenAdmit(input);
    return this.admitSeeded(input);
  }

  /** Raises the organization's monthly counters in Redis to the database's figures first. */
  private async seedThenAdmit(input: AdmitInput): Promise<AdmitResult> {
    const { org, month } = input;
    try {
      const seed = await input.seed();
      await this.link.client.porticoSeed(this.key(org, `req:${month}`), this.key(org, `units:${month}`), seed.requests, seed.units, input.monthTtlS);
      this.seeded.add(`${org}|${month}`);
    } catch (err) {
      this.link.failed(err);
      return this.fallback.admit(input);
    }
    return this.admitSeeded(input);
  }

  /** With a permit taken in advance, at once; otherwise with this turn's batch. */
  private admitSeeded(input: AdmitInput): AdmitResult | Promise<AdmitResult> {
    const { org, month, limits: l } = input;
    const now = Date.now();
    const g = this.group(groupOf(org, month, l), now);
    const ask = this.advance(g, l, now);
    const permit = g.allowance?.take(now);
    if (permit !== undefined) return { verdict: 'ok', windowCount: permit.windowCount, windowResetMs: Math.max(0, permit.resetAt - now), lease: permit.lease };
    // Joins the organization's batch for this event-loop turn (same limits and month).
    const group = g;
    return new Promise((resolve) => {
      let batch = group.filling;
      if (batch === null || batch.waiting.length >= MAX_BATCH) {
        batch = { group, extra: 0, waiting: [] };
        group.filling = batch;
        this.batches.push(batch);
        this.schedule();
      }
      batch.waiting.push({ input, resolve });
      // Asked with the organization's last batch of the turn, after every request of the turn.
      if (ask > 0 && !group.asking) {
        group.asking = true;
        group.ask = ask;
        this.askers.push(group);
      }
    });
  }

  /** The group's record; past MAX_GROUPS, idle ones (a past month, changed limits) are dropped first. */
  private group(key: string, now: number): Group {
    let g = this.groups.get(key);
    if (g !== undefined) return g;
    if (this.groups.size >= MAX_GROUPS) {
      for (const [k, x] of this.groups) {
        if (x.filling === null && x.allowance === null && !x.asking && now - x.since >= ALLOWANCE_MS) this.groups.delete(k);
      }
    }
    g = { key, filling: null, ask: 0, asking: false, since: 0, n: 0, allowance: null };
    this.groups.set(key, g);
    return g;
  }

  /**
   * How many permits to ask for in advance with this turn's admits (called for every admit). A
   * process that admits an organization's requests at a high rate takes a few more permits
   * (window entries and concurrency slots) than it needs, and uses them for its next requests
   * without a round trip. Limits stay "at most N" across processes: a permit counts in Redis from
   * the moment it is taken (dated ALLOWANCE_MS ahead in the window), and one unused after
   * ALLOWANCE_MS is given back (its slot) or simply counted (its window entry). So this only ever
   * refuses a little early, and only for limits large enough that a block is a small share of
   * them (blockSize). One ask at a time per organization.
   */
  private advance(g: Group, l: Limits, now: number): number {
    const k = blockSize(l);
    if (k <= 1) return 0;
    if (now - g.since >= ALLOWANCE_MS) {
      g.since = now;
      g.n = 0;
    }
    // Hot: more admits in the last ALLOWANCE_MS than a block holds.
    return ++g.n > k ? k : 0;
  }

  /** Admits and lease releases of this event-loop turn go out together once it ends. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.send());
  }

  /**
   * One script run per organization batch (see ADMIT_LUA), carrying that organization's released
   * leases; other releases as one ZREM per organization; all in one write.
   */
  private send(): void {
    this.scheduled = false;
    const batches = this.batches;
    this.batches = [];
    for (const g of this.askers) {
      g.filling!.extra = g.ask;
      g.ask = 0;
    }
    this.askers = [];
    for (const batch of batches) batch.group.filling = null;
    const sends: [Batch, string[]][] = [];
    const carried = new Set<string>();
    for (const batch of batches) {
      // The organization's first batch carries its releases; Lua unpacks at most a few thousand
      // values, so a larger burst goes by ZREM below, which Redis runs before the scripts.
      const key = this.key(batch.waiting[0]!.input.org, 'lease');
      const r = carried.has(key) ? undefined : this.releases.get(key);
      carried.add(key);
      sends.push([batch, r === undefined ? [] : r.ids.splice(0, MAX_BATCH)]);
    }
    // One explicit pipeline (one write) for the turn: releases first, which Redis then runs
    // before the scripts. Not auto-pipelining: it keeps a Map of pipelines per turn and sends on a
    // later tick.
    const p = this.link.usable() ? (this.link.client.pipeline() as unknown as TurnPipeline) : null;
    let queued = 0;
    if (this.releasesDue) {
      for (const r of this.releases.values()) {
        if (r.ids.length === 0) continue;
        if (p !== null) {
          p.zrem(r.key, ...r.ids);
          queued++;
        }
        r.ids = []; // unsent releases expire with their lease time
      }
      this.releasesDue = false;
    }
    const runs = sends.map(([batch, released]) => this.script(p, batch, released));
    if (p === null) {
      for (const run of runs) this.fail(run, null);
      return;
    }
    if (queued + runs.length === 0) return;
    p.exec().then(
      (results) =>
        runs.forEach((run, i) => {
          const [err, out] = results?.[queued + i] ?? [new Error('no reply'), null];
          if (err) this.fail(run, err);
          else this.admitted(run, out as number[]);
        }),
      (err: unknown) => {
        for (const run of runs) this.fail(run, err);
      },
    );
  }

  /** Queues one batch's admit script (see ADMIT_LUA) on the turn's pipeline. */
  private script(p: TurnPipeline | null, batch: Batch, released: string[]): ScriptRun {
    const { waiting, extra } = batch;
    const { org, month, limits: l, monthTtlS, id: firstId } = waiting[0]!.input;
    const keys = [this.key(org, 'win'), this.key(org, 'lease'), this.key(org, `req:${month}`), this.key(org, `units:${month}`), this.key(org, 'win:n')];
    const n = (v: number | null) => (v === null ? -1 : v);
    const ids = waiting.map((w) => w.input.id);
    for (let i = 0; i < extra; i++) ids.push(`${firstId}+${i}`);
    p?.porticoAdmit(
      ...keys,
      n(l.requests_per_minute),
      n(l.concurrent_requests),
      n(l.monthly_requests),
      n(l.monthly_units),
      this.leaseMs,
      monthTtlS,
      extra > 0 ? ALLOWANCE_MS : 0,
      released.length,
      ...released,
      ...ids,
    );
    return { batch, leaseKey: keys[1]!, ids, limits: l };
  }

  /** Redis failed or is away: this batch is checked by the in-process fallback. */
  private fail(run: ScriptRun, err: unknown): void {
    if (run.batch.extra > 0) run.batch.group.asking = false;
    if (err !== null && this.link.usable()) this.link.failed(err);
    for (const w of run.batch.waiting) w.resolve(this.fallback.admit(w.input));
  }

  /** The script's verdicts, in arrival order; then the permits asked in advance, if any. */
  private admitted(run: ScriptRun, out: number[]): void {
    if (this.link.outage) this.link.recovered();
    const { batch, leaseKey, ids, limits: l } = run;
    const { waiting, extra } = batch;
    const at = Date.now();
    const hold = blockSize(l);
    const [n, refusal, before, reset] = out as [number, number, number, number];
    const windowResetMs = Math.max(0, reset);
    const resultOf = (i: number): AdmitResult => {
      const ok = i < n;
      const windowCount = l.requests_per_minute === null ? 0 : before + (ok ? i + 1 : n);
      const lease = ok && l.concurrent_requests !== null ? this.lease(leaseKey, ids[i]!, hold) : null;
      return { verdict: ok ? 'ok' : (VERDICTS[refusal] ?? 'ok'), windowCount, windowResetMs, lease };
    };
    waiting.forEach((w, i) => w.resolve(resultOf(i)));
    if (extra === 0) return;
    batch.group.asking = false;
    let allowance = batch.group.allowance;
    for (let i = waiting.length; i < ids.length; i++) {
      const r = resultOf(i);
      if (r.verdict !== 'ok') continue;
      allowance ??= new Allowance();
      allowance.add({ windowCount: r.windowCount, lease: r.lease, until: at + ALLOWANCE_MS, resetAt: at + r.windowResetMs });
    }
    if (allowance !== null) {
      batch.group.allowance = allowance;
      this.expireSoon();
    }
  }

  /**
   * Permits nobody came for give their slots back once their ALLOWANCE_MS are over, on a timer of
   * their own: the lease renewal tick (a third of the lease time) would hold them for seconds.
   */
  private expireSoon(): void {
    if (this.expiring !== null) return;
    this.expiring = setTimeout(() => {
      this.expiring = null;
      const now = Date.now();
      let left = false;
      for (const g of this.groups.values()) {
        if (g.allowance === null) continue;
        if (g.allowance.expire(now)) g.allowance = null;
        else left = true;
      }
      if (left) this.expireSoon();
    }, ALLOWANCE_MS);
    this.expiring.unref();
  }

  /**
   * A concurrency lease. Its release goes to Redis with the organization's next admits of this
   * event-loop turn, or in one ZREM per organization at the end of the turn; for limits large
   * enough to take permits in advance (`hold` > 1), releases wait until `hold` of them are due,
   * the organization's next admit script, or ALLOWANCE_MS, whichever comes first. Like a permit
   * taken in advance, a slot held a little longer can only refuse early, never admit over the
   * limit, and `hold` is at most 1% of the limit; a busy process then writes to Redis about once
   * per block instead of once per request.
   */
  private lease(key: string, id: string, hold: number): AdmitResult['lease'] {
    const l = new HeldLease(this, key, id, hold);
    l.next = this.held;
    if (this.held !== null) this.held.prev = l;
    this.held = l;
    if (!this.timer) {
      this.timer = setInterval(() => this.renew(), Math.max(250, Math.floor(this.leaseMs / 3)));
      this.timer.unref();
    }
    return l;
  }

  /** HeldLease.release: off the list, and on its way to Redis. */
  released(l: HeldLease): void {
    if (l.prev !== null) l.prev.next = l.next;
    else this.held = l.next;
    if (l.next !== null) l.next.prev = l.prev;
    l.prev = l.next = null;
    // When Redis is away the lease simply expires.
    if (!this.link.usable()) return;
    let r = this.releases.get(l.key);
    if (r === undefined) this.releases.set(l.key, (r = { key: l.key, ids: [] }));
    r.ids.push(l.id);
    this.releasesDue = true;
    if (r.ids.length >= l.hold) this.schedule();
    else this.releaseSoon();
  }

  /** Releases held back (see `lease`) go out within ALLOWANCE_MS even when nothing else is sent. */
  private releaseSoon(): void {
    if (this.releasing !== null) return;
    this.releasing = setTimeout(() => {
      this.releasing = null;
      if (this.releasesDue) this.schedule();
    }, ALLOWANCE_MS);
    this.releasing.unref();
  }

  /** One pipeline a tick extends every lease this process holds (streams still running). */
  private renew(): void {
    if (this.held === null) {
      clearInterval(this.timer!);
      this.timer = null;
      return;
    }
    if (!this.link.usable()) return;
    const p = this.link.client.pipeline() as unknown as PorticoCommands & { exec(): Promise<unknown> };
    for (let l: HeldLease | null = this.held; l !== null; l = l.next) p.porticoRenew(l.key, l.id, this.leaseMs);
    p.exec().catch(() => {});
  }

  addUnits(org: string, month: string, monthTtlS: number, units: number): void {
    this.fallback.addUnits(org, month, monthTtlS, units);
    if (!this.link.usable()) return;
    const key = this.key(org, `units:${month}`);
    this.link.client
      .pipeline()
      .incrby(key, units)
      .expire(key, monthTtlS)
      .exec()
      .catch(() => {});
  }

  forgetSeeds(): void {
    this.seeded.clear();
    this.fallback.forgetSeeds();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.expiring) clearTimeout(this.expiring);
    this.expiring = null;
    if (this.releasing) clearTimeout(this.releasing);
    this.releasing = null;
    // Releases still held go out now, so that other processes get those slots back at once.
    if (this.releasesDue && this.link.usable()) this.send();
  }
}

interface WireRecord {
  fp: string;
  st: IdempotencyRecord['state'];
  tok?: string;
  res?: StoredResponse | null;
}

export class RedisIdempotency implements IdempotencyStore {
  private readonly link: RedisLink;
  private readonly leaseMs: number;
  private readonly fallback: IdempotencyStore;
  private readonly held = new Map<string, string>(); // key → token
  private timer: NodeJS.Timeout | null = null;

  constructor(link: RedisLink, leaseMs: number, fallback: IdempotencyStore) {
    this.link = link;
    this.leaseMs = leaseMs;
    this.fallback = fallback;
  }

  async reserve(org: string, key: string, fingerprint: string): Promise<ReserveResult> {
    if (!this.link.usable()) return this.fallback.reserve(org, key, fingerprint);
    const k = `${this.link.prefix}idem:{${org}}:${key}`;
    const tok = randomBytes(9).toString('base64url');
    let found: string | null;
    try {
      found = await this.link.client.porticoIdemReserve(k, JSON.stringify({ fp: fingerprint, st: 'in_flight', tok } satisfies WireRecord), this.leaseMs);
    } catch (err) {
      this.link.failed(err);
      return this.fallback.reserve(org, key, fingerprint);
    }
    if (found !== null) {
      const r = JSON.parse(found) as WireRecord;
      return { existing: { fingerprint: r.fp, state: r.st, response: r.res ?? null } };
    }
    return { reserved: this.hold(k, tok, fingerprint) };
  }

  private hold(k: string, tok: string, fp: string): Reservation {
    this.held.set(k, tok);
    if (!this.timer) {
      this.timer = setInterval(() => this.renew(), Math.max(250, Math.floor(this.leaseMs / 3)));
      this.timer.unref();
    }
    const update = async (op: string, ttl: number, rec: string): Promise<void> => {
      if (this.held.get(k) !== tok) return;
      this.held.delete(k);
      // When Redis is away an in-flight record expires by itself (the client may then retry).
      if (this.link.usable()) await this.link.client.porticoIdemUpdate(k, tok, op, ttl, rec).catch(() => {});
    };
    return {
      complete: (state, response) => update('set', IDEMPOTENCY_TTL_MS, JSON.stringify({ fp, st: state, res: response } satisfies WireRecord)),
      abandon: () => update('del', 0, ''),
    };
  }

  private renew(): void {
    if (this.held.size === 0) {
      clearInterval(this.timer!);
      this.timer = null;
      return;
    }
    if (!this.link.usable()) return;
    const p = this.link.client.pipeline() as unknown as PorticoCommands & { exec(): Promise<unknown> };
    for (const [k, tok] of this.held) p.porticoIdemUpdate(k, tok, 'renew', this.leaseMs, '');
    p.exec().catch(() => {});
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.fallback.close();
  }
}

type Wire = BusMessage & { o: string };

/** Pub/sub for invalidation and cool-downs; cool-downs also persist in a sorted set. */
export class RedisBus implements Bus {
  private readonly link: RedisLink;
  private readonly origin = randomBytes(8).toString('hex');
  private readonly listeners: ((msg: BusMessage) => void)[] = [];
  private readonly cooldownKey: string;

  constructor(link: RedisLink) {
    this.link = link;
    this.cooldownKey = `${link.prefix}cooldowns`;
    link.onMessage((raw) => {
      let msg: Wire;
      try {
        msg = JSON.parse(raw) as Wire;
      } catch {
        return;
      }
      if (msg.o !== this.origin) this.emit(msg);
    });
    link.onResync(() => void this.resync());
  }

  /** Loads the cool-downs other processes decided, then drops every cache. */
  async resync(): Promise<void> {
    await this.loadCooldowns();
    this.emit({ t: 'resync' });
  }

  async loadCooldowns(): Promise<void> {
    if (!this.link.usable()) return;
    try {
      const flat = await this.link.client.zrangebyscore(this.cooldownKey, Date.now(), '+inf', 'WITHSCORES');
      for (let i = 0; i + 1 < flat.length; i += 2) this.emit({ t: 'cd', id: flat[i]!, until: Number(flat[i + 1]) });
    } catch (err) {
      this.link.failed(err);
    }
  }

  private emit(msg: BusMessage): void {
    for (const l of this.listeners) l(msg);
  }

  publish(msg: BusMessage): void {
    if (!this.link.usable()) return;
    const wire = JSON.stringify({ ...msg, o: this.origin });
    const m = this.link.client.multi();
    if (msg.t === 'cd') m.zremrangebyscore(this.cooldownKey, '-inf', Date.now()).zadd(this.cooldownKey, msg.until, msg.id);
    else if (msg.t === 'cdc') m.zrem(this.cooldownKey, msg.id);
    m.publish(this.link.channel, wire)
      .exec()
      .catch((err: unknown) => this.link.failed(err));
  }

  onMessage(listener: (msg: BusMessage) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {}
}

export interface RedisStateOptions {
  url: string;
  prefix: string;
  leaseMs: number;
  log: Logger;
  /** Where idempotency records go while Redis is away (the database). */
  fallbackIdempotency: IdempotencyStore;
}

export class RedisState extends BusState {
  private readonly link: RedisLink;

  private constructor(link: RedisLink, bus: RedisBus, o: RedisStateOptions) {
    super(bus, new RedisLimits(link, o.leaseMs), new RedisIdempotency(link, o.leaseMs, o.fallbackIdempotency));
    this.link = link;
  }

  /** Connects (waiting at most 2 s; an unreachable Redis only means fail-open until it returns). */
  static async connect(o: RedisStateOptions): Promise<RedisState> {
    const link = new RedisLink(o.url, o.prefix, o.log);
    const bus = new RedisBus(link);
    const state = new RedisState(link, bus, o);
    await link.waitReady(2000);
    await bus.loadCooldowns();
    return state;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.link.close();
  }
}
