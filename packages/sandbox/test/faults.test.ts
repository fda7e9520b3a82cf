// Faults on demand (SPEC §10): X-Sandbox-Fault / ?sandbox_fault= / a sandbox_fault_<what> segment.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, EL_KEY, HG_KEY, start, type Started } from './helpers.ts';

let s: Started;
before(async () => {
  s = await start();
});
after(() => s.sandbox.close());

const fault = (what: string): Record<string, string> => ({ 'X-Sandbox-Fault': what });

describe('ElevenLabs faults', () => {
  const expected: Record<number, string> = {
    401: 'invalid_api_key',
    402: 'paid_plan_required',
    403: 'output_format_not_allowed',
    404: 'voice_not_found',
    429: 'concurrent_limit_exceeded',
    500: 'something_went_wrong',
    503: 'service_unavailable',
  };
  for (const [status, code] of Object.entries(expected)) {
    test(`${status} → detail.code ${code}, legacy status equal`, async () => {
      const r = await call(`${s.el}/v1/voices/JBFqnCBsd6RMkjVDRZzb`, { headers: { ...EL_KEY, ...fault(status) } });
      assert.equal(r.status, Number(status));
      assert.match(String(r.headers['content-type']), /^application\/json/);
      const d = r.json().detail;
      assert.equal(d.code, code);
      assert.equal(d.status, code);
      assert.equal(typeof d.type, 'string');
      assert.equal(typeof d.message, 'string');
      assert.equal(d.request_id, r.headers['request-id']);
    });
  }

  test('429 carries Retry-After and the concurrency headers', async () => {
    const r = await call(`${s.el}/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb`, { headers: { ...EL_KEY, ...fault('429') }, body: { text: 'hi' } });
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '1');
    assert.ok(Number(r.headers['current-concurrent-requests']) >= 1);
    assert.ok(Number(r.headers['maximum-concurrent-requests']) >= 1);
  });

  test('422 is the pydantic validation list', async () => {
    const r = await call(`${s.el}/v1/models`, { headers: { ...EL_KEY, ...fault('422') } });
    assert.equal(r.status, 422);
    const d = r.json().detail;
    assert.ok(Array.isArray(d));
    assert.deepEqual(d[0].loc, ['body', 'text']);
    assert.equal(d[0].type, 'missing');
    assert.equal(d[0].msg, 'Field required');
  });

  test('<status>:<code> picks another provider code (401 quota_exceeded)', async () => {
    const r = await call(`${s.el}/v1/user`, { headers: { ...EL_KEY, ...fault('401:quota_exceeded') } });
    assert.equal(r.status, 401);
    assert.equal(r.json().detail.status, 'quota_exceeded');
    assert.match(r.json().detail.message, /exceeds your quota/);
  });

  test('X-Sandbox-Retry-After sets the 429 Retry-After', async () => {
    const r = await call(`${s.el}/v1/models`, { headers: { ...EL_KEY, ...fault('429'), 'X-Sandbox-Retry-After': '7' } });
    assert.equal(r.headers['retry-after'], '7');
  });
});

