// Keys: valid when they start with `sandbox_`; anything else gets the provider's own 401 body.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, EL_KEY, HG_KEY, start, type Started } from './helpers.ts';

let s: Started;
before(async () => {
  s = await start();
});
after(() => s.sandbox.close());

describe('ElevenLabs xi-api-key', () => {
  for (const [label, headers] of [
    ['no key', {}],
    ['wrong key', { 'xi-api-key': 'sk_live_abcdef' }],
    ['key in the wrong header', { 'x-api-key': 'sandbox_test' }],
  ] as const) {
    test(`${label} → 401 invalid_api_key`, async () => {
      const r = await call(`${s.el}/v1/voices`, { headers });
      assert.equal(r.status, 401);
      const d = r.json().detail;
      assert.equal(d.status, 'invalid_api_key');
      assert.equal(d.code, 'invalid_api_key');
      assert.equal(d.message, 'Invalid API key');
      assert.equal(typeof d.request_id, 'string');
      assert.equal(r.headers['request-id'], d.request_id);
    });
  }

  test('a sandbox_ key is accepted, the header name in any case', async () => {
    const r = await call(`${s.el}/v1/voices`, { headers: { 'XI-API-KEY': 'sandbox_anything' } });
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.json().voices));
  });

  test('the default voice settings need no key (public per the provider)', async () => {
    const r = await call(`${s.el}/v1/voices/settings/default`);
    assert.equal(r.status, 200);
    assert.equal(r.json().stability, 0.5);
  });
});

describe('HeyGen X-Api-Key', () => {
  test('v3 route → authentication_failed in the v3 envelope', async () => {
    const r = await call(`${s.hg}/v3/avatars/looks`, { headers: { 'X-Api-Key': 'wrong' } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json(), {
      error: { code: 'authentication_failed', message: 'Invalid or expired API key. Verify your x-api-key header.', param: null, doc_url: null },
    });
    assert.ok(r.headers['x-request-id']);
  });

  test('v1 route → {code: 400112, message: "Unauthorized"}', async () => {
    const r = await call(`${s.hg}/v1/video_status.get?video_id=x`);
    assert.equal(r.status, 401);
    assert.deepEqual(r.json(), { code: 400112, message: 'Unauthorized' });
  });

  test('v2 legacy route → v2 error envelope', async () => {
    const r = await call(`${s.hg}/v2/user/remaining_quota`, { headers: { 'x-api-key': 'sk_nope' } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json(), { error: { code: 'unauthorized', message: 'Unauthorized' }, data: null });
  });

  test('/v2/videos belongs to the v3 family', async () => {
    const r = await call(`${s.hg}/v2/videos`);
    assert.equal(r.status, 401);
    assert.equal(r.json().error.code, 'authentication_failed');
  });

  test('a sandbox_ key is accepted, the header name in any case', async () => {
    const r = await call(`${s.hg}/v3/users/me`, { headers: { 'X-API-KEY': 'sandbox_x' } });
    assert.equal(r.status, 200);
    assert.equal(r.json().data.username, 'sandbox');
  });

  test('the key of the other provider does not count', async () => {
    const r = await call(`${s.hg}/v3/users/me`, { headers: EL_KEY });
    assert.equal(r.status, 401);
    const ok = await call(`${s.hg}/v3/users/me`, { headers: HG_KEY });
    assert.equal(ok.status, 200);
  });
});
