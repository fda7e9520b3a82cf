// The Redis SharedState (SPEC §13 scale-out) exercised directly, several instances on one key
// prefix standing in for several processes: invalidation and cool-downs by pub/sub, an exact
// sliding window across instances, concurrency leases that are renewed while held and expire when
// their holder dies, monthly counters raised from the database's figures, idempotency records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../src/logger.ts';
import { NO_LIMITS, type Limits } from '../src/registry.ts';
import { MemoryIdempotency, type AdmitInput, type SharedState } from '../src/state/index.ts';
import { Redis } from 'ioredis';
import { RedisState, blockSize } from '../src/state/redis.ts';
import { REDIS_URL } from './helpers.ts';
import { dropRedisPrefix, redisAvailable, redisPrefix, sleep } from './scaleout-helpers.ts';

const skip = !(await redisAvailable()) && 'Redis unreachable';
const log = createLogger('silent');

async function states(n: number, prefix: string, leaseMs = 30_000): Promise<RedisState[]> {
  return Promise.all(
    Array.from({ length: n }, () => RedisState.connect({ url: REDIS_URL, prefix, leaseMs, log, fallbackIdempotency: new MemoryIdempotency() })),
  );
}

let seq = 0;
function input(limits: Partial<Limits>, extra: Partial<AdmitInput> = {}): AdmitInput {
  return {
    org: 'acme',
    limits: { ...NO_LIMITS, ...limits },
    id: `r${seq++}`,
    month: '203001',
    monthTtlS: 3600,
    seed: async () => ({ requests: 0, units: 0 }),
    ...extra,
  };
}

