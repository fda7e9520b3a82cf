// The SDK against a real gateway (packages/gateway) whose upstreams are the sandbox
// (packages/sandbox) or scriptable stubs: discovery shapes, every response mode, every error
// class as a ProxyError, retries, aborts, and a logging subclass (SPEC §4, §5, §7, §10, §11).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerResponse } from 'node:http';
import { ExternalProxyClient, ProxyError, type InvokeOptions, type InvokePayload } from '../src/index.ts';
import {
  eventually,
  looksLikeMp3,
  recordingFetch,
  seedTenant,
  setOrgLimits,
  FIXTURE_IDS,
  startStack,
  startStub,
  VOICE_ID,
  type Stack,
  type StubRequest,
} from './helpers/integration.ts';

const FAST_RETRY = { retries: 2, baseDelayMs: 10, maxDelayMs: 50 };

/** Runs `fn`, which must reject with a ProxyError, and returns that error. */
async function proxyError(fn: () => Promise<unknown>): Promise<ProxyError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof ProxyError, `expected a ProxyError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

/** Rejects with the error `fn` throws (any kind). */
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected the call to fail');
}

describe('SDK against a real gateway and the sandbox', () => {
  let stack: Stack;
  let acmeKey: string; // tenant key for elevenlabs only (heygen has no credentials)
  let badKey: string; // tenant elevenlabs key that the sandbox refuses (no `sandbox_` prefix)

  before(async () => {
    stack = await startStack();
    acmeKey = await seedTenant(stack.gw, 'acme', { elevenlabs: 'sandbox_acme_key' });
    badKey = await seedTenant(stack.gw, 'badkey', { elevenlabs: 'sk_live_not_a_sandbox_key_1234' });
  });
  after(() => stack?.close());

  function client(extra: Partial<ConstructorParameters<typeof ExternalProxyClient>[0]> = {}) {
    const rec = recordingFetch();
    const c = new ExternalProxyClient({ baseUrl: stack.gw.url, apiKey: acmeKey, fetch: rec.fetch, retry: FAST_RETRY, ...extra });
    return { c, rec };
  }

  describe('discovery', () => {
    test('listServices: the services of the plan, with the summary shape of SPEC §4', async () => {
      const { c, rec } = client();
      const services = await c.listServices();
      assert.deepEqual(services.map((s) => s.slug).sort(), ['elevenlabs', 'heygen']);
      for (const s of services) {
        assert.deepEqual(Object.keys(s).sort(), ['credential_name', 'description', 'docs_url', 'endpoint_count', 'name', 'slug']);
        assert.equal(typeof s.name, 'string');
        assert.equal(typeof s.description, 'string');
        assert.ok(Number.isInteger(s.endpoint_count) && s.endpoint_count > 0);
      }
      const el = services.find((s) => s.slug === 'elevenlabs')!;
      assert.equal(el.name, 'ElevenLabs');
      assert.equal(el.credential_name, 'elevenlabs_api_key');
      // Cached: a second call makes no request.
      await c.listServices();
      assert.equal(rec.calls.length, 1);
      assert.equal(rec.calls[0]!.path, '/api/v1/external-proxy/services');
      assert.equal(rec.calls[0]!.headers.authorization, `Bearer ${acmeKey}`);
    });

    test('getService: policy, credentials_configured and endpoints of SPEC §4', async () => {
      const { c } = client();
      const el = await c.getService('elevenlabs');
      assert.equal(el.slug, 'elevenlabs');
      assert.deepEqual(el.credential_policy, { allow_tenant_key: true, allow_platform_key: true, default_source: 'tenant', fallback_to_platform_key: true });
      assert.deepEqual(el.credentials_configured, { tenant: true, platform: false });
      assert.equal(el.endpoints.length, el.endpoint_count);
      const tts = el.endpoints.find((e) => e.slug === 'text-to-speech')!;
      assert.deepEqual(
        { ...tts, name: undefined, description: undefined },
        {
          slug: 'text-to-speech',
          name: undefined,
          description: undefined,
          method: 'POST',
          path_template: '/v1/text-to-speech/{voice_id}',
          path_params: ['voice_id'],
          query_params: tts.query_params,
          request_mode: 'json',
          response_mode: 'binary',
          content_type: 'audio/mpeg',
        },
      );
      assert.ok(tts.query_params.includes('output_format'));
      const stream = el.endpoints.find((e) => e.slug === 'text-to-speech-stream')!;
      assert.equal(stream.response_mode, 'stream');
      const voices = await c.getEndpoint('elevenlabs', 'list-voices');
      assert.deepEqual([voices.method, voices.request_mode, voices.response_mode, voices.content_type], ['GET', 'none', 'json', 'application/json']);

      const hg = await c.getService('heygen');
      assert.deepEqual(hg.credentials_configured, { tenant: false, platform: false });
      const legacy = hg.endpoints.find((e) => e.slug === 'generate-video-v2')!;
      assert.equal(legacy.deprecated, true);
      assert.equal(legacy.sunset, '2026-10-31');

      const missing = await proxyError(() => c.getService('nope'));
      assert.equal(missing.status, 404);
      assert.equal(missing.code, 'service_not_found');
      assert.equal(missing.message, "404 service_not_found: External proxy service 'nope' not found or disabled.");
      assert.equal(missing.source, 'gateway');
    });
  });

  describe('response modes', () => {
    test('json: list-voices resolves to the parsed JSON', async () => {
      const { c, rec } = client();
      const voices = (await c.invoke('elevenlabs', 'list-voices')) as { voices: { voice_id: string; name: string }[] };
      assert.ok(Array.isArray(voices.voices) && voices.voices.length > 0);
      assert.ok(voices.voices.some((v) => v.voice_id === VOICE_ID));
      // The typed helper goes the same way.
      const again = (await c.elevenlabs.listVoices({})) as typeof voices;
      assert.deepEqual(
        again.voices.map((v) => v.voice_id),
        voices.voices.map((v) => v.voice_id),
      );
      // One discovery request, then one request per invoke (SPEC §5 body shape).
      assert.deepEqual(
        rec.calls.map((r) => `${r.method} ${r.path} ${r.status}`),
        [
          'GET /api/v1/external-proxy/services/elevenlabs 200',
          'POST /api/v1/external-proxy/elevenlabs/list-voices 200',
          'POST /api/v1/external-proxy/elevenlabs/list-voices 200',
        ],
      );
    });

    test('binary: text-to-speech resolves to an audio/mpeg Blob that starts like an MP3', async () => {
      const { c } = client();
      const blob = await c.invoke('elevenlabs', 'text-to-speech', {
        path_params: { voice_id: VOICE_ID },
        query: { output_format: 'mp3_44100_128' },
        body: { text: 'Hello from the Portico integration tests.', model_id: 'eleven_multilingual_v2' },
      });
      assert.ok(blob instanceof Blob, 'a Blob');
      assert.equal(blob.type, 'audio/mpeg');
      assert.ok(blob.size > 1000, `size ${blob.size}`);
      const bytes = new Uint8Array(await blob.arrayBuffer());
      assert.ok(looksLikeMp3(bytes), `MP3 start, got ${Buffer.from(bytes.subarray(0, 4)).toString('hex')}`);
      // The typed helper: path parameter out of params, the rest as the JSON body.
      const viaHelper = await c.elevenlabs.textToSpeech({ voice_id: VOICE_ID, text: 'Hi' });
      assert.ok(viaHelper instanceof Blob && viaHelper.size > 0 && viaHelper.type === 'audio/mpeg');
    });

    test('stream: text-to-speech-stream resolves to a ReadableStream that delivers several chunks', async () => {
      const { c } = client();
      const stream = await c.invoke('elevenlabs', 'text-to-speech-stream', {
        path_params: { voice_id: VOICE_ID },
        body: { text: 'A slightly longer sentence, so that the stream has a few chunks to send.' },
      });
      assert.ok(stream instanceof ReadableStream, 'a ReadableStream');
      const chunks: Uint8Array[] = [];
      const reader = (stream as ReadableStream<Uint8Array>).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        assert.ok(value instanceof Uint8Array);
        chunks.push(value);
      }
      assert.ok(chunks.length >= 3, `several chunks, got ${chunks.length}`);
      const all = Buffer.concat(chunks);
      assert.ok(looksLikeMp3(all), `MP3 start, got ${all.subarray(0, 4).toString('hex')}`);
    });
  });

  describe('errors', () => {
    test('gateway error: credentials_not_found, with the response X-Request-Id', async () => {
      const { c, rec } = client();
      const err = await proxyError(() => c.invoke('heygen', 'list-avatars'));
      const res = rec.invokes('list-avatars');
      assert.equal(res.length, 1, 'a 404 is not retried');
      assert.equal(err.status, 404);
      assert.equal(err.code, 'credentials_not_found');
      assert.equal(err.type, 'not_found_error');
      assert.equal(err.detail, "No allowed credentials found for external proxy service 'heygen'.");
      assert.equal(err.message, "404 credentials_not_found: No allowed credentials found for external proxy service 'heygen'.");
      assert.equal(err.source, 'gateway');
      assert.ok(err.requestId, 'a request id');
      assert.equal(err.requestId, res[0]!.requestId);
      assert.equal(res[0]!.errorSource, 'gateway');
      assert.equal(err.headers?.get('x-request-id'), err.requestId);
      assert.deepEqual(err.body, {
        detail: "No allowed credentials found for external proxy service 'heygen'.",
        error: { type: 'not_found_error', code: 'credentials_not_found', message: "No allowed credentials found for external proxy service 'heygen'." },
        request_id: err.requestId,
      });
      assert.equal(err.upstreamStatus, null);
      // The guide's checks keep working.
      assert.ok(err instanceof Error);
      assert.ok(err.message.includes('404'));
      assert.ok(err.message.includes('credentials'));
      assert.equal(err.name, 'ProxyError');
    });

    test('a client-chosen request id comes back as the error requestId', async () => {
      const { c } = client();
      const err = await proxyError(() => c.invoke('heygen', 'list-avatars', {}, { requestId: 'trace-abc-123' }));
      assert.equal(err.requestId, 'trace-abc-123');
    });

    test('local missing_path_parameter: the gateway error shape, and no request sent', async () => {
      const { c, rec } = client();
      await c.getService('elevenlabs'); // warm the cache: the invoke alone must then send nothing
      const before = rec.calls.length;
      const err = await proxyError(() => c.invoke('elevenlabs', 'text-to-speech', { body: { text: 'Hi' } }));
      assert.equal(rec.calls.length, before, 'no request');
      assert.equal(err.status, 400);
      assert.equal(err.code, 'missing_path_parameter');
      assert.equal(err.type, 'invalid_request_error');
      assert.equal(err.message, '400 missing_path_parameter: Missing required path parameter: voice_id');
      assert.equal(err.source, 'gateway');
      assert.equal(err.requestId, null);

      // The same call sent raw gets the same code and message from the gateway.
      const raw = await stack.gw.api('POST', '/api/v1/external-proxy/elevenlabs/text-to-speech', { token: acmeKey, body: { body: { text: 'Hi' } } });
      assert.equal(raw.status, err.status);
      assert.equal(raw.body.error.code, err.code);
      assert.equal(raw.body.error.message, err.detail);
      assert.equal(raw.body.error.type, err.type);

      // The other local checks: invalid path value and unknown query parameter.
      const bad = await proxyError(() => c.invoke('elevenlabs', 'get-voice', { path_params: { voice_id: '..' } }));
      assert.equal(bad.message, '400 invalid_path_parameter: Invalid path parameter: voice_id');
      const q = await proxyError(() => c.invoke('elevenlabs', 'list-voices', { query: { nope: 1 } }));
      assert.equal(q.message, '400 invalid_query_parameter: Unknown query parameter: nope');
      assert.equal(rec.calls.length, before, 'still no request');
    });

    test('upstream 422 passed through: source upstream, the provider code and detail', async () => {
      const { c, rec } = client();
      const err = await proxyError(() =>
        c.invoke('elevenlabs', 'text-to-speech', { path_params: { voice_id: VOICE_ID }, body: { text: 'Hi' } }, { headers: { 'X-Sandbox-Fault': '422' } }),
      );
      assert.equal(err.status, 422);
      assert.equal(err.source, 'upstream');
      assert.equal(err.code, 'validation_error');
      assert.equal(err.type, 'upstream_error');
      assert.ok(err.message.startsWith('422 validation_error: '), err.message);
      const res = rec.invokes('text-to-speech');
      assert.equal(res.length, 1);
      assert.equal(res[0]!.headers['x-sandbox-fault'], '422');
      assert.equal(err.requestId, res[0]!.requestId);
      assert.equal(res[0]!.errorSource, 'upstream');
      // The provider's own body (ElevenLabs' validation list), untouched.
      const body = err.body as { detail: { loc: unknown[]; msg: string }[] };
      assert.ok(Array.isArray(body.detail) && body.detail.length > 0, JSON.stringify(err.body));
      assert.equal(err.upstreamStatus, null);
    });

    test('upstream 401 on the stored key: 502 upstream_auth_failed, then missing_upstream_key while it cools down', async () => {
      const { c, rec } = client({ apiKey: badKey });
      const err = await proxyError(() => c.invoke('elevenlabs', 'text-to-speech', { path_params: { voice_id: VOICE_ID }, body: { text: 'Hi' } }));
      assert.equal(rec.invokes().length, 1, 'a POST without an idempotency key is not retried');
      assert.equal(err.status, 502);
      assert.equal(err.code, 'upstream_auth_failed');
      assert.equal(err.type, 'upstream_error');
      assert.equal(err.message, '502 upstream_auth_failed: The upstream external service rejected the configured credentials.');
      assert.equal(err.source, 'gateway');
      assert.equal(err.upstreamStatus, 401);
      assert.equal(err.upstreamCode, 'invalid_api_key');
      assert.equal(err.requestId, rec.invokes()[0]!.requestId);
      assert.ok(err.message.includes('502'));
      // The provider's body is never relayed (SPEC §7), and the key never appears.
      assert.ok(!JSON.stringify(err.body).includes('sk_live'), JSON.stringify(err.body));

      // The refused key is cooling down (SPEC §6.4): keys exist but none is usable now.
      const next = await proxyError(() => c.invoke('elevenlabs', 'list-voices', {}, { retry: false }));
      assert.equal(next.status, 502);
      assert.equal(next.code, 'missing_upstream_key');
      assert.equal(next.message, '502 missing_upstream_key: upstream provider credentials unavailable');
    });

    test('504 upstream_timeout when the upstream hangs past the service timeout', async () => {
      const { gw } = stack;
      await gw.gateway.ctx.store.db.updateTable('services').set({ timeout_ms: 500 }).where('slug', '=', 'elevenlabs').execute();
      gw.gateway.ctx.registry.changed();
      try {
        const { c, rec } = client();
        const started = Date.now();
        const err = await proxyError(() => c.invoke('elevenlabs', 'list-voices', {}, { headers: { 'X-Sandbox-Fault': 'hang' }, retry: false }));
        const took = Date.now() - started;
        assert.ok(took >= 450 && took < 5000, `took ${took} ms`);
        assert.equal(err.status, 504);
        assert.equal(err.code, 'upstream_timeout');
        assert.equal(err.type, 'upstream_error');
        assert.equal(err.message, '504 upstream_timeout: The upstream external service did not respond in time.');
        assert.equal(err.source, 'gateway');
        assert.equal(err.requestId, rec.invokes()[0]!.requestId);

        // A GET is retried on 504: one attempt plus `retries`.
        const { c: c2, rec: rec2 } = client({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } });
        const again = await proxyError(() => c2.invoke('elevenlabs', 'list-voices', {}, { headers: { 'X-Sandbox-Fault': 'hang' } }));
        assert.equal(again.code, 'upstream_timeout');
        assert.deepEqual(
          rec2.invokes().map((r) => r.status),
          [504, 504],
        );
        assert.notEqual(rec2.invokes()[0]!.requestId, rec2.invokes()[1]!.requestId);
        assert.equal(again.requestId, rec2.invokes()[1]!.requestId, 'the last attempt is reported');
      } finally {
        await gw.gateway.ctx.store.db.updateTable('services').set({ timeout_ms: null }).where('slug', '=', 'elevenlabs').execute();
        gw.gateway.ctx.registry.changed();
      }
    });

    test('upstream reset: 502 upstream_request_failed', async () => {
      const { c } = client();
      const err = await proxyError(() =>
        c.invoke('elevenlabs', 'text-to-speech', { path_params: { voice_id: VOICE_ID }, body: { text: 'Hi' } }, { headers: { 'X-Sandbox-Fault': 'reset' } }),
      );
      assert.equal(err.status, 502);
      assert.equal(err.code, 'upstream_request_failed');
      assert.equal(err.upstreamStatus, null, 'the upstream did not answer');
    });
  });

  describe('retries, aborts and timeouts', () => {
    test('a GET answered 503 by the upstream (gateway 502) is retried, then the last error thrown', async () => {
      const { c, rec } = client();
      const err = await proxyError(() => c.invoke('elevenlabs', 'list-voices', {}, { headers: { 'X-Sandbox-Fault': '503' } }));
      assert.equal(err.status, 502);
      assert.equal(err.code, 'upstream_request_failed');
      assert.equal(err.upstreamStatus, 503);
      assert.equal(err.source, 'gateway');
      const attempts = rec.invokes('list-voices');
      assert.deepEqual(
        attempts.map((r) => r.status),
        [502, 502, 502],
        'one attempt plus 2 retries',
      );
      assert.equal(err.requestId, attempts[2]!.requestId);
    });

    test('a POST answered 503 without an idempotency key is sent once', async () => {
      const { c, rec } = client();
      const err = await proxyError(() =>
        c.invoke('elevenlabs', 'text-to-speech', { path_params: { voice_id: VOICE_ID }, body: { text: 'Hi' } }, { headers: { 'X-Sandbox-Fault': '503' } }),
      );
      assert.equal(err.status, 502);
      assert.equal(rec.invokes().length, 1);
    });

    test('abort via AbortSignal in the middle of a stream', async () => {
      const { c, rec } = client();
      const controller = new AbortController();
      const stream = (await c.invoke(
        'elevenlabs',
        'text-to-speech-stream',
        { path_params: { voice_id: VOICE_ID }, body: { text: 'A long story that takes a while to stream, chunk after chunk after chunk.' } },
        { signal: controller.signal, headers: { 'X-Sandbox-Pace-Ms': '100' } },
      )) as ReadableStream<Uint8Array>;
      const reader = stream.getReader();
      const first = await reader.read();
      assert.equal(first.done, false);
      assert.ok(first.value!.length > 0);
      controller.abort();
      const err = await thrown(async () => {
        for (;;) if ((await reader.read()).done) break;
      });
      assert.equal((err as Error).name, 'AbortError');
      assert.equal(rec.invokes().length, 1, 'an abort is never retried');
      // The gateway saw the client leave and stopped relaying (logged as 499).
      const rid = rec.invokes()[0]!.requestId!;
      const logged = await eventually(() => stack.gw.logs.some((l) => l.includes(rid) && l.includes('"status":499')));
      assert.ok(logged, 'the gateway logs the abandoned stream as 499');
    });

    test('a body cut off mid-way: a GET is retried, then fetch’s own error is thrown', async () => {
      const { c, rec } = client();
      const err = await thrown(() => c.invoke('elevenlabs', 'list-voices', {}, { headers: { 'X-Sandbox-Fault': 'cut' } }));
      assert.ok(err instanceof TypeError && !(err instanceof ProxyError), String(err));
      assert.deepEqual(
        rec.invokes().map((r) => r.status),
        [200, 200, 200],
      );
    });

    test('a binary body cut off under an Idempotency-Key: the network error, not a retry that gets 422 idempotency_key_reused', async () => {
      const { c, rec } = client();
      const err = await thrown(() =>
        c.invoke(
          'elevenlabs',
          'text-to-speech',
          { path_params: { voice_id: VOICE_ID }, body: { text: 'Hello there, cut me off.' } },
          { idempotencyKey: 'cut-binary-1', headers: { 'X-Sandbox-Fault': 'cut' } },
        ),
      );
      assert.ok(err instanceof TypeError && !(err instanceof ProxyError), String(err));
      // The gateway ran it once under the key and stored nothing to replay (SPEC §13), so a retry is futile.
      assert.deepEqual(
        rec.invokes().map((r) => r.status),
        [200],
      );
    });

    test('a json body cut off under an Idempotency-Key: the retry is refused 422, and the network error is thrown', async () => {
      const { c, rec } = client({ retry: { retries: 2, baseDelayMs: 100, maxDelayMs: 200 } });
      const err = await thrown(() => c.invoke('elevenlabs', 'list-voices', {}, { idempotencyKey: 'cut-json-1', headers: { 'X-Sandbox-Fault': 'cut' } }));
      assert.ok(err instanceof TypeError && !(err instanceof ProxyError), String(err));
      assert.deepEqual(
        rec.invokes().map((r) => r.status),
        [200, 422],
      );
    });

    test('abort before the answer, and a deadline, reject without retrying', async () => {
      const { c, rec } = client();
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const aborted = await thrown(() => c.invoke('elevenlabs', 'list-voices', {}, { signal: controller.signal, headers: { 'X-Sandbox-Fault': 'hang' } }));
      assert.equal((aborted as Error).name, 'AbortError');
      const timedOut = await thrown(() => c.invoke('elevenlabs', 'list-voices', {}, { timeoutMs: 150, headers: { 'X-Sandbox-Fault': 'hang' } }));
      assert.equal((timedOut as Error).name, 'TimeoutError');
      assert.equal(rec.invokes().length, 2, 'one request per call');
      assert.ok(!(aborted instanceof ProxyError) && !(timedOut instanceof ProxyError));
    });
  });

  describe('more of the gateway: multipart, idempotency, async jobs, auth, limits', () => {
    let studioKey: string; // tenant keys for both services
    before(async () => {
      studioKey = await seedTenant(stack.gw, 'studio', { elevenlabs: 'sandbox_studio_el', heygen: 'sandbox_studio_hg' });
    });

    test('multipart: speech-to-text with a File (the text-to-speech output) goes through the gateway', async () => {
      const { c } = client({ apiKey: studioKey });
      const mp3 = (await c.invoke('elevenlabs', 'text-to-speech', { path_params: { voice_id: VOICE_ID }, body: { text: 'Round trip.' } })) as Blob;
      const transcript = (await c.invoke('elevenlabs', 'speech-to-text', {
        body: { model_id: 'scribe_v1', file: new File([mp3], 'clip.mp3', { type: 'audio/mpeg' }) },
      })) as { text: string; words: unknown[] };
      assert.equal(typeof transcript.text, 'string');
      assert.ok(transcript.text.length > 0 && Array.isArray(transcript.words));
      // A multipart upstream 4xx is passed through like any other (missing model_id).
      const err = await proxyError(() => c.invoke('elevenlabs', 'speech-to-text', { body: { file: new File([mp3], 'clip.mp3', { type: 'audio/mpeg' }) } }));
      assert.equal(err.source, 'upstream');
      assert.equal(err.status, 422);
    });

    test('json POST with an idempotency key: replayed by the gateway; the video job completes', async () => {
      const { c, rec } = client({ apiKey: studioKey });
      const body = { type: 'avatar', avatar_id: FIXTURE_IDS.heygen.avatar_id, script: 'Hello from Portico.', voice_id: FIXTURE_IDS.heygen.voice_id };
      const first = (await c.heygen.generateVideo(body, { idempotencyKey: 'video-order-1' })) as { data: { video_id: string; status: string } };
      const again = (await c.invoke('heygen', 'generate-video', { body }, { idempotencyKey: 'video-order-1' })) as typeof first;
      assert.deepEqual(again, first);
      const [a, b] = rec.invokes('generate-video');
      assert.equal(a!.response!.get('idempotent-replayed'), null);
      assert.equal(b!.response!.get('idempotent-replayed'), 'true');
      assert.notEqual(a!.requestId, b!.requestId, 'the replay keeps its own request id');

      const reused = await proxyError(() =>
        c.invoke('heygen', 'generate-video', { body: { ...body, script: 'Another one.' } }, { idempotencyKey: 'video-order-1' }),
      );
      assert.equal(reused.message, '422 idempotency_key_reused: This Idempotency-Key was used with a different request.');
      assert.equal(reused.source, 'gateway');
      assert.equal(rec.invokes('generate-video').length, 3, 'a 422 is not retried');

      // The job moves from pending to completed (videoJobMs 500 in this stack).
      const videoId = first.data.video_id;
      let status = '';
      for (let i = 0; i < 40 && status !== 'completed'; i++) {
        const s = (await c.heygen.videoStatus({ video_id: videoId })) as { data: { status: string; video_url?: string } };
        status = s.data.status;
        if (status === 'completed') assert.match(String(s.data.video_url), /^https?:\/\//);
        else await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 'completed');
    });

    test('authentication errors: 401 invalid_token and not_authenticated, not retried', async () => {
      const { c, rec } = client({ apiKey: 'pk_not_a_real_key' });
      const bad = await proxyError(() => c.listServices());
      assert.equal(bad.message, '401 invalid_token: Invalid token.');
      assert.equal(bad.type, 'authentication_error');
      assert.equal(bad.requestId, rec.calls[0]!.requestId);
      const { c: anon, rec: anonRec } = client({ apiKey: undefined });
      const none = await proxyError(() => anon.invoke('elevenlabs', 'list-voices'));
      assert.equal(none.message, '401 not_authenticated: Authentication credentials were not provided.');
      assert.equal(rec.calls.length + anonRec.calls.length, 2);

      // The platform admin token acts for an organization named with `organization` (SPEC §3).
      const { c: admin, rec: adminRec } = client({ apiKey: stack.gw.adminToken, organization: 'studio' });
      assert.deepEqual((await admin.listServices()).map((x) => x.slug).sort(), ['elevenlabs', 'heygen']);
      assert.equal(adminRec.calls[0]!.headers['x-portico-organization'], 'studio');
      const { c: lost } = client({ apiKey: stack.gw.adminToken });
      const denied = await proxyError(() => lost.listServices());
      assert.equal(denied.message, '403 permission_denied: You do not have permission to perform this action.');
    });

    test('429 rate_limited from the gateway is retried; 429 quota_exceeded is not', async () => {
      const { gw } = stack;
      const limitedKey = await seedTenant(gw, 'limited', { elevenlabs: 'sandbox_limited' });
      await setOrgLimits(gw, 'limited', { requests_per_minute: 2 });
      const { c, rec } = client({ apiKey: limitedKey });
      await c.invoke('elevenlabs', 'list-voices');
      await c.invoke('elevenlabs', 'list-voices');
      const limited = await proxyError(() => c.invoke('elevenlabs', 'list-voices'));
      assert.equal(limited.status, 429);
      assert.equal(limited.code, 'rate_limited');
      assert.equal(limited.message, '429 rate_limited: Request was throttled.');
      assert.equal(limited.type, 'rate_limit_error');
      assert.ok((limited.retryAfterSeconds ?? 0) >= 1, `Retry-After ${limited.headers?.get('retry-after')}`);
      assert.equal(limited.headers?.get('ratelimit-limit'), '2');
      assert.deepEqual(
        rec.invokes().map((r) => r.status),
        [200, 200, 429, 429, 429],
        'retried twice (waits capped by maxDelayMs)',
      );

      const quotaKey = await seedTenant(gw, 'quota', { elevenlabs: 'sandbox_quota' });
      await setOrgLimits(gw, 'quota', { monthly_requests: 1 });
      const { c: q, rec: qRec } = client({ apiKey: quotaKey });
      await q.invoke('elevenlabs', 'list-voices');
      const quota = await proxyError(() => q.invoke('elevenlabs', 'list-voices'));
      assert.equal(quota.message, '429 quota_exceeded: Monthly quota exhausted for this organization.');
      assert.deepEqual(
        qRec.invokes().map((r) => r.status),
        [200, 429],
        'a monthly quota is not retried',
      );
    });
  });

  test('LoggingProxyClient (the guide subclass) logs one duration line per call', async () => {
    const lines: string[] = [];
    class LoggingProxyClient extends ExternalProxyClient {
      override async invoke(serviceSlug: string, actionSlug: string, payload: InvokePayload = {}, options?: InvokeOptions): Promise<unknown> {
        lines.push(`[ProxyAPI] Invoking ${serviceSlug}/${actionSlug}`);
        const startTime = Date.now();
        try {
          const result = await super.invoke(serviceSlug, actionSlug, payload, options);
          lines.push(`[ProxyAPI] Success in ${Date.now() - startTime}ms`);
          return result;
        } catch (error) {
          lines.push(`[ProxyAPI] Failed after ${Date.now() - startTime}ms: ${(error as Error).message}`);
          throw error;
        }
      }
    }
    const rec = recordingFetch();
    const c = new LoggingProxyClient({ baseUrl: stack.gw.url, apiKey: acmeKey, fetch: rec.fetch, retry: FAST_RETRY });
    await c.invoke('elevenlabs', 'list-voices', {});
    await c.elevenlabs.textToSpeech({ voice_id: VOICE_ID, text: 'Hi' }); // typed helpers go through the override
    await assert.rejects(c.invoke('elevenlabs', 'text-to-speech', { body: { text: 'Hi' } }), ProxyError);
    await assert.rejects(c.invoke('heygen', 'list-avatars', {}), ProxyError);
    await assert.rejects(c.invoke('elevenlabs', 'list-voices', {}, { headers: { 'X-Sandbox-Fault': '503' } }), ProxyError); // 3 attempts, one call

    const durations = lines.filter((l) => /^\[ProxyAPI\] (Success in|Failed after) \d+ms/.test(l));
    assert.equal(durations.length, 5, lines.join('\n'));
    assert.equal(lines.filter((l) => l.startsWith('[ProxyAPI] Invoking')).length, 5);
    assert.match(durations[0]!, /^\[ProxyAPI\] Success in \d+ms$/);
    assert.match(durations[1]!, /^\[ProxyAPI\] Success in \d+ms$/);
    assert.equal(durations[2]!.replace(/\d+ms/, 'Nms'), '[ProxyAPI] Failed after Nms: 400 missing_path_parameter: Missing required path parameter: voice_id');
    assert.equal(
      durations[3]!.replace(/\d+ms/, 'Nms'),
      "[ProxyAPI] Failed after Nms: 404 credentials_not_found: No allowed credentials found for external proxy service 'heygen'.",
    );
    assert.equal(
      durations[4]!.replace(/\d+ms/, 'Nms'),
      '[ProxyAPI] Failed after Nms: 502 upstream_request_failed: The upstream external service request failed.',
    );
    assert.equal(rec.invokes('list-voices').length, 4, 'the retried call made 3 attempts under one log line');
  });

  test('no secret in the gateway logs: neither API keys nor provider keys', () => {
    const logs = stack.gw.logs.join('');
    assert.ok(logs.length > 0);
    for (const secret of [
      acmeKey,
      badKey,
      'sandbox_acme_key',
      'sk_live_not_a_sandbox_key_1234',
      'sandbox_studio_el',
      'sandbox_studio_hg',
      stack.gw.adminToken,
    ]) {
      assert.ok(!logs.includes(secret), `a secret in the logs: ${secret.slice(0, 6)}…`);
    }
  });

  test('the SDK logger: one debug line per attempt with status and duration, the API key never logged', async () => {
    const logged: { level: string; text: string }[] = [];
    const logger = Object.fromEntries(
      ['debug', 'info', 'warn', 'error'].map((level) => [
        level,
        (...args: unknown[]) => logged.push({ level, text: args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ') }),
      ]),
    ) as unknown as Console;
    const { c } = client({ logger });
    await c.invoke('elevenlabs', 'list-voices');
    await assert.rejects(c.invoke('elevenlabs', 'list-voices', {}, { headers: { 'X-Sandbox-Fault': '503' } }));
    const invokeLines = logged.filter((l) => l.text.includes('elevenlabs/list-voices'));
    assert.ok(
      invokeLines.some((l) => l.level === 'debug' && /elevenlabs\/list-voices 200 in \d+ms/.test(l.text)),
      JSON.stringify(logged),
    );
    assert.equal(invokeLines.filter((l) => l.level === 'warn' && l.text.includes('retry')).length, 2);
    assert.ok(!logged.some((l) => l.text.includes(acmeKey)), 'the API key is never logged');
  });
});

describe('SDK retries against a real gateway, upstream requests counted at a stub', () => {
  let stack: Stack;
  let key: string;
  /** How the stub answers the n-th request (0-based) of the current test. */
  let script: (n: number, req: StubRequest, res: ServerResponse) => void = (_n, _req, res) => res.writeHead(500).end();
  let stub: Awaited<ReturnType<typeof startStub>>;
  let seen = 0;

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  const mp3 = Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(412, 0)]);

  before(async () => {
    stub = await startStub((req, res) => script(seen++, req, res));
    stack = await startStack({ upstreams: { elevenlabs: stub.url } });
    key = await seedTenant(stack.gw, 'acme', { elevenlabs: 'sk_stub_key_0001' });
  });
  after(async () => {
    await stack?.close();
    await stub?.close();
  });

  function reset(next: typeof script): void {
    stub.requests.length = 0;
    seen = 0;
    script = next;
  }

  test('GET: two upstream 503s then 200 → success after exactly 3 upstream requests', async () => {
    reset((n, _req, res) =>
      n < 2 ? json(res, 503, { detail: { status: 'service_unavailable', message: 'busy' } }) : json(res, 200, { voices: [{ voice_id: 'v1' }] }),
    );
    const rec = recordingFetch();
    const c = new ExternalProxyClient({ baseUrl: stack.gw.url, apiKey: key, fetch: rec.fetch, retry: FAST_RETRY });
    const result = await c.invoke('elevenlabs', 'list-voices');
    assert.deepEqual(result, { voices: [{ voice_id: 'v1' }] });
    assert.equal(stub.requests.length, 3);
    assert.deepEqual(
      rec.invokes().map((r) => r.status),
      [502, 502, 200],
    );
  });

  test('GET: retries exhausted → the last 502, upstream hit 1 + retries times', async () => {
    reset((_n, _req, res) => json(res, 503, { detail: { status: 'service_unavailable', message: 'busy' } }));
    const c = new ExternalProxyClient({ baseUrl: stack.gw.url, apiKey: key, retry: { retries: 3, baseDelayMs: 5, maxDelayMs: 20 } });
    const err = await proxyError(() => c.invoke('elevenlabs', 'list-voices'));
    assert.equal(err.code, 'upstream_request_failed');
    assert.equal(err.upstreamStatus, 503);
    assert.equal(err.upstreamCode, 'service_unavailable');
    assert.equal(stub.requests.length, 4);
  });

  test('POST without an idempotency key: one upstream request, no retry', async () => {
    reset((_n, _req, res) => json(res, 503, { detail: { status: 'service_unavailable', message: 'busy' } }));
    const c = new ExternalProxyClient({ baseUrl: stack.gw.url, apiKey: key, retry: FAST_RETRY });
    const err = await proxyError(() => c.invoke('elevenlabs', 'text-to-speech', { path_params: { voice_id: 'v1' }, body: { text: 'Hi' } }));
    assert.equal(err.status, 502);
    assert.equal(stub.requests.length, 1);
  });

  test('POST with an idempotency key: retried after a 502, and succeeds', async () => {
    reset((n, _req, res) =>
      n === 0 ? json(res, 503, { detail: { status: 'service_unavailable', message: 'busy' } }) : res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(mp3),
    );
    const rec = recordingFetch();
    const c = new ExternalProxyClient({ baseUrl: stack.gw.url, apiKey: key, fetch: rec.fetch, retry: FAST_RETRY });
    const blob = (await c.invoke(
      'elevenlabs',
      'text-to-speech',
      { path_params: { voice_id: 'v1' }, body: { text: 'Hi' } },
      { idempotencyKey: 'order-42' },
    )) as Blob;
    assert.ok(blob instanceof Blob);
    assert.deepEqual(Buffer.from(await blob.arrayBuffer()), mp3);
    assert.equal(stub.requests.length, 2);
    assert.deepEqual(
      rec.invokes().map((r) => [r.status, r.headers['idempotency-key']]),
      [
        [502, 'order-42'],
        [200, 'order-42'],
      ],
    );
    assert.equal(stub.requests[0]!.headers['idempotency-key'], undefined, 'the gateway keeps the key to itself');
  });

  test('upstream 429 with Retry-After: passed through, retried after the wait, and succeeds', async () => {
    reset((n, _req, res) =>
      n === 0
        ? json(res, 429, { detail: { status: 'too_many_concurrent_requests', message: 'slow down' } }, { 'retry-after': '1' })
        : json(res, 200, { voices: [] }),
    );
    const rec = recordingFetch();
    const c = new ExternalProxyClient({ baseUrl: stack.gw.url, apiKey: key, fetch: rec.fetch, retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 5000 } });
    const started = Date.now();
    assert.deepEqual(await c.invoke('elevenlabs', 'list-voices'), { voices: [] });
    const took = Date.now() - started;
    assert.ok(took >= 950, `waited Retry-After (took ${took} ms)`);
    assert.deepEqual(
      rec.invokes().map((r) => [r.status, r.errorSource]),
      [
        [429, 'upstream'],
        [200, null],
      ],
    );
    assert.equal(stub.requests.length, 2);
  });
});
