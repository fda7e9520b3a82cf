// SPEC §13 limits on invoke, in-process and through Redis: requests per minute, concurrent
// requests (a stream counts until it ends, also when the client goes away), monthly requests and
// units, plan limits with organization overrides, RateLimit-* on every invoke answer, Retry-After
// on 429, and a refused request never reaching the upstream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropSchema, expectError, freshSchema, postgresAvailable, startGateway, type ApiResponse } from './helpers.ts';
import { seedCredential, seedKey, seedOrg } from './fixtures.ts';
import { INVOKE, redisAvailable, sleep, tts, upstream, world, type StateKind } from './scaleout-helpers.ts';

const RATE_MSG = 'Request was throttled.';
const QUOTA_MSG = 'Monthly quota exhausted for this organization.';

function rateHeaders(r: ApiResponse): [number, number, number] {
  return [Number(r.headers.get('ratelimit-limit')), Number(r.headers.get('ratelimit-remaining')), Number(r.headers.get('ratelimit-reset'))];
}

function secondsToMonthEnd(): number {
  const d = new Date();
  return Math.ceil((Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - Date.now()) / 1000);
}

async function kinds(): Promise<StateKind[]> {
  return (await redisAvailable()) ? ['memory', 'redis'] : ['memory'];
}

for (const kind of await kinds()) {
  test(`[${kind}] requests_per_minute: RateLimit-* on every answer, 429 rate_limited past the limit, never upstream`, async () => {
    const w = await world({ state: kind });
    try {
      // No per-minute limit: no RateLimit fields.
      const free = await w.invoke('list-voices');
      assert.equal(free.status, 200);
      assert.equal(free.headers.get('ratelimit-limit'), null);

      await w.setLimits({ requests_per_minute: 4 });
      const ok1 = await w.invoke('list-voices');
      assert.equal(ok1.status, 200);
      const [limit, remaining, reset] = rateHeaders(ok1);
      assert.equal(limit, 4);
      assert.equal(remaining, 3);
      assert.ok(reset >= 59 && reset <= 60, `reset ${reset}`);

      // Gateway errors after the check carry them too, and count.
      const miss = await w.invoke('get-voice', {});
      expectError(assert, miss, 400, 'missing_path_parameter', 'Missing required path parameter: voice_id');
      assert.deepEqual(rateHeaders(miss).slice(0, 2), [4, 2]);
      // A body that is not JSON is an invoke answered by Portico like any other.
      const broken = await w.gw.api('POST', `${INVOKE}/list-voices`, { token: w.key, body: '{"broken', headers: { 'content-type': 'application/json' } });
      expectError(assert, broken, 400, 'invalid_request', 'Request body is not valid JSON.');
      assert.deepEqual(rateHeaders(broken).slice(0, 2), [4, 1]);
      await w.setLimits({ requests_per_minute: 5 });
      const unknown = await w.invoke('no-such-action');
      expectError(assert, unknown, 404, 'endpoint_not_found', "External proxy endpoint 'no-such-action' not found for service 'elevenlabs'.");
      assert.deepEqual(rateHeaders(unknown).slice(0, 2), [5, 1]);
      // An upstream error passed through carries Portico's fields, not the upstream's.
      const passed = await w.invoke('text-to-speech-with-timestamps', tts({ status: 422 }));
      assert.equal(passed.status, 422);
      assert.equal(passed.headers.get('x-error-source'), 'upstream');
      assert.deepEqual(rateHeaders(passed).slice(0, 2), [5, 0]);

      const before = w.up.requests.length;
      const refused = await w.invoke('list-voices');
      expectError(assert, refused, 429, 'rate_limited', RATE_MSG);
      assert.equal(refused.body.error.type, 'rate_limit_error');
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `retry-after ${refused.headers.get('retry-after')}`);
      assert.deepEqual(rateHeaders(refused).slice(0, 2), [5, 0]);
      assert.equal(w.up.requests.length, before, 'a refused request never reaches the upstream');

      // Limits are per organization: another one is not affected.
      await w.setLimits({ requests_per_minute: 1 });
      const refusedAgain = await w.invoke('list-voices');
      expectError(assert, refusedAgain, 429, 'rate_limited', RATE_MSG);
      await w.setLimits({ requests_per_minute: null });
      const freeAgain = await w.invoke('list-voices');
      assert.equal(freeAgain.status, 200);
      assert.equal(freeAgain.headers.get('ratelimit-limit'), null);
    } finally {
      await w.close();
    }
  });

  test(`[${kind}] concurrent_requests: a stream holds its slot until it ends or the client leaves`, async () => {
    // After a client aborts a stream, graceful close waits for the shutdown timeout (a keep-alive
    // connection is not seen idle): keep it short here.
    const w = await world({ state: kind, env: { PORTICO_SHUTDOWN_TIMEOUT_MS: '300' } });
    try {
      await w.setLimits({ concurrent_requests: 1 });
      const streamBody = { path_params: { voice_id: 'v1' }, body: { text: 'hi', hold: true } };
      const first = await fetch(w.gw.url + `${INVOKE}/text-to-speech-stream`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.key}`, 'content-type': 'application/json' },
        body: JSON.stringify(streamBody),
      });
      assert.equal(first.status, 200);
      await w.up.held();
      const before = w.up.requests.length;
      const second = await w.invoke('list-voices');
      expectError(assert, second, 429, 'rate_limited', RATE_MSG);
      assert.equal(second.headers.get('retry-after'), '1');
      assert.equal(w.up.requests.length, before);
      w.up.release();
      assert.equal((await first.arrayBuffer()).byteLength, 2000);
      await sleep(50);
      assert.equal((await w.invoke('list-voices')).status, 200);

      // A client that goes away mid-stream frees the slot at once.
      const controller = new AbortController();
      const third = await fetch(w.gw.url + `${INVOKE}/text-to-speech-stream`, {
        method: 'POST',
        headers: { authorization: `Bearer ${w.key}`, 'content-type': 'application/json' },
        body: JSON.stringify(streamBody),
        signal: controller.signal,
      });
      assert.equal(third.status, 200);
      await w.up.held();
      expectError(assert, await w.invoke('list-voices'), 429, 'rate_limited', RATE_MSG);
      controller.abort();
      await sleep(100);
      assert.equal((await w.invoke('list-voices')).status, 200);
      w.up.release();
    } finally {
      await w.close();
    }
  });

  test(`[${kind}] monthly_requests and monthly_units: 429 quota_exceeded with Retry-After to the month's end`, async () => {
    const w = await world({ state: kind });
    try {
      await w.setLimits({ monthly_requests: 2 });
      assert.equal((await w.invoke('list-voices')).status, 200);
      assert.equal((await w.invoke('list-voices')).status, 200);
      const before = w.up.requests.length;
      const over = await w.invoke('list-voices');
      expectError(assert, over, 429, 'quota_exceeded', QUOTA_MSG);
      assert.equal(over.body.error.type, 'rate_limit_error');
      const retryAfter = Number(over.headers.get('retry-after'));
      assert.ok(Math.abs(retryAfter - secondsToMonthEnd()) <= 5, `retry-after ${retryAfter} vs ${secondsToMonthEnd()}`);
      assert.equal(w.up.requests.length, before);

      // Units: what the upstream reports in the catalog's units_header (ElevenLabs character-cost).
      await w.setLimits({ monthly_requests: null, monthly_units: 10 });
      const a = await w.invoke('text-to-speech', tts({ cost: 6 }));
      assert.equal(a.status, 200);
      const b = await w.invoke('text-to-speech', tts({ cost: 6 }));
      assert.equal(b.status, 200);
      await sleep(50); // units are added once the answer is complete
      expectError(assert, await w.invoke('text-to-speech', tts({ cost: 6 })), 429, 'quota_exceeded', QUOTA_MSG);
    } finally {
      await w.close();
    }
  });
}