async function until(check: () => boolean, ms = 1000): Promise<number> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms`);
    await sleep(10);
  }
  return Date.now() - t0;
}

async function closeAll(list: SharedState[], prefix: string): Promise<void> {
  await Promise.all(list.map((s) => s.close()));
  await dropRedisPrefix(prefix);
}

test('invalidation and cool-downs reach every other instance within a second; late joiners load cool-downs', { skip }, async () => {
  const prefix = redisPrefix();
  const [a, b, c] = await states(3, prefix);
  let late: RedisState | null = null;
  try {
    let seenB = 0;
    let seenC = 0;
    b!.onInvalidation(() => seenB++);
    c!.onInvalidation(() => seenC++);
    a!.publishInvalidation();
    const ms = await until(() => seenB === 1 && seenC === 1);
    assert.ok(ms < 1000);

    a!.cooldowns.coolDown('cred-1', 60_000);
    assert.equal(a!.cooldowns.isCoolingDown('cred-1'), true);
    await until(() => b!.cooldowns.isCoolingDown('cred-1') && c!.cooldowns.isCoolingDown('cred-1'));
    late = (await states(1, prefix))[0]!;
    assert.equal(late.cooldowns.isCoolingDown('cred-1'), true, 'a process that starts later knows the cool-down');
    b!.cooldowns.clear('cred-1');
    await until(() => !a!.cooldowns.isCoolingDown('cred-1') && !c!.cooldowns.isCoolingDown('cred-1') && !late!.cooldowns.isCoolingDown('cred-1'));
  } finally {
    await closeAll([a!, b!, c!, ...(late ? [late] : [])], prefix);
  }
});

test('a per-minute limit of 60 admits exactly 60 of 200 concurrent checks spread over three instances', { skip }, async () => {
  const prefix = redisPrefix();
  const list = await states(3, prefix);
  try {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => list[i % 3]!.limits.admit(input({ requests_per_minute: 60 }))));
    assert.equal(results.filter((r) => r.verdict === 'ok').length, 60);
    assert.equal(results.filter((r) => r.verdict === 'rate_limited').length, 140);
    const refused = results.find((r) => r.verdict === 'rate_limited')!;
    assert.equal(refused.windowCount, 60);
    assert.ok(refused.windowResetMs > 58_000 && refused.windowResetMs <= 60_000);
    // Admits of one turn go to Redis as one batch per instance; each still gets its own place.
    const counts = results.filter((r) => r.verdict === 'ok').map((r) => r.windowCount);
    assert.deepEqual(
      counts.sort((x, y) => x - y),
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
  } finally {
    await closeAll(list, prefix);
  }
});

test('the window slides: entries older than 60 s leave the count, and a lost running total is counted again', { skip }, async () => {
  const prefix = redisPrefix();
  const [a] = await states(1, prefix);
  const probe = new Redis(REDIS_URL);
  const win = `${prefix}rl:{acme}:win`;
  try {
    const lim = { requests_per_minute: 10 };
    // Three turns: one window entry per script run, weighted by the requests it admitted.
    for (const n of [3, 2, 4]) {
      const turn = await Promise.all(Array.from({ length: n }, () => a!.limits.admit(input(lim))));
      assert.ok(turn.every((r) => r.verdict === 'ok'));
    }
    const entries = await probe.zrange(win, '0', '-1');
    assert.deepEqual(entries.map((m) => Number(m.split('|')[0])).sort(), [2, 3, 4]);
    assert.equal((await a!.limits.admit(input(lim))).windowCount, 10);
    assert.equal((await a!.limits.admit(input(lim))).verdict, 'rate_limited');

    // The run that admitted 3 happened 61 s ago: its requests no longer count.
    const three = entries.find((m) => m.startsWith('3|'))!;
    await probe.zadd(win, 'XX', String(Date.now() - 61_000), three);
    const after = await a!.limits.admit(input(lim));
    assert.equal(after.verdict, 'ok');
    assert.equal(after.windowCount, 8, '10 - 3 expired + this one');
    assert.equal(await probe.zscore(win, three), null, 'the expired entry is gone');

    // Without its running total (evicted, or written by an older version), the window is counted from its entries.
    await probe.del(`${win}:n`);
    await probe.zadd(win, String(Date.now()), 'legacy-entry-without-weight');
    const recount = await a!.limits.admit(input(lim));
    assert.equal(recount.windowCount, 10, '8 + one unweighted entry + this one');
    assert.equal((await a!.limits.admit(input(lim))).verdict, 'rate_limited');
  } finally {
    probe.disconnect();
    await closeAll([a!], prefix);
  }
});

test('one batch of admits applies every limit in order: concurrency, then the monthly quota', { skip }, async () => {
  const prefix = redisPrefix();
  const [a] = await states(1, prefix);
  try {
    const conc = await Promise.all(Array.from({ length: 8 }, () => a!.limits.admit(input({ concurrent_requests: 5, requests_per_minute: 100 }))));
    assert.deepEqual(
      conc.map((r) => r.verdict),
      ['ok', 'ok', 'ok', 'ok', 'ok', 'concurrency', 'concurrency', 'concurrency'],
    );
    // Refused requests take no place in the window.
    assert.deepEqual(
      conc.map((r) => r.windowCount),
      [1, 2, 3, 4, 5, 5, 5, 5],
    );
    // Releases and admits of the same turn travel in one script run, releases first.
    for (const r of conc) r.lease?.release();
    const again = await Promise.all(Array.from({ length: 6 }, () => a!.limits.admit(input({ concurrent_requests: 5, requests_per_minute: 100 }))));
    assert.deepEqual(
      again.map((r) => r.verdict),
      ['ok', 'ok', 'ok', 'ok', 'ok', 'concurrency'],
    );
    for (const r of again) r.lease?.release();
    await sleep(30);
    assert.equal((await a!.limits.admit(input({ concurrent_requests: 5 }))).verdict, 'ok', 'released leases free their slots');

    const quota = await Promise.all(Array.from({ length: 6 }, () => a!.limits.admit(input({ monthly_requests: 4 }, { org: 'beta' }))));
    assert.deepEqual(
      quota.map((r) => r.verdict),
      ['ok', 'ok', 'ok', 'ok', 'quota_exceeded', 'quota_exceeded'],
    );
  } finally {
    await closeAll([a!], prefix);
  }
});

test('bursts larger than one script run: every admit answered, every release applied', { skip }, async () => {
  const prefix = redisPrefix();
  const [a] = await states(1, prefix);
  try {
    const lim = { concurrent_requests: 450, requests_per_minute: 100_000 };
    const first = await Promise.all(Array.from({ length: 500 }, () => a!.limits.admit(input(lim))));
    assert.equal(first.filter((r) => r.verdict === 'ok').length, 450);
    assert.equal(first.filter((r) => r.verdict === 'concurrency').length, 50);
    // 450 releases and 450 admits in one turn: more than one script carries or admits.
    for (const r of first) r.lease?.release();
    const second = await Promise.all(Array.from({ length: 450 }, () => a!.limits.admit(input(lim))));
    assert.equal(second.filter((r) => r.verdict === 'ok').length, 450);
    for (const r of second) r.lease?.release();
    await sleep(50);
    assert.equal((await a!.limits.admit(input(lim))).verdict, 'ok');
  } finally {
    await closeAll([a!], prefix);
  }
});

/** Admits `total` requests on `state`, `perTurn` at a time (each group in its own event-loop turn). */
async function admitInTurns(state: RedisState, lim: Partial<Limits>, total: number, perTurn: number, org = 'acme') {
  const out = [];
  for (let done = 0; done < total; done += perTurn) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(perTurn, total - done) }, () => state.limits.admit(input(lim, { org }))))));
    await new Promise((r) => setImmediate(r));
  }
  return out;
}

test('large limits: a busy process takes permits in advance, skips most round trips, and the limit still holds across instances', { skip }, async () => {
  assert.equal(blockSize({ ...NO_LIMITS, requests_per_minute: 60 }), 1, 'small limits are exact');
  assert.equal(blockSize({ ...NO_LIMITS, requests_per_minute: 5000, monthly_requests: 10 ** 9 }), 1, 'monthly quotas are exact');
  assert.equal(blockSize({ ...NO_LIMITS, requests_per_minute: 10 ** 9, concurrent_requests: 100_000 }), 32);
  const prefix = redisPrefix();
  const list = await states(3, prefix);
  try {
    // Round trips: count the admit scripts Redis runs for 300 admits in 150 turns of one instance.
    const watcher = new Redis(REDIS_URL);
    const monitor = await watcher.monitor();
    let scripts = 0;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^evalsha$|^eval$/i.test(args[0] ?? '') && args.some((a) => a.startsWith(prefix) && a.endsWith(':win'))) scripts++;
    });
    const warmLim = { requests_per_minute: 1_000_000, concurrent_requests: 10_000 };
    const warm = await admitInTurns(list[0]!, warmLim, 300, 2);
    assert.ok(warm.every((r) => r.verdict === 'ok'));
    for (const r of warm) r.lease?.release();
    await sleep(50);
    monitor.disconnect();
    watcher.disconnect();
    assert.ok(scripts > 0 && scripts < 50, `${scripts} admit scripts for 300 admits in 150 turns`);

    // "At most N" across three busy instances: 7,500 attempts against a per-minute limit of 5,000.
    const lim = { requests_per_minute: 5000 };
    const all = (await Promise.all(list.map((st) => admitInTurns(st, lim, 2500, 3, 'beta')))).flat();
    const ok = all.filter((r) => r.verdict === 'ok');
    assert.ok(ok.length <= 5000, `${ok.length} admitted`);
    assert.ok(ok.length >= 4900, `${ok.length} admitted: permits taken in advance may refuse a little early, not much`);
    assert.ok(
      all.every((r) => r.windowCount <= 5000),
      'no answer reports a window over the limit',
    );
  } finally {
    await closeAll(list, prefix);
  }
});

test('permits taken in advance give their concurrency slots back when nobody comes for them', { skip }, async () => {
  const prefix = redisPrefix();
  // The default lease time (30 s, renewed every 10 s): giving spare slots back must not wait for a renewal.
  const [a, b] = await states(2, prefix);
  try {
    const lim = { concurrent_requests: 300 };
    const burst = await admitInTurns(a!, lim, 200, 1);
    assert.ok(burst.every((r) => r.verdict === 'ok'));
    for (const r of burst) r.lease?.release();
    // a is idle now; its spare slots are back once their 100 ms are over.
    await sleep(400);
    const all = await Promise.all(Array.from({ length: 301 }, () => b!.limits.admit(input(lim))));
    assert.equal(all.filter((r) => r.verdict === 'ok').length, 300);
    for (const r of all) r.lease?.release();
  } finally {
    await closeAll([a!, b!], prefix);
  }
});

test('a busy organization with large limits gives slots back in blocks; small limits and idle processes give them back at once', { skip }, async () => {
  const prefix = redisPrefix();
  const [a, b] = await states(2, prefix);
  const watcher = new Redis(REDIS_URL);
  const monitor = await watcher.monitor();
  try {
    let writes = 0;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^zrem$|^evalsha$/i.test(args[0] ?? '') && args.some((x) => x.startsWith(prefix) && x.endsWith(':lease'))) writes++;
    });
    // 300 requests, two per turn, each released in the next turn: with a limit of 10,000 (blocks of 32)
    // releases travel together instead of one ZREM per turn (about 170 writes).
    const lim = { concurrent_requests: 10_000 };
    let previous: Awaited<ReturnType<typeof admitInTurns>> = [];
    for (let i = 0; i < 150; i++) {
      for (const r of previous) r.lease?.release();
      previous = await admitInTurns(a!, lim, 2, 2);
      assert.ok(previous.every((r) => r.verdict === 'ok'));
    }
    for (const r of previous) r.lease?.release();
    await sleep(50);
    assert.ok(writes > 0 && writes < 90, `${writes} Redis writes for 300 admits and releases`);

    // Idle now: every slot, held releases included, is back within ALLOWANCE_MS (100 ms).
    await sleep(300);
    const all = await Promise.all(Array.from({ length: 10_001 }, () => b!.limits.admit(input(lim))));
    assert.equal(all.filter((r) => r.verdict === 'ok').length, 10_000);
    for (const r of all) r.lease?.release();

    // A limit of 1 (no blocks): a sequential client is never refused by its own previous request.
    for (let i = 0; i < 20; i++) {
      const r = await a!.limits.admit(input({ concurrent_requests: 1 }, { org: 'solo' }));
      assert.equal(r.verdict, 'ok', `request ${i}`);
      r.lease!.release();
      await new Promise((done) => setImmediate(done));
    }
  } finally {
    monitor.disconnect();
    watcher.disconnect();
    await closeAll([a!, b!], prefix);
  }
});

test('per-organization batch records stay bounded: idle ones go once there are 1,000', { skip }, async () => {
  const prefix = redisPrefix();
  const [a] = await states(1, prefix);
  try {
    const lim = { requests_per_minute: 100 };
    for (let i = 0; i < 1100; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, (_, j) => a!.limits.admit(input(lim, { org: `org${i + j}` }))));
      assert.ok(batch.every((r) => r.verdict === 'ok'));
      await sleep(110); // idle for longer than permits may wait
    }
    const groups = (a!.limits as unknown as { groups: Map<string, unknown> }).groups;
    assert.ok(groups.size <= 1000, `${groups.size} records`);
    const again = await a!.limits.admit(input(lim, { org: 'org0' }));
    assert.equal(again.verdict, 'ok');
    assert.equal(again.windowCount, 2, 'the window lives in Redis, not in the dropped record');
  } finally {
    await closeAll([a!], prefix);
  }
});

test('concurrency leases: renewed while held, released at once, expired when the holder dies', { skip }, async () => {
  const prefix = redisPrefix();
  const [a, b] = await states(2, prefix, 1000);
  try {
    const held = await a!.limits.admit(input({ concurrent_requests: 1 }));
    assert.equal(held.verdict, 'ok');
    await sleep(2500); // well past the lease time: renewals keep it
    assert.equal((await b!.limits.admit(input({ concurrent_requests: 1 }))).verdict, 'concurrency');
    held.lease!.release();
    await sleep(20);
    const second = await b!.limits.admit(input({ concurrent_requests: 1 }));
    assert.equal(second.verdict, 'ok');
    second.lease!.release();
    await sleep(20);

    // The holder dies without releasing (no more renewals): the slot frees within the lease time.
    const orphan = await a!.limits.admit(input({ concurrent_requests: 1 }));
    assert.equal(orphan.verdict, 'ok');
    await a!.close();
    const t0 = Date.now();
    assert.equal((await b!.limits.admit(input({ concurrent_requests: 1 }))).verdict, 'concurrency');
    while ((await b!.limits.admit(input({ concurrent_requests: 1 }))).verdict !== 'ok') {
      assert.ok(Date.now() - t0 < 2000, 'lease did not expire');
      await sleep(50);
    }
    assert.ok(Date.now() - t0 <= 1300, `freed after ${Date.now() - t0} ms`);
  } finally {
    await closeAll([b!], prefix);
  }
});

test('monthly counters: seeded once from the database figures, quota across instances, units counted', { skip }, async () => {
  const prefix = redisPrefix();
  const [a, b] = await states(2, prefix);
  try {
    let seeds = 0;
    const seed = async () => {
      seeds++;
      return { requests: 3, units: 0 };
    };
    const lim = { monthly_requests: 5, monthly_units: 100 };
    assert.equal((await a!.limits.admit(input(lim, { seed }))).verdict, 'ok'); // 4
    assert.equal((await b!.limits.admit(input(lim, { seed }))).verdict, 'ok'); // 5
    assert.equal((await a!.limits.admit(input(lim, { seed }))).verdict, 'quota_exceeded');
    assert.equal(seeds, 2, 'once per instance');

    a!.limits.addUnits('beta', '203001', 3600, 150);
    await sleep(30);
    assert.equal((await b!.limits.admit(input(lim, { org: 'beta' }))).verdict, 'quota_exceeded');
  } finally {
    await closeAll([a!, b!], prefix);
  }
});

test('idempotency records are shared: in flight, then done', { skip }, async () => {
  const prefix = redisPrefix();
  const [a, b] = await states(2, prefix);
  try {
    const first = await a!.idempotency.reserve('acme', 'k1', 'fp1');
    assert.ok('reserved' in first);
    const seen = await b!.idempotency.reserve('acme', 'k1', 'fp1');
    assert.ok('existing' in seen && seen.existing.state === 'in_flight');
    await first.reserved.complete('done', { status: 201, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"ok":1}').toString('base64') });
    const done = await b!.idempotency.reserve('acme', 'k1', 'fp2');
    assert.ok('existing' in done);
    assert.equal(done.existing.state, 'done');
    assert.equal(done.existing.fingerprint, 'fp1');
    assert.equal(done.existing.response?.status, 201);
    const other = await b!.idempotency.reserve('beta', 'k1', 'fp1');
    assert.ok('reserved' in other);
    await other.reserved.abandon();
    assert.ok('reserved' in (await a!.idempotency.reserve('beta', 'k1', 'fp1')));
  } finally {
    await closeAll([a!, b!], prefix);
  }
});
