import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ExternalProxyClient, ProxyError, type FetchLike } from '../src/index.ts';
import { backoffDelay, parseRetryAfter, resolveRetry } from '../src/retry.ts';
import { API_KEY, envelope, startStubGateway, type StubGateway } from './helpers/stub-gateway.ts';

const FAST = { retries: 2, baseDelayMs: 5, maxDelayMs: 20 };

function gatewayError(status: number, code: string, headers: Record<string, string> = {}) {
  return { status, headers: { 'x-error-source': 'gateway', ...headers }, body: envelope(code, 'api_error', `${code} happened`, `r_${code}`) };
}

describe('retries', () => {
  let gw: StubGateway;
  let client: ExternalProxyClient;
  before(async () => {
    gw = await startStubGateway();
    client = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, retry: FAST });
    await client.getService('elevenlabs');
    await client.getService('heygen');
  });
  after(() => gw.close());

  /** Runs `fn` and returns the invoke requests it made. */
  async function attempts(fn: () => Promise<unknown>): Promise<{ result?: unknown; error?: unknown; calls: StubGateway['requests'] }> {
    const before = gw.invokes().length;
    let result: unknown;
    let error: unknown;
    try {
      result = await fn();
    } catch (e) {
      error = e;
    }
    return { result, error, calls: gw.invokes().slice(before) };
  }

  /** A client whose logger records the wait chosen before each retry. */
  function recording(retry: ConstructorParameters<typeof ExternalProxyClient>[0]['retry']): { c: ExternalProxyClient; waits: number[] } {
    const waits: number[] = [];
    const logger = { warn: (m: string) => void waits.push(Number(/ in (\d+)ms$/.exec(m)?.[1] ?? NaN)) };
    return { c: new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, retry, logger }), waits };
  }

  test('429 with Retry-After: 0 is retried at once (not after the backoff)', async () => {
    const { c, waits } = recording({ baseDelayMs: 5000, maxDelayMs: 5000 });
    gw.queue(gatewayError(429, 'rate_limited', { 'retry-after': '0' }));
    const { result, calls } = await attempts(() => c.invoke('elevenlabs', 'list-voices'));
    assert.equal((result as { ok: boolean }).ok, true);
    assert.equal(calls.length, 2);
    assert.deepEqual(waits, [0]);
  });

  test('429 with Retry-After: 1 waits one second', async () => {
    const { c, waits } = recording({ baseDelayMs: 1 });
    gw.queue(gatewayError(429, 'rate_limited', { 'retry-after': '1' }));
    const { result, calls } = await attempts(() => c.invoke('elevenlabs', 'list-voices'));
    assert.equal((result as { ok: boolean }).ok, true);
    assert.equal(calls.length, 2);
    assert.deepEqual(waits, [1000]);
    const gap = calls[1]!.at - calls[0]!.at;
    assert.ok(gap >= 950, `gap ${gap}ms`);
  });

  test('Retry-After is capped at maxDelayMs, also as an HTTP date', async () => {
    const { c, waits } = recording({ baseDelayMs: 1, maxDelayMs: 150 });
    gw.queue(gatewayError(429, 'rate_limited', { 'retry-after': '30' }));
    let { calls } = await attempts(() => c.invoke('elevenlabs', 'list-voices'));
    assert.equal(calls.length, 2);
    assert.ok(calls[1]!.at - calls[0]!.at >= 140);

    gw.queue(gatewayError(503, 'service_unavailable', { 'retry-after': new Date(Date.now() + 10_000).toUTCString() }));
    ({ calls } = await attempts(() => c.invoke('elevenlabs', 'list-voices')));
    assert.equal(calls.length, 2);
    assert.deepEqual(waits, [150, 150]);
  });

  test('without Retry-After the wait is full jitter under the exponential ceiling', async () => {
    const { c, waits } = recording({ retries: 3, baseDelayMs: 20, maxDelayMs: 50 });
    gw.queue(gatewayError(503, 'service_unavailable'), gatewayError(503, 'service_unavailable'), gatewayError(503, 'service_unavailable'));
    const { calls } = await attempts(() => c.invoke('elevenlabs', 'list-voices'));
    assert.equal(calls.length, 4);
    assert.equal(waits.length, 3);
    assert.ok(waits[0]! >= 0 && waits[0]! < 20, `${waits}`);
    assert.ok(waits[1]! >= 0 && waits[1]! < 40, `${waits}`);
    assert.ok(waits[2]! >= 0 && waits[2]! < 50, `${waits}`);
  });

  test('503 then success', async () => {
    gw.queue(gatewayError(503, 'service_unavailable'));
    const { result, calls } = await attempts(() => client.invoke('elevenlabs', 'get-voice', { path_params: { voice_id: 'v' } }));
    assert.equal((result as { ok: boolean }).ok, true);
    assert.equal(calls.length, 2);
  });

  test('502 and 504 are retried; after `retries` the last error is thrown', async () => {
    gw.queue(gatewayError(502, 'upstream_request_failed'), gatewayError(504, 'upstream_timeout'), gatewayError(503, 'service_unavailable'));
    const { error, calls } = await attempts(() => client.invoke('elevenlabs', 'list-voices'));
    assert.equal(calls.length, 3);
    assert.ok(error instanceof ProxyError);
    assert.equal(error.status, 503);
    assert.equal(error.code, 'service_unavailable');
  });

  test('a network error (socket destroyed) is retried', async () => {
    gw.queue({ destroy: true });
    const { result, calls } = await attempts(() => client.invoke('elevenlabs', 'list-models'));
    assert.equal((result as { ok: boolean }).ok, true);
    assert.equal(calls.length, 2);
  });

  test('a network error on every attempt surfaces as the fetch TypeError', async () => {
    gw.queue({ destroy: true }, { destroy: true }, { destroy: true });
    const { error, calls } = await attempts(() => client.invoke('elevenlabs', 'list-models'));
    assert.equal(calls.length, 3);
    assert.ok(error instanceof TypeError, String(error));
  });

  test('POST without an idempotency key is not retried (503, network error)', async () => {
    gw.queue(gatewayError(503, 'service_unavailable'));
    let { error, calls } = await attempts(() => client.invoke('heygen', 'generate-video', { body: { title: 't' } }));
    assert.equal(calls.length, 1);
    assert.equal((error as ProxyError).status, 503);

    gw.queue({ destroy: true });
    ({ error, calls } = await attempts(() => client.elevenlabs.textToSpeech({ voice_id: 'v', text: 'x' })));
    assert.equal(calls.length, 1);
    assert.ok(error instanceof TypeError);
  });

  test('POST with an idempotency key is retried and sends Idempotency-Key on every attempt', async () => {
    gw.queue(gatewayError(503, 'service_unavailable'), { destroy: true });
    const { result, calls } = await attempts(() => client.invoke('heygen', 'generate-video', { body: { title: 't' } }, { idempotencyKey: 'order-42' }));
    assert.equal((result as { ok: boolean }).ok, true);
    assert.equal(calls.length, 3);
    for (const call of calls) {
      assert.equal(call.headers['idempotency-key'], 'order-42');
      assert.deepEqual(call.body, { body: { title: 't' } });
    }
  });

  test('4xx other than 429 is not retried, nor a 429 quota_exceeded', async () => {
    gw.queue(gatewayError(404, 'credentials_not_found'));
    let { calls } = await attempts(() => client.invoke('elevenlabs', 'list-voices'));
    assert.equal(calls.length, 1);
    gw.queue(gatewayError(429, 'quota_exceeded', { 'retry-after': '86400' }));
    let error: unknown;
    ({ calls, error } = await attempts(() => client.invoke('elevenlabs', 'list-voices')));
    assert.equal(calls.length, 1);
    assert.equal((error as ProxyError).code, 'quota_exceeded');
    assert.equal((error as ProxyError).retryAfterSeconds, 86400);
  });

  test('retry: false (client-wide or per call) makes one attempt', async () => {
    const none = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, retry: false });
    gw.queue(gatewayError(503, 'service_unavailable'));
    let { calls } = await attempts(() => none.invoke('elevenlabs', 'list-voices'));
    assert.equal(calls.length, 1);
    gw.queue(gatewayError(503, 'service_unavailable'));
    ({ calls } = await attempts(() => client.invoke('elevenlabs', 'list-voices', {}, { retry: false })));
    assert.equal(calls.length, 1);
    gw.queue(gatewayError(503, 'service_unavailable'), gatewayError(503, 'service_unavailable'));
    ({ calls } = await attempts(() => none.invoke('elevenlabs', 'list-voices', {}, { retry: { retries: 5, baseDelayMs: 1 } })));
    assert.equal(calls.length, 3);
  });

  test('discovery requests are retried too', async () => {
    const c = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, retry: FAST });
    let calls = 0;
    const flaky: FetchLike = async (input, init) => {
      calls++;
      if (calls === 1) throw new TypeError('fetch failed');
      return fetch(input, init);
    };
    const viaCustomFetch = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, retry: FAST, fetch: flaky });
    assert.equal((await viaCustomFetch.listServices()).length, 2);
    assert.equal(calls, 2, 'the fetch option is used, and the failed attempt retried');
    assert.ok(c);
  });
});

