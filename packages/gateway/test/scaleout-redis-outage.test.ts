// SPEC §13: if Redis becomes unreachable, invokes keep working (limits per process, fail-open)
// with one warning line, and sharing resumes when it returns. Runs its own redis-server on a
// free port, kills it mid-run and restarts it; two gateways on one PostgreSQL schema stand in for
// two processes. Also: a gateway that starts while Redis is down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { dropSchema, expectError, freshSchema, postgresAvailable, startGateway, type TestGateway } from './helpers.ts';
import { seedCredential, seedKey, seedOrg } from './fixtures.ts';
import { INVOKE, freePort, redisPrefix, sleep, upstream, warnings } from './scaleout-helpers.ts';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
const skip = (!hasRedisServer && 'redis-server not installed') || (!(await postgresAvailable()) && 'PostgreSQL unreachable');

async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  for (let i = 0; ; i++) {
    try {
      await probe.connect();
      await probe.ping();
      break;
    } catch {
      if (i > 100) throw new Error('redis-server did not start');
      await sleep(50);
    }
  }
  probe.disconnect();
  return proc;
}

async function stopRedis(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

const lines = (gw: TestGateway) => gw.logs.join('').split('\n');
const redisWarnings = (gw: TestGateway) => warnings(lines(gw), 'redis');
const recovered = (gw: TestGateway) => lines(gw).filter((l) => l.includes('redis reachable again')).length;

test('Redis killed mid-run: invokes keep working per process, one warning, sharing resumes after restart', { skip, timeout: 60_000 }, async () => {
  const port = await freePort();
  let redis = await startRedis(port);
  const schema = freshSchema();
  const up = await upstream();
  const env = { PORTICO_REDIS_URL: `redis://127.0.0.1:${port}`, PORTICO_REDIS_PREFIX: redisPrefix(), PORTICO_BASE_URL_ELEVENLABS: up.url };
  const a = await startGateway({ db: 'postgres', schema, env });
  const b = await startGateway({ db: 'postgres', schema, env });
  try {
    await seedOrg(a, 'acme');
    const key = await seedKey(a, 'acme');
    const spare = await seedKey(a, 'acme', 'member');
    await seedCredential(a, { service: 'elevenlabs', scope: 'platform', key: 'sk_outage_key_0001' });
    assert.equal((await a.api('PATCH', '/api/v1/admin/organizations/acme', { body: { limits: { requests_per_minute: 6 } } })).status, 200);
    const voices = (gw: TestGateway, token = key) => gw.api('POST', `${INVOKE}/list-voices`, { token, body: {} });

    // Shared: 6 a minute over both gateways.
    for (let i = 0; i < 6; i++) assert.equal((await voices(i % 2 ? b : a)).status, 200);
    expectError(assert, await voices(a), 429, 'rate_limited', 'Request was throttled.');
    expectError(assert, await voices(b), 429, 'rate_limited', 'Request was throttled.');

    // Redis dies: every invoke still answers (limits now per process, from an empty window).
    await stopRedis(redis);
    const during: number[] = [];
    for (let i = 0; i < 10; i++) during.push((await voices(i % 2 ? b : a)).status);
    assert.deepEqual(during, Array(10).fill(200));
    for (const gw of [a, b]) assert.equal(redisWarnings(gw).length, 1, lines(gw).join('\n'));
    // Per process: each gateway enforces 6 on its own.
    for (let i = 0; i < 2; i++) await voices(a);
    expectError(assert, await voices(a), 429, 'rate_limited', 'Request was throttled.');

    // Redis returns (empty): both reconnect and share again.
    redis = await startRedis(port);
    const t0 = Date.now();
    while (recovered(a) < 1 || recovered(b) < 1) {
      assert.ok(Date.now() - t0 < 5000, 'no reconnection');
      await sleep(50);
    }
    console.log(`# reconnected ${Date.now() - t0} ms after Redis came back`);
    // Admin changes propagate again (a key revoked through a, refused by b within a second).
    assert.equal((await voices(b, spare)).status, 200);
    const id = (await a.gateway.ctx.store.db.selectFrom('api_keys').select('id').where('role', '=', 'member').executeTakeFirstOrThrow()).id;
    assert.equal((await a.api('DELETE', `/api/v1/admin/organizations/acme/api-keys/${id}`)).status, 204);
    const t1 = Date.now();
    while ((await voices(b, spare)).status !== 401) {
      assert.ok(Date.now() - t1 < 1000, 'invalidation not shared after recovery');
      await sleep(20);
    }
    // Limits are shared again (in the restarted, empty Redis): what is left of the 6 goes over both.
    const next = await voices(b);
    assert.equal(next.status, 200);
    const left = Number(next.headers.get('ratelimit-remaining'));
    assert.ok(left >= 1 && left <= 4, `remaining ${left}`);
    for (let i = 0; i < left; i++) assert.equal((await voices(i % 2 ? b : a)).status, 200);
    expectError(assert, await voices(a), 429, 'rate_limited', 'Request was throttled.');
    expectError(assert, await voices(b), 429, 'rate_limited', 'Request was throttled.');
    // Still one warning line per process for the whole outage.
    for (const gw of [a, b]) assert.equal(redisWarnings(gw).length, 1);
  } finally {
    await a.close();
    await b.close();
    await stopRedis(redis);
    await up.close();
    await dropSchema(schema);
  }
});

test('a gateway that starts while Redis is down serves at once, warns once, and shares once Redis is up', { skip, timeout: 30_000 }, async () => {
  const port = await freePort();
  const prefix = redisPrefix();
  const up = await upstream();
  const started = Date.now();
  const gw = await startGateway({ env: { PORTICO_REDIS_URL: `redis://127.0.0.1:${port}`, PORTICO_REDIS_PREFIX: prefix, PORTICO_BASE_URL_ELEVENLABS: up.url } });
  let redis: ChildProcess | null = null;
  try {
    assert.ok(Date.now() - started < 5000);
    await seedOrg(gw, 'acme');
    const key = await seedKey(gw, 'acme');
    await seedCredential(gw, { service: 'elevenlabs', scope: 'platform', key: 'sk_outage_key_0001' });
    assert.equal((await gw.api('PATCH', '/api/v1/admin/organizations/acme', { body: { limits: { requests_per_minute: 100 } } })).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await gw.api('POST', `${INVOKE}/list-voices`, { token: key, body: {} })).status, 200);
    assert.equal(redisWarnings(gw).length, 1);

    redis = await startRedis(port);
    const t0 = Date.now();
    while (recovered(gw) < 1) {
      assert.ok(Date.now() - t0 < 5000, 'no connection');
      await sleep(50);
    }
    const r = await gw.api('POST', `${INVOKE}/list-voices`, { token: key, body: {} });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('ratelimit-remaining'), '99', 'counted in the (empty) Redis window');
    const probe = new Redis(port, '127.0.0.1');
    assert.equal(await probe.zcard(`${prefix}rl:{acme}:win`), 1);
    probe.disconnect();
    assert.equal(redisWarnings(gw).length, 1);
  } finally {
    await gw.close();
    if (redis) await stopRedis(redis);
    await up.close();
  }
});
