// SPEC §13 idempotency on invoke, with records in the database (SQLite, PostgreSQL) and in
// Redis: replay of a stored answer without calling the upstream, 409 while in flight, 422 on
// reuse with another request or after an unstored (binary/stream/too large) answer, gateway 5xx
// not stored, gateway 4xx replayed with the repeat's own request id, and the key's own rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { databases, expectError } from './helpers.ts';
import { seedKey, seedOrg } from './fixtures.ts';
import { redisAvailable, sleep, tts, world, type World } from './scaleout-helpers.ts';

const REUSED = 'This Idempotency-Key was used with a different request.';
const IN_PROGRESS = 'A request with this Idempotency-Key is still in progress.';
const BAD_KEY = 'Idempotency-Key must be 1 to 255 visible ASCII characters.';

type Setup = { name: string; make: () => Promise<World> };

const setups: Setup[] = (await databases()).map((db) => ({ name: `database:${db}`, make: () => world({ db }) }));
if (await redisAvailable()) setups.push({ name: 'redis', make: () => world({ state: 'redis' }) });

const ikey = (k: string) => ({ 'idempotency-key': k });

for (const { name, make } of setups) {
  test(`[${name}] a repeat (right after the answer) replays the stored json answer without calling the upstream`, async () => {
    const w = await make();
    try {
      const first = await w.invoke('text-to-speech-with-timestamps', tts(), { ...ikey('order-1'), 'x-request-id': 'first-id' });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      const calls = w.up.requests.length;

      const again = await w.invoke('text-to-speech-with-timestamps', tts(), { ...ikey('order-1'), 'x-request-id': 'second-id' });
      assert.equal(again.status, 200);
      assert.equal(again.text, first.text);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.headers.get('x-request-id'), 'second-id');
      assert.equal(again.headers.get('content-type'), first.headers.get('content-type'));
      assert.equal(again.headers.get('x-stub'), 'yes');
      assert.equal(again.headers.get('x-credential-source'), 'platform');
      assert.equal(w.up.requests.length, calls, 'the replay never reaches the upstream');

      // Key order in the payload does not matter; another payload does.
      const reordered = await w.invoke('text-to-speech-with-timestamps', { body: { text: 'hi' }, path_params: { voice_id: 'v1' } }, ikey('order-1'));
      assert.equal(reordered.headers.get('idempotent-replayed'), 'true');
      expectError(assert, await w.invoke('text-to-speech-with-timestamps', tts({ text: 'other' }), ikey('order-1')), 422, 'idempotency_key_reused', REUSED);
      expectError(assert, await w.invoke('list-voices', {}, ikey('order-1')), 422, 'idempotency_key_reused', REUSED);
      assert.equal(w.up.requests.length, calls);

      // Keys are per organization.
      await seedOrg(w.gw, 'other');
      const otherKey = await seedKey(w.gw, 'other');
      const other = await w.invoke('text-to-speech-with-timestamps', tts(), ikey('order-1'), otherKey);
      assert.equal(other.status, 200);
      assert.equal(other.headers.get('idempotent-replayed'), null);
      assert.equal(w.up.requests.length, calls + 1);

      // An upstream error answer passed through is stored too.
      const e1 = await w.invoke('text-to-speech-with-timestamps', tts({ status: 422 }), ikey('bad-1'));
      assert.equal(e1.status, 422);
      const e2 = await w.invoke('text-to-speech-with-timestamps', tts({ status: 422 }), ikey('bad-1'));
      assert.equal(e2.status, 422);
      assert.equal(e2.headers.get('idempotent-replayed'), 'true');
      assert.equal(e2.headers.get('x-error-source'), 'upstream');
      assert.equal(w.up.requests.length, calls + 2);
    } finally {
      await w.close();
    }
  });

  test(`[${name}] 409 while the first is in flight; one upstream call for two concurrent requests`, async () => {
    const w = await make();
    try {
      const slow = tts({ delay_ms: 400 });
      const a = w.invoke('text-to-speech-with-timestamps', slow, ikey('k-409'));
      await sleep(150);
      const b = await w.invoke('text-to-speech-with-timestamps', slow, ikey('k-409'));
      expectError(assert, b, 409, 'idempotency_in_progress', IN_PROGRESS);
      assert.equal((await a).status, 200);
      const c = await w.invoke('text-to-speech-with-timestamps', slow, ikey('k-409'));
      assert.equal(c.headers.get('idempotent-replayed'), 'true');
      assert.equal(w.up.count('with-timestamps'), 1);
    } finally {
      await w.close();
    }
  });

  test(`[${name}] binary, stream and over-1-MiB answers are not stored: a repeat is 422`, async () => {
    const w = await make();
    try {
      const bin = await w.invoke('text-to-speech', tts(), ikey('bin-1'));
      assert.equal(bin.status, 200);
      expectError(assert, await w.invoke('text-to-speech', tts(), ikey('bin-1')), 422, 'idempotency_key_reused', REUSED);
      const stream = await w.invoke('text-to-speech-stream', tts(), ikey('stream-1'));
      assert.equal(stream.status, 200);
      expectError(assert, await w.invoke('text-to-speech-stream', tts(), ikey('stream-1')), 422, 'idempotency_key_reused', REUSED);
      const big = await w.invoke('text-to-speech-with-timestamps', tts({ size: 1024 * 1024 + 10 }), ikey('big-1'));
      assert.equal(big.status, 200);
      assert.ok(big.text.length > 1024 * 1024);
      expectError(
        assert,
        await w.invoke('text-to-speech-with-timestamps', tts({ size: 1024 * 1024 + 10 }), ikey('big-1')),
        422,
        'idempotency_key_reused',
        REUSED,
      );
      assert.equal(w.up.requests.length, 3);
    } finally {
      await w.close();
    }
  });

  test(`[${name}] gateway 5xx are not stored (retry reaches the upstream); gateway 4xx are replayed`, async () => {
    const w = await make();
    try {
      const failed = await w.invoke('text-to-speech-with-timestamps', tts({ status: 500 }), ikey('retry-me'));
      expectError(assert, failed, 502, 'upstream_request_failed', 'The upstream external service request failed.');
      const retried = await w.invoke('text-to-speech-with-timestamps', tts({ status: 500 }), ikey('retry-me'));
      expectError(assert, retried, 502, 'upstream_request_failed', 'The upstream external service request failed.');
      assert.equal(retried.headers.get('idempotent-replayed'), null);
      assert.equal(w.up.requests.length, 2);

      // A gateway 4xx after the reservation (here: no tenant credential) is stored and replayed
      // with the repeat's own request id.
      const body = { ...tts(), credential_source: 'tenant' };
      const msg = "No allowed credentials found for external proxy service 'elevenlabs'.";
      await w.gw.api('PUT', '/api/v1/admin/services/elevenlabs/credential-policy', {
        body: { allow_tenant_key: true, allow_platform_key: true, default_source: 'platform', fallback_to_platform_key: false },
      });
      const first = await w.invoke('text-to-speech-with-timestamps', body, ikey('no-cred'));
      expectError(assert, first, 404, 'credentials_not_found', msg);
      const replay = await w.invoke('text-to-speech-with-timestamps', body, { ...ikey('no-cred'), 'x-request-id': 'replay-rid' });
      expectError(assert, replay, 404, 'credentials_not_found', msg);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.body.request_id, 'replay-rid');
      assert.notEqual(replay.body.request_id, first.body.request_id);
    } finally {
      await w.close();
    }
  });
}

test('Idempotency-Key must be 1–255 visible ASCII characters', async () => {
  const w = await world();
  try {
    for (const bad of ['', ' ', 'a b', 'x'.repeat(256), 'caf\u00e9']) {
      expectError(assert, await w.invoke('list-voices', {}, ikey(bad)), 400, 'invalid_request', BAD_KEY);
    }
    assert.equal(w.up.requests.length, 0);
    const ok = await w.invoke('list-voices', {}, ikey('~'.repeat(255)));
    assert.equal(ok.status, 200);
  } finally {
    await w.close();
  }
});