describe('abort and timeouts', () => {
  let gw: StubGateway;
  let client: ExternalProxyClient;
  before(async () => {
    gw = await startStubGateway();
    client = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, retry: FAST });
    await client.getService('elevenlabs');
  });
  after(() => gw.close());

  test('abort via signal surfaces as AbortError and is not retried', async () => {
    gw.queue({ hang: true }, { status: 200, body: { second: true } });
    const before = gw.invokes().length;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(client.invoke('elevenlabs', 'list-voices', {}, { signal: controller.signal }), { name: 'AbortError' });
    assert.equal(gw.invokes().length - before, 1);
    assert.deepEqual(await client.invoke('elevenlabs', 'list-voices'), { second: true });
  });

  test('an already-aborted signal makes no request', async () => {
    const before = gw.requests.length;
    await assert.rejects(client.invoke('elevenlabs', 'list-voices', {}, { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(gw.requests.length, before);
  });

  test('abort during the backoff wait ends the call at once', async () => {
    const c = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY });
    gw.queue(gatewayError(429, 'rate_limited', { 'retry-after': '5' }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await assert.rejects(c.invoke('elevenlabs', 'list-voices', {}, { signal: controller.signal }), { name: 'AbortError' });
    assert.ok(Date.now() - started < 4000, 'well before the 5 s Retry-After');
  });

  test('per-call timeoutMs surfaces as TimeoutError and is not retried', async () => {
    gw.queue({ hang: true }, { status: 200, body: { late: true } });
    const before = gw.invokes().length;
    const started = Date.now();
    await assert.rejects(client.invoke('elevenlabs', 'list-voices', {}, { timeoutMs: 100 }), { name: 'TimeoutError' });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 90, `elapsed ${elapsed}ms`);
    assert.equal(gw.invokes().length - before, 1);
    await client.invoke('elevenlabs', 'list-voices'); // consume the queued answer
  });

  test('client-wide timeoutMs applies, and a per-call one overrides it', async () => {
    const c = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, timeoutMs: 80 });
    await c.getService('elevenlabs');
    gw.queue({ hang: true });
    await assert.rejects(c.invoke('elevenlabs', 'list-voices'), { name: 'TimeoutError' });
    gw.queue((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"slow":true}');
      }, 200);
    });
    assert.deepEqual(await c.invoke('elevenlabs', 'list-voices', {}, { timeoutMs: 10_000 }), { slow: true });
  });

  test('the timeout covers discovery too', async () => {
    const hangingFetch: FetchLike = (input, init) =>
      String(input).includes('/services/')
        ? new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)))
        : fetch(input, init);
    const c = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, fetch: hangingFetch });
    await assert.rejects(c.invoke('elevenlabs', 'list-voices', {}, { timeoutMs: 60 }), { name: 'TimeoutError' });
    // The abandoned discovery is not left in the cache: the next call starts a new one.
    await assert.rejects(c.getService('elevenlabs', { timeoutMs: 60 }), { name: 'TimeoutError' });
  });

  test('a stream outlives the timeout once its headers arrived; the signal still aborts it', async () => {
    const slowStream = (_req: unknown, res: import('node:http').ServerResponse): void => {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      res.write('a');
      setTimeout(() => res.write('b'), 600);
      setTimeout(() => res.end('c'), 1200);
    };
    gw.queue(slowStream);
    const stream = (await client.invoke(
      'elevenlabs',
      'text-to-speech-stream',
      { path_params: { voice_id: 'v' }, body: { text: 'x' } },
      { timeoutMs: 400 },
    )) as ReadableStream<Uint8Array>;
    assert.equal(await new Response(stream).text(), 'abc');

    gw.queue(slowStream);
    const controller = new AbortController();
    const s2 = (await client.invoke(
      'elevenlabs',
      'text-to-speech-stream',
      { path_params: { voice_id: 'v' }, body: { text: 'x' } },
      { signal: controller.signal },
    )) as ReadableStream<Uint8Array>;
    const reader = s2.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'a');
    controller.abort();
    await assert.rejects(reader.read(), { name: 'AbortError' });
  });
});

describe('retry helpers', () => {
  test('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter('1', now), 1000);
    assert.equal(parseRetryAfter(' 2.5 ', now), 2500);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now), 3000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter('', now), null);
    assert.equal(parseRetryAfter(null, now), null);
  });

  test('backoffDelay: full jitter under an exponential ceiling, Retry-After capped', () => {
    const policy = resolveRetry({});
    assert.deepEqual(policy, { retries: 2, baseDelayMs: 500, maxDelayMs: 8000 });
    assert.equal(
      backoffDelay(policy, 0, null, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(policy, 0, null, () => 0.5),
      250,
    );
    assert.equal(
      backoffDelay(policy, 3, null, () => 0.5),
      2000,
    );
    assert.equal(
      backoffDelay(policy, 10, null, () => 0.999),
      7992,
    );
    assert.equal(backoffDelay(policy, 0, 3000), 3000);
    assert.equal(backoffDelay(policy, 0, 60_000), 8000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(policy, 1, null);
      assert.ok(d >= 0 && d < 1000);
    }
    assert.deepEqual(resolveRetry(false), { retries: 0, baseDelayMs: 0, maxDelayMs: 0 });
  });
});