test('plan limits apply; an organization override wins field by field', async () => {
  const w = await world();
  try {
    const plan = await w.gw.api('PUT', '/api/v1/admin/plans/small', {
      body: { services: null, limits: { requests_per_minute: 2, concurrent_requests: null, monthly_requests: null, monthly_units: null } },
    });
    assert.ok(plan.status === 201 || plan.status === 200, plan.text);
    const patch = await w.gw.api('PATCH', `/api/v1/admin/organizations/${w.org}`, { body: { plan: 'small' } });
    assert.equal(patch.status, 200, patch.text);
    const r = await w.invoke('list-voices');
    assert.equal(r.headers.get('ratelimit-limit'), '2');
    await w.setLimits({ requests_per_minute: 5 });
    const r2 = await w.invoke('list-voices');
    assert.equal(r2.headers.get('ratelimit-limit'), '5');
    assert.equal(r2.headers.get('ratelimit-remaining'), '3');
  } finally {
    await w.close();
  }
});

test(
  'monthly counters survive a restart: they start from the metered usage in the database',
  { skip: !(await postgresAvailable()) && 'PostgreSQL unreachable' },
  async () => {
    const schema = freshSchema();
    const up = await upstream();
    try {
      const gw1 = await startGateway({ db: 'postgres', schema, env: { PORTICO_BASE_URL_ELEVENLABS: up.url } });
      await seedOrg(gw1, 'acme');
      const key = await seedKey(gw1, 'acme');
      await seedCredential(gw1, { service: 'elevenlabs', scope: 'platform', key: 'sk_platform_key_0001' });
      await gw1.api('PATCH', '/api/v1/admin/organizations/acme', { body: { limits: { monthly_requests: 3 } } });
      for (let i = 0; i < 2; i++) assert.equal((await gw1.api('POST', `${INVOKE}/list-voices`, { token: key, body: {} })).status, 200);
      await gw1.close(); // flushes the usage rows

      const gw2 = await startGateway({ db: 'postgres', schema, env: { PORTICO_BASE_URL_ELEVENLABS: up.url } });
      try {
        assert.equal((await gw2.api('POST', `${INVOKE}/list-voices`, { token: key, body: {} })).status, 200);
        expectError(assert, await gw2.api('POST', `${INVOKE}/list-voices`, { token: key, body: {} }), 429, 'quota_exceeded', QUOTA_MSG);
      } finally {
        await gw2.close();
      }
    } finally {
      await up.close();
      await dropSchema(schema);
    }
  },
);
