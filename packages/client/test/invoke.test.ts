import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ExternalProxyClient, ProxyError, type InvokeOptions, type InvokePayload } from '../src/index.ts';
import { API_KEY, BINARY, envelope, STREAM_CHUNKS, startStubGateway, type StubGateway } from './helpers/stub-gateway.ts';

describe('invoke', () => {
  let gw: StubGateway;
  let client: ExternalProxyClient;
  before(async () => {
    gw = await startStubGateway();
    client = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, retry: { retries: 2, baseDelayMs: 5, maxDelayMs: 20 } });
  });
  after(() => gw.close());

  describe('response modes', () => {
    test('json: parsed JSON, and the SPEC §5 invoke body', async () => {
      const result = await client.invoke(
        'elevenlabs',
        'get-voice',
        { path_params: { voice_id: 'v 1?x' }, query: { with_settings: true }, credential_source: 'platform' },
        { requestId: 'my-trace-1' },
      );
      assert.deepEqual(result, {
        ok: true,
        service: 'elevenlabs',
        action: 'get-voice',
        received: { path_params: { voice_id: 'v 1?x' }, query: { with_settings: true }, credential_source: 'platform' },
      });
      const req = gw.invokes().at(-1)!;
      assert.equal(req.path, '/api/v1/external-proxy/elevenlabs/get-voice');
      assert.equal(req.headers['content-type'], 'application/json');
      assert.equal(req.headers['x-request-id'], 'my-trace-1');
      assert.equal(req.headers.authorization, `Bearer ${API_KEY}`);
      assert.equal(req.headers['idempotency-key'], undefined);
    });

    test('binary: a Blob with the exact bytes and content type', async () => {
      const result = await client.invoke('elevenlabs', 'text-to-speech', {
        path_params: { voice_id: '21m00Tcm4TlvDq8ikWAM' },
        query: { output_format: 'mp3_44100_128' },
        body: { text: 'Hello', model_id: 'eleven_multilingual_v2' },
      });
      assert.ok(result instanceof Blob);
      assert.equal(result.type, 'audio/mpeg');
      assert.equal(result.size, BINARY.length);
      assert.deepEqual(Buffer.from(await result.arrayBuffer()), BINARY);
      assert.deepEqual(gw.invokes().at(-1)!.body, {
        path_params: { voice_id: '21m00Tcm4TlvDq8ikWAM' },
        query: { output_format: 'mp3_44100_128' },
        body: { text: 'Hello', model_id: 'eleven_multilingual_v2' },
      });
    });

    test('stream: a ReadableStream<Uint8Array> delivering the chunks as they come', async () => {
      const result = await client.invoke('elevenlabs', 'text-to-speech-stream', { path_params: { voice_id: 'v1' }, body: { text: 'Hi' } });
      assert.ok(result instanceof ReadableStream);
      const reader = (result as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      const received: string[] = [];
      let reads = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        assert.ok(value instanceof Uint8Array);
        reads++;
        received.push(decoder.decode(value, { stream: true }));
      }
      assert.equal(received.join(''), STREAM_CHUNKS.join(''));
      assert.ok(reads >= 2, `the chunks arrive separately (${reads} reads)`);
    });

    test('multipart: the payload field carries the JSON, the other fields and files follow', async () => {
      const file = new File([new Uint8Array([1, 2, 3, 4])], 'clip.wav', { type: 'audio/wav' });
      const result = (await client.invoke('elevenlabs', 'speech-to-text', {
        query: { enable_logging: false },
        body: { model_id: 'scribe_v1', file, diarize: true },
      })) as { received: { payload: unknown; fields: Record<string, unknown> } };
      assert.deepEqual(result.received.payload, { query: { enable_logging: false } });
      assert.deepEqual(result.received.fields, {
        model_id: 'scribe_v1',
        diarize: 'true',
        file: { filename: 'clip.wav', type: 'audio/wav', size: 4, text: '\u0001\u0002\u0003\u0004' },
      });

      const form = new FormData();
      form.append('file', new Blob(['abc'], { type: 'text/plain' }), 'a.txt');
      const viaForm = (await client.invoke('heygen', 'upload-asset', { body: form })) as typeof result;
      assert.deepEqual(viaForm.received, { payload: {}, fields: { file: { filename: 'a.txt', type: 'text/plain', size: 3, text: 'abc' } } });
    });
  });

  describe('errors', () => {
    test('gateway envelope → ProxyError with exact fields; message works with includes()', async () => {
      const msg = "No allowed credentials found for external proxy service 'elevenlabs'.";
      const body = envelope('credentials_not_found', 'not_found_error', msg, '01JDREQUESTID');
      gw.queue({ status: 404, headers: { 'x-error-source': 'gateway', 'x-request-id': 'ignored-header-id' }, body });
      const err = await client.invoke('elevenlabs', 'list-voices').then(
        () => assert.fail('expected a rejection'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ProxyError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'ProxyError');
      assert.equal(err.status, 404);
      assert.equal(err.type, 'not_found_error');
      assert.equal(err.code, 'credentials_not_found');
      assert.equal(err.message, `404 credentials_not_found: ${msg}`);
      assert.equal(err.detail, msg);
      assert.equal(err.requestId, '01JDREQUESTID');
      assert.equal(err.source, 'gateway');
      assert.deepEqual(err.body, body);
      assert.ok(err.message.includes('404'));
      assert.ok(err.message.includes('credentials'));
    });

    test('request id comes from X-Request-Id when the body has none', async () => {
      gw.queue({ status: 500, headers: { 'x-error-source': 'gateway' }, body: 'Internal Server Error' });
      await assert.rejects(client.invoke('elevenlabs', 'text-to-speech', { path_params: { voice_id: 'v' }, body: {} }), (err: unknown) => {
        assert.ok(err instanceof ProxyError);
        assert.equal(err.status, 500);
        assert.equal(err.source, 'gateway');
        assert.equal(err.code, 'http_error');
        assert.equal(err.body, 'Internal Server Error');
        assert.equal(err.message, '500 http_error: Internal Server Error');
        assert.match(err.requestId!, /^req_\d+$/);
        assert.equal(err.requestId, gw.invokes().at(-1) && err.headers!.get('x-request-id'));
        return true;
      });
    });

    test('a gateway error caused by an upstream answer keeps upstream_status and upstream_code', async () => {
      const body = envelope('upstream_auth_failed', 'upstream_error', 'The upstream external service rejected the configured credentials.', 'r1');
      (body.error as Record<string, unknown>).upstream_status = 401;
      (body.error as Record<string, unknown>).upstream_code = 'quota_exceeded';
      gw.queue({ status: 502, headers: { 'x-error-source': 'gateway' }, body });
      // POST without idempotency key: not retried, so one queued answer is enough.
      await assert.rejects(client.invoke('heygen', 'generate-video', { body: {} }), {
        status: 502,
        code: 'upstream_auth_failed',
        type: 'upstream_error',
        source: 'gateway',
        upstreamStatus: 401,
        upstreamCode: 'quota_exceeded',
        requestId: 'r1',
      });
    });

    test('upstream 402 pass-through (ElevenLabs) → source upstream and the provider code', async () => {
      const body = {
        detail: {
          type: 'payment_required',
          code: 'paid_plan_required',
          message: 'Free users cannot use library voices via the API. Please upgrade your subscription to use this voice.',
          status: 'payment_required',
          request_id: '0f3c',
        },
      };
      gw.queue({ status: 402, headers: { 'x-error-source': 'upstream', 'x-request-id': 'portico-req-9' }, body });
      await assert.rejects(client.invoke('elevenlabs', 'text-to-speech', { path_params: { voice_id: 'v' }, body: { text: 'x' } }), (err: unknown) => {
        assert.ok(err instanceof ProxyError);
        assert.equal(err.status, 402);
        assert.equal(err.source, 'upstream');
        assert.equal(err.code, 'paid_plan_required');
        assert.equal(err.type, 'payment_required');
        assert.equal(err.message, `402 paid_plan_required: ${body.detail.message}`);
        assert.equal(err.requestId, 'portico-req-9');
        assert.deepEqual(err.body, body);
        return true;
      });
    });

    test('upstream legacy ElevenLabs body: detail.status / detail.message', async () => {
      gw.queue({
        status: 402,
        headers: { 'x-error-source': 'upstream' },
        body: { detail: { status: 'quota_exceeded', message: 'This request exceeds your quota of 10000.' } },
      });
      await assert.rejects(client.invoke('elevenlabs', 'list-voices', {}, { retry: false }), {
        source: 'upstream',
        code: 'quota_exceeded',
        type: 'upstream_error',
        message: '402 quota_exceeded: This request exceeds your quota of 10000.',
      });
    });

    test('upstream HeyGen v3 error.code / error.message, v1 numeric code, ElevenLabs 422 list, unknown body', async () => {
      gw.queue({
        status: 402,
        headers: { 'x-error-source': 'upstream' },
        body: { error: { code: 'insufficient_credit', message: 'Insufficient credit.', param: null, doc_url: null } },
      });
      await assert.rejects(client.invoke('heygen', 'generate-video', { body: {} }), {
        status: 402,
        source: 'upstream',
        code: 'insufficient_credit',
        message: '402 insufficient_credit: Insufficient credit.',
      });

      gw.queue({ status: 400, headers: { 'x-error-source': 'upstream' }, body: { code: 400112, message: 'Unauthorized' } });
      await assert.rejects(client.invoke('heygen', 'video-status-v1', { query: { video_id: 'x' } }), {
        source: 'upstream',
        code: '400112',
        message: '400 400112: Unauthorized',
      });

      gw.queue({
        status: 422,
        headers: { 'x-error-source': 'upstream' },
        body: { detail: [{ type: 'missing', loc: ['body', 'text'], msg: 'Field required', input: null }] },
      });
      await assert.rejects(client.invoke('elevenlabs', 'text-to-speech', { path_params: { voice_id: 'v' }, body: {} }), {
        status: 422,
        source: 'upstream',
        code: 'validation_error',
        message: '422 validation_error: body.text: Field required',
      });

      gw.queue({ status: 409, headers: { 'x-error-source': 'upstream' }, body: '<html>conflict</html>' });
      await assert.rejects(client.invoke('heygen', 'generate-video', { body: {} }), {
        status: 409,
        source: 'upstream',
        code: 'upstream_error',
        type: 'upstream_error',
        body: '<html>conflict</html>',
      });
    });

    test('missing_path_parameter is raised locally, with zero requests made', async () => {
      await client.getService('elevenlabs'); // discovery is cached from here on
      const before = gw.requests.length;
      for (const pathParams of [undefined, {}, { voice_id: null }, { voice_id: '' }, { other: 'x' }] as InvokePayload['path_params'][]) {
        await assert.rejects(client.invoke('elevenlabs', 'text-to-speech', { path_params: pathParams, body: { text: 'x' } }), (err: unknown) => {
          assert.ok(err instanceof ProxyError);
          assert.equal(err.status, 400);
          assert.equal(err.code, 'missing_path_parameter');
          assert.equal(err.type, 'invalid_request_error');
          assert.equal(err.message, '400 missing_path_parameter: Missing required path parameter: voice_id');
          assert.equal(err.source, 'gateway');
          assert.equal(err.requestId, null);
          return true;
        });
      }
      assert.equal(gw.requests.length, before, 'no request reached the gateway');
    });

    test('other local checks: invalid path value, wrong type, unknown query parameter', async () => {
      await client.getService('elevenlabs');
      const before = gw.requests.length;
      await assert.rejects(client.invoke('elevenlabs', 'get-voice', { path_params: { voice_id: '..' } }), {
        code: 'invalid_path_parameter',
        message: '400 invalid_path_parameter: Invalid path parameter: voice_id',
      });
      await assert.rejects(client.invoke('elevenlabs', 'get-voice', { path_params: { voice_id: 'a/b' } }), { code: 'invalid_path_parameter' });
      await assert.rejects(client.invoke('elevenlabs', 'get-voice', { path_params: { voice_id: true as unknown as string } }), {
        status: 400,
        code: 'invalid_request',
      });
      await assert.rejects(client.invoke('elevenlabs', 'get-voice', { path_params: { voice_id: 'v' }, query: { nope: 1 } }), {
        code: 'invalid_query_parameter',
        message: '400 invalid_query_parameter: Unknown query parameter: nope',
      });
      assert.equal(gw.requests.length, before);
      // A number is a valid path value.
      await client.invoke('elevenlabs', 'get-voice', { path_params: { voice_id: 42 } });
    });

    test('bad arguments are TypeErrors', async () => {
      await assert.rejects(client.invoke('', 'x'), TypeError);
      await assert.rejects(client.invoke('elevenlabs', 'list-voices', null as unknown as InvokePayload), TypeError);
      assert.throws(() => new ExternalProxyClient({ baseUrl: gw.url, timeoutMs: -1 }), TypeError);
      assert.throws(() => new ExternalProxyClient({ baseUrl: gw.url, retry: { retries: -1 } }), TypeError);
    });
  });

  describe('LoggingProxyClient (seed example, in TypeScript)', () => {
    test('overriding invoke logs each call with its duration; typed helpers go through the override', async () => {
      const lines: string[] = [];
      const log = { log: (...a: unknown[]) => lines.push(a.join(' ')), error: (...a: unknown[]) => lines.push(a.join(' ')) };

      class LoggingProxyClient extends ExternalProxyClient {
        override async invoke(serviceSlug: string, actionSlug: string, payload: InvokePayload = {}, options?: InvokeOptions): Promise<unknown> {
          log.log(`[ProxyAPI] Invoking ${serviceSlug}/${actionSlug}`);
          const startTime = Date.now();
          try {
            const result = await super.invoke(serviceSlug, actionSlug, payload, options);
            const duration = Date.now() - startTime;
            log.log(`[ProxyAPI] Success in ${duration}ms`);
            return result;
          } catch (error) {
            const duration = Date.now() - startTime;
            log.error(`[ProxyAPI] Failed after ${duration}ms:`, (error as Error).message);
            throw error;
          }
        }
      }

      const logging = new LoggingProxyClient({ baseUrl: gw.url, apiKey: API_KEY });
      assert.ok(logging instanceof ExternalProxyClient);
      const voices = await logging.invoke('elevenlabs', 'list-voices', {});
      assert.equal((voices as { ok: boolean }).ok, true);
      await assert.rejects(logging.invoke('elevenlabs', 'text-to-speech', {}), { code: 'missing_path_parameter' });
      const audio = await logging.elevenlabs.textToSpeech({ voice_id: 'v1', text: 'Hello' });
      assert.ok(audio instanceof Blob);

      assert.equal(lines.length, 6, lines.join('\n'));
      assert.equal(lines[0], '[ProxyAPI] Invoking elevenlabs/list-voices');
      assert.match(lines[1]!, /^\[ProxyAPI\] Success in \d+ms$/);
      assert.equal(lines[2], '[ProxyAPI] Invoking elevenlabs/text-to-speech');
      assert.match(lines[3]!, /^\[ProxyAPI\] Failed after \d+ms: 400 missing_path_parameter: Missing required path parameter: voice_id$/);
      assert.equal(lines[4], '[ProxyAPI] Invoking elevenlabs/text-to-speech');
      assert.match(lines[5]!, /^\[ProxyAPI\] Success in \d+ms$/);
    });

    test('the seed safeInvoke pattern: message.includes checks work', async () => {
      const seen: string[] = [];
      async function safeInvoke(c: ExternalProxyClient, service: string, action: string, payload: InvokePayload): Promise<unknown> {
        try {
          return await c.invoke(service, action, payload);
        } catch (error) {
          const message = (error as Error).message;
          if (message.includes('404')) seen.push('not found');
          else if (message.includes('502')) seen.push('upstream');
          else if (message.includes('credentials')) seen.push('credentials');
          else seen.push('other');
          throw error;
        }
      }
      const noRetry = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, retry: false });
      await assert.rejects(safeInvoke(noRetry, 'nope', 'x', {}));
      gw.queue({
        status: 502,
        headers: { 'x-error-source': 'gateway' },
        body: envelope('upstream_request_failed', 'upstream_error', 'The upstream external service request failed.', 'r'),
      });
      await assert.rejects(safeInvoke(noRetry, 'elevenlabs', 'list-voices', {}));
      assert.deepEqual(seen, ['not found', 'upstream']);
    });
  });

  test('a pluggable logger receives debug and warn lines, never the key', async () => {
    const lines: string[] = [];
    const logger = {
      debug: (m: string) => lines.push(`debug ${m}`),
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
      error: (m: string) => lines.push(`error ${m}`),
    };
    const logged = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, logger, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    gw.queue({
      status: 503,
      headers: { 'x-error-source': 'gateway' },
      body: envelope('service_unavailable', 'api_error', 'Service temporarily unavailable.', 'r'),
    });
    await logged.invoke('elevenlabs', 'list-voices');
    assert.ok(
      lines.some((l) => l.startsWith('debug portico: elevenlabs/list-voices 200')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /^warn portico: elevenlabs\/list-voices 503 service_unavailable; retry 1\/2 in \d+ms$/.test(l)),
      lines.join('\n'),
    );
    assert.ok(lines.every((l) => !l.includes(API_KEY)));
  });
});
