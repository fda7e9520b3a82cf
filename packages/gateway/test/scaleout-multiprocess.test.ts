// SPEC §13 scale-out with real processes: three `serve` processes on one PostgreSQL schema and one
// Redis prefix, in front of one stub upstream, behave as one gateway:
//   (a) an admin change through one process takes effect in the other two within 1 s;
//   (b) 200 requests spread over the three against 60/min admit exactly 60;
//   (c) an idempotent POST sent to two processes at once reaches the upstream once;
//   (d) a key cooled down by one process is skipped by the others;
//   (e) a process killed mid-stream frees its concurrency slot within the lease time.
// And `serve` with PORTICO_WORKERS=2 (node:cluster) on SQLite without Redis: two workers that
// share admin changes through the primary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, PG_URL, REDIS_URL, dropSchema, expectError, freshSchema, postgresAvailable } from './helpers.ts';
import { INVOKE, call, dropRedisPrefix, redisAvailable, redisPrefix, sleep, spawnGateway, tts, upstream, type Child } from './scaleout-helpers.ts';

const ready = (await postgresAvailable()) && (await redisAvailable());
const ADMIN = '/api/v1/admin';
const LEASE_MS = 2000;

async function admin(url: string, method: string, path: string, body?: unknown) {
  const r = await call(url, ADMIN_TOKEN, method, ADMIN + path, body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

/** Milliseconds until `check` holds on every process (polling every 20 ms), at most 3 s. */
async function propagation(urls: string[], check: (url: string) => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  const pending = new Set(urls);
  while (pending.size > 0) {
    for (const u of [...pending]) if (await check(u)) pending.delete(u);
    if (pending.size === 0) break;
    if (performance.now() - t0 > 3000) throw new Error(`not propagated to ${[...pending].join(', ')}`);
    await sleep(20);
  }
  return performance.now() - t0;
}

test(
  'three gateway processes on one PostgreSQL schema and Redis prefix behave as one',
  { skip: !ready && 'PostgreSQL or Redis unreachable', timeout: 90_000 },
  async () => {
    const schema = freshSchema();
    const prefix = redisPrefix();
    const up = await upstream();
    const procs: Child[] = [];
    const env = {
      PORTICO_DATABASE_URL: `${PG_URL}?schema=${schema}`,
      PORTICO_REDIS_URL: REDIS_URL,
      PORTICO_REDIS_PREFIX: prefix,
      PORTICO_BASE_URL_ELEVENLABS: up.url,
      PORTICO_LEASE_MS: String(LEASE_MS),
      PORTICO_SHUTDOWN_TIMEOUT_MS: '500',
    };
    try {
      procs.push(await spawnGateway(env));
      const more = await Promise.allSettled([spawnGateway(env), spawnGateway(env)]);
      for (const r of more) if (r.status === 'fulfilled') procs.push(r.value);
      for (const r of more) if (r.status === 'rejected') throw r.reason;
      const [p1, p2, p3] = procs.map((p) => p.url) as [string, string, string];
      assert.equal(new Set(procs.map((p) => p.pid)).size, 3);

      // Everything is set up through process 1.
      await admin(p1, 'POST', '/organizations', { slug: 'acme', name: 'Acme' });
      await admin(p1, 'POST', '/organizations', { slug: 'rl', name: 'Rate limited', limits: { requests_per_minute: 60 } });
      await admin(p1, 'POST', '/organizations', { slug: 'conc', name: 'One at a time', limits: { concurrent_requests: 1 } });
      const acme = await admin(p1, 'POST', '/organizations/acme/api-keys', { name: 'k', role: 'admin' });
      const spare = await admin(p1, 'POST', '/organizations/acme/api-keys', { name: 'spare', role: 'member' });
      const rl = await admin(p1, 'POST', '/organizations/rl/api-keys', { name: 'k' });
      const conc = await admin(p1, 'POST', '/organizations/conc/api-keys', { name: 'k' });
      await admin(p1, 'POST', '/credentials', { service: 'elevenlabs', scope: 'platform', secret: 'sk_pool_key_one_0001' });
      await admin(p1, 'POST', '/credentials', { service: 'elevenlabs', scope: 'platform', secret: 'sk_pool_key_two_0002' });
      const voices = (url: string, key: string = acme.key) => call(url, key, 'POST', `${INVOKE}/list-voices`, {});
      for (const u of [p1, p2, p3]) assert.equal((await voices(u)).status, 200); // warm every cache

      // (a) Admin changes through process 1 reach processes 2 and 3 within a second.
      for (const u of [p1, p2, p3]) assert.equal((await voices(u, spare.key)).status, 200);
      await admin(p1, 'DELETE', `/organizations/acme/api-keys/${spare.id}`);
      const revoked = await propagation([p2, p3], async (u) => (await voices(u, spare.key)).status === 401);
      expectError(assert, await voices(p3, spare.key), 401, 'invalid_token', 'Invalid token.');

      await admin(p1, 'PATCH', '/services/elevenlabs', { enabled: false });
      const disabled = await propagation([p2, p3], async (u) => (await voices(u)).status === 404);
      expectError(assert, await voices(p2), 404, 'service_not_found', "External proxy service 'elevenlabs' not found or disabled.");
      await admin(p1, 'PATCH', '/services/elevenlabs', { enabled: true });
      await propagation([p2, p3], async (u) => (await voices(u)).status === 200);

      const none = { allow_tenant_key: false, allow_platform_key: false, default_source: 'platform', fallback_to_platform_key: false };
      const platform = { allow_tenant_key: false, allow_platform_key: true, default_source: 'platform', fallback_to_platform_key: false };
      await admin(p1, 'PUT', '/services/elevenlabs/credential-policy', none);
      const policy = await propagation([p2, p3], async (u) => (await voices(u)).status === 400);
      expectError(assert, await voices(p3), 400, 'invalid_credential_policy', 'Credential policy does not allow any credential source.');
      await admin(p1, 'PUT', '/services/elevenlabs/credential-policy', platform);
      await propagation([p2, p3], async (u) => (await voices(u)).status === 200);
      for (const ms of [revoked, disabled, policy]) assert.ok(ms < 1000, `propagation took ${ms} ms`);
      console.log(`# admin change propagation: key revoke ${revoked.toFixed(0)} ms, service disable ${disabled.toFixed(0)} ms, policy ${policy.toFixed(0)} ms`);

      // (b) 200 requests over three processes against 60 a minute: exactly 60 admitted.
      const before = up.requests.length;
      const statuses: number[] = [];
      for (let batch = 0; batch < 10; batch++) {
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => voices([p1, p2, p3][(batch * 20 + i) % 3]!, rl.key)));
        for (const r of results) {
          statuses.push(r.status);
          if (r.status === 429) assert.equal(r.body.error.code, 'rate_limited');
          assert.equal(r.headers.get('ratelimit-limit'), '60');
        }
      }
      assert.equal(statuses.filter((s) => s === 200).length, 60);
      assert.equal(statuses.filter((s) => s === 429).length, 140);
      assert.equal(up.requests.length - before, 60, 'refused requests never reach the upstream');

      // (c) One idempotent POST sent to two processes at once: one upstream call.
      const post = (u: string) =>
        call(u, acme.key, 'POST', `${INVOKE}/text-to-speech-with-timestamps`, tts({ delay_ms: 300 }), { 'idempotency-key': 'video-42' });
      const [r1, r2] = await Promise.all([post(p1), post(p2)]);
      assert.deepEqual([r1.status, r2.status].sort(), [200, 409]);
      expectError(assert, r1.status === 409 ? r1 : r2, 409, 'idempotency_in_progress', 'A request with this Idempotency-Key is still in progress.');
      const r3 = await post(p3);
      assert.equal(r3.status, 200);
      assert.equal(r3.headers.get('idempotent-replayed'), 'true');
      assert.equal(r3.text, (r1.status === 200 ? r1 : r2).text);
      assert.equal(up.count('with-timestamps'), 1);

      // (d) A key that process 1 cools down is skipped by processes 2 and 3.
      const K1 = 'sk_pool_key_one_0001';
      const earlier = up.withKey(K1);
      up.exhaustedKeys.add(K1);
      for (let i = 0; i < 4 && up.withKey(K1) === earlier; i++) assert.equal((await voices(p1)).status, 200); // retried on key two
      const hits = up.withKey(K1);
      assert.equal(hits, earlier + 1);
      await sleep(100);
      for (let i = 0; i < 6; i++) for (const u of [p2, p3]) assert.equal((await voices(u)).status, 200);
      assert.equal(up.withKey(K1), hits, 'no other process used the cooled-down key');
      up.exhaustedKeys.clear();

      // (e) A process killed mid-stream frees its concurrency slot within the lease time.
      const stream = await fetch(p3 + `${INVOKE}/text-to-speech-stream`, {
        method: 'POST',
        headers: { authorization: `Bearer ${conc.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ path_params: { voice_id: 'v1' }, body: { text: 'hi', hold: true } }),
      });
      assert.equal(stream.status, 200);
      await up.held();
      await sleep(LEASE_MS); // renewed while it runs
      expectError(assert, await voices(p1, conc.key), 429, 'rate_limited', 'Request was throttled.');
      const killedAt = performance.now();
      await procs[2]!.kill('SIGKILL'); // no release: only the lease's expiry can free the slot
      stream.body?.cancel().catch(() => {});
      let freedAfter = 0;
      for (;;) {
        if ((await voices(p1, conc.key)).status === 200) {
          freedAfter = performance.now() - killedAt;
          break;
        }
        assert.ok(performance.now() - killedAt < LEASE_MS + 1500, 'slot not freed');
        await sleep(50);
      }
      assert.ok(freedAfter <= LEASE_MS + 200, `freed after ${freedAfter} ms`);
      console.log(`# concurrency slot of a killed process freed after ${freedAfter.toFixed(0)} ms (lease ${LEASE_MS} ms)`);
      up.release();
    } finally {
      await Promise.all(procs.map((p) => p.kill()));
      await up.close();
      await dropSchema(schema);
      await dropRedisPrefix(prefix);
    }
  },
);

test('portico serve --workers 2 runs two workers that share admin changes (SQLite, no Redis)', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-workers-'));
  const up = await upstream();
  const gw = await spawnGateway(
    { PORTICO_WORKERS: '2', PORTICO_DATABASE_URL: `sqlite:${join(dir, 'p.db')}`, PORTICO_BASE_URL_ELEVENLABS: up.url, PORTICO_SHUTDOWN_TIMEOUT_MS: '500' },
    ['--workers', '2'],
  );
  try {
    // Both workers listen on the one port.
    for (let i = 0; i < 50 && gw.output.filter((l) => l.includes('portico listening')).length < 2; i++) await sleep(100);
    const pids = new Set(gw.output.filter((l) => l.includes('portico listening')).map((l) => JSON.parse(l).pid));
    assert.equal(pids.size, 2, gw.output.join('\n'));

    await admin(gw.url, 'POST', '/organizations', { slug: 'acme', name: 'Acme' });
    const key = await admin(gw.url, 'POST', '/organizations/acme/api-keys', { name: 'k' });
    await admin(gw.url, 'POST', '/credentials', { service: 'elevenlabs', scope: 'platform', secret: 'sk_worker_key_0001' });
    // A new connection each time, so that both workers serve (and cache) the key.
    const voices = () =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          gw.url + `${INVOKE}/list-voices`,
          { method: 'POST', agent: false, headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
    for (let i = 0; i < 6; i++) assert.equal(await voices(), 200);
    await admin(gw.url, 'DELETE', `/organizations/acme/api-keys/${key.id}`);
    await sleep(200);
    for (let i = 0; i < 6; i++) assert.equal(await voices(), 401);
  } finally {
    await gw.kill();
    await up.close();
  }
});