describe('HeyGen faults', () => {
  const V3 = '/v3/videos/4e3b2f5c6d7a48e9b0c1d2e3f4a5b6c7';
  const v3codes: Record<string, [number, string]> = {
    '401': [401, 'authentication_failed'],
    '402': [402, 'insufficient_credit'],
    '403': [403, 'forbidden'],
    '404': [404, 'not_found'],
    '422': [400, 'invalid_parameter'],
    '429': [429, 'rate_limit_exceeded'],
    '500': [500, 'internal_error'],
    '503': [503, 'service_unavailable'],
  };
  for (const [asked, [status, code]] of Object.entries(v3codes)) {
    test(`v3 ${asked} → ${status} ${code}`, async () => {
      const r = await call(`${s.hg}${V3}`, { headers: { ...HG_KEY, ...fault(asked) } });
      assert.equal(r.status, status);
      const body = r.json();
      assert.deepEqual(Object.keys(body), ['error']);
      assert.equal(body.error.code, code);
      assert.ok('param' in body.error && 'doc_url' in body.error);
      assert.ok(r.headers['x-request-id']);
    });
  }

  test('v3 402 links the error-codes page; 429 has Retry-After', async () => {
    const r402 = await call(`${s.hg}/v3/videos`, { method: 'POST', headers: { ...HG_KEY, ...fault('402') }, body: {} });
    assert.equal(r402.json().error.doc_url, 'https://developers.heygen.com/docs/error-codes#insufficient-credit');
    const r429 = await call(`${s.hg}/v3/voices`, { headers: { ...HG_KEY, ...fault('429') } });
    assert.equal(r429.headers['retry-after'], '1');
  });

  test('v1 routes use the v1 error shape', async () => {
    const r = await call(`${s.hg}/v1/video_status.get?video_id=x&sandbox_fault=429`, { headers: HG_KEY });
    assert.equal(r.status, 429);
    assert.deepEqual(r.json(), { code: 429, message: 'Too many requests' });
    assert.equal(r.headers['retry-after'], '1');
    const bad = await call(`${s.hg}/v1/user/me`, { headers: { ...HG_KEY, ...fault('422') } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json(), { code: 400175, message: 'Invalid parameter' });
  });

  test('v2 legacy routes use the v2 error envelope', async () => {
    const r = await call(`${s.hg}/v2/avatars`, { headers: { ...HG_KEY, ...fault('402') } });
    assert.equal(r.status, 402);
    assert.deepEqual(r.json(), {
      error: { code: 'insufficient_credit', message: 'Your account has 5 credits but this video requires 10 credits.' },
      data: null,
    });
  });
});

describe('connection faults', () => {
  test('reset → the client sees a socket error, no answer', async () => {
    await assert.rejects(call(`${s.el}/v1/voices`, { headers: { ...EL_KEY, ...fault('reset') } }), (e: NodeJS.ErrnoException) => {
      assert.match(String(e.code), /ECONNRESET|EPIPE/);
      return true;
    });
    await assert.rejects(fetch(`${s.hg}/v3/voices`, { headers: { ...HG_KEY, ...fault('reset') } }), TypeError);
  });

  test('hang → never answers; the client gives up with its AbortSignal', async () => {
    const t0 = Date.now();
    await assert.rejects(
      fetch(`${s.el}/v1/models`, { headers: { ...EL_KEY, ...fault('hang') }, signal: AbortSignal.timeout(300) }),
      (e: Error) => e.name === 'TimeoutError',
    );
    assert.ok(Date.now() - t0 >= 290);
  });

  test('hang does not keep a closing sandbox open', async () => {
    const other = await start();
    const pending = call(`${other.hg}/v3/voices`, { headers: { ...HG_KEY, ...fault('hang') } }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await other.sandbox.close();
    assert.ok(Date.now() - t0 < 1000, 'close() returns at once');
    assert.ok((await pending) instanceof Error, 'the hung request ends with a socket error');
  });

  test('slow → a normal answer whose first byte is ≥ 2 s late', async () => {
    const r = await call(`${s.el}/v1/models`, { headers: { ...EL_KEY, ...fault('slow') } });
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.json()));
    assert.ok(r.chunks[0]!.at >= 1990, `first byte after ${r.chunks[0]!.at} ms`);
  });

  test('cut → headers and part of the body, then the connection ends early', async () => {
    await assert.rejects(call(`${s.el}/v1/voices`, { headers: { ...EL_KEY, ...fault('cut') } }));
    await assert.rejects(call(`${s.el}/sandbox/bytes?size=1000000&sandbox_fault=cut`));
  });
});

describe('how faults are asked for', () => {
  test('query parameter sandbox_fault', async () => {
    const r = await call(`${s.el}/v1/models?sandbox_fault=503`, { headers: EL_KEY });
    assert.equal(r.status, 503);
  });

  test('path segment sandbox_fault_<what> (survives a gateway that forwards neither)', async () => {
    const r = await call(`${s.el}/v1/text-to-speech/sandbox_fault_402`, { headers: EL_KEY, body: { text: 'hi' } });
    assert.equal(r.status, 402);
    assert.equal(r.json().detail.code, 'paid_plan_required');
  });

  test('a bad key wins over a fault', async () => {
    for (const what of ['429', 'hang', 'reset', 'slow']) {
      const r = await call(`${s.el}/v1/models`, { headers: { 'xi-api-key': 'wrong', ...fault(what) } });
      assert.equal(r.status, 401, what);
      const h = await call(`${s.hg}/v3/voices`, { headers: fault(what) });
      assert.equal(h.status, 401, what);
    }
  });

  test('an unknown fault value is a 400 naming the valid ones', async () => {
    const r = await call(`${s.el}/v1/models`, { headers: { ...EL_KEY, ...fault('418') } });
    assert.equal(r.status, 400);
    assert.match(r.json().sandbox_error, /reset, hang, slow/);
  });

  test('X-Sandbox-Delay-Ms delays the headers', async () => {
    const r = await call(`${s.el}/v1/models`, { headers: { ...EL_KEY, 'X-Sandbox-Delay-Ms': '250' } });
    assert.equal(r.status, 200);
    assert.ok(r.chunks[0]!.at >= 245);
  });
});
