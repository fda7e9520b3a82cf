// The relay path against a scripted local upstream: streaming, timeouts, failures, aborts,
// multipart uploads, header hygiene and deprecation headers (SPEC §5, §7).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { startGateway, expectError, type TestGateway } from './helpers.ts';
import { seedCredential, seedKey, seedOrg, startStub } from './fixtures.ts';
import { flushUsage } from '../src/limits/index.ts';

let stub: Awaited<ReturnType<typeof startStub>>;
let gw: TestGateway;
let key: string;
let aborted = 0;
let heygenCred: string;
const big = Buffer.alloc(6 * 1024 * 1024);
for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;

before(async () => {
  stub = await startStub(async (req, res) => {
    const fault = req.headers['x-test'];
    res.on('close', () => {
      if (!res.writableFinished) aborted++;
    });
    if (fault === 'stream') {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      res.write(Buffer.from('first'));
      await new Promise((r) => setTimeout(r, 800));
      res.end(Buffer.from('last'));
    } else if (fault === 'hang') {
      // never answers
    } else if (fault === 'idle') {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      res.write('a');
    } else if (fault === 'reset') {
      res.socket?.destroy();
    } else if (fault === '500') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"detail":{"status":"internal","message":"boom"}}');
    } else if (fault === '422') {
      res
        .writeHead(422, { 'content-type': 'application/json', 'retry-after': '3', 'set-cookie': 'x=y' })
        .end('{"detail":[{"loc":["body","text"],"msg":"field required"}]}');
    } else if (fault === 'heygen401') {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":400112,"message":"Unauthorized"}');
    } else if (fault === 'big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(big.length) });
      res.end(big);
    } else if (fault === 'huge') {
      // 48 MiB written as fast as the gateway takes it: more than the sockets between can hold.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(8 * big.length) });
      let sent = 0;
      const more = (): void => {
        while (sent < 8) {
          sent++;
          if (!res.write(big)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    } else if (fault === 'slowbody') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => res.write(Buffer.alloc(1024)), 20);
      res.on('close', () => clearInterval(timer));
    } else if (fault === 'yield') {
      // Fields Portico also sets, and a repeated one.
      res.writeHead(
        200,
        [
          ['content-type', 'application/json'],
          ['x-request-id', 'heygen-req-2'],
          ['x-upstream-request-id', 'upstream-own'],
          ['deprecation', '@1700000000'],
          ['sunset', 'Mon, 01 Jan 2024 00:00:00 GMT'],
          ['vary', 'Accept-Encoding'],
          ['x-multi', 'one'],
          ['x-multi', 'two'],
        ].flat(),
      );
      res.end('{"data":{"ok":true}}');
    } else if (fault === 'echo') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: req.body.toString('latin1') }));
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'heygen-req-1', 'access-control-allow-origin': '*', 'ratelimit-limit': '999' });
      res.end('{"data":{"ok":true}}');
    }
  });
  gw = await startGateway({ env: { PORTICO_BASE_URL_ELEVENLABS: stub.url, PORTICO_BASE_URL_HEYGEN: stub.url } });
  await seedOrg(gw, 'acme');
  key = await seedKey(gw, 'acme');
  await seedCredential(gw, { service: 'elevenlabs', scope: 'platform', key: 'sandbox_platform_el_key' });
  heygenCred = await seedCredential(gw, { service: 'heygen', scope: 'platform', key: 'sandbox_platform_hg_key' });
  // Short timeouts so hang/idle cases finish quickly.
  await gw.gateway.ctx.store.db.updateTable('services').set({ timeout_ms: 700 }).where('slug', '=', 'heygen').execute();
  gw.gateway.ctx.registry.changed();
});

after(async () => {
  await gw.close();
  await stub.close();
});

function invoke(service: string, action: string, body: unknown, headers: Record<string, string> = {}) {
  return gw.api('POST', `/api/v1/external-proxy/${service}/${action}`, { token: key, body, headers });
}

test('stream mode flushes the first bytes before the upstream finishes', async () => {
  const started = Date.now();
  const res = await fetch(gw.url + '/api/v1/external-proxy/elevenlabs/text-to-speech-stream', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-test': 'stream' },
    body: JSON.stringify({ path_params: { voice_id: 'v' }, body: { text: 'hi' } }),
  });
  const reader = res.body!.getReader();
  const first = await reader.read();
  const firstAt = Date.now() - started;
  assert.equal(Buffer.from(first.value!).toString(), 'first');
  assert.ok(firstAt < 600, `first chunk after ${firstAt} ms`);
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
  assert.equal(rest, 'last');
  assert.ok(Date.now() - started >= 750);
});

test('binary bodies arrive byte-identical with Content-Length', async () => {
  const res = await fetch(gw.url + '/api/v1/external-proxy/elevenlabs/get-history-audio', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-test': 'big' },
    body: JSON.stringify({ path_params: { history_item_id: 'h1' } }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-length'), String(big.length));
  const got = Buffer.from(await res.arrayBuffer());
  assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(big).digest('hex'));
});

test('upstream 4xx passes through with its body, content type and Retry-After', async () => {
  const r = await invoke('elevenlabs', 'text-to-speech', { path_params: { voice_id: 'v' }, body: {} }, { 'x-test': '422' });
  assert.equal(r.status, 422);
  assert.equal(r.headers.get('x-error-source'), 'upstream');
  assert.equal(r.headers.get('retry-after'), '3');
  assert.equal(r.headers.get('set-cookie'), null);
  assert.match(r.headers.get('content-type')!, /application\/json/);
  assert.deepEqual(r.body, { detail: [{ loc: ['body', 'text'], msg: 'field required' }] });
  assert.ok(r.headers.get('x-request-id'));
});

test('upstream 5xx and resets become 502 upstream_request_failed', async () => {
  const five = await invoke('elevenlabs', 'list-voices', {}, { 'x-test': '500' });
  expectError(assert, five, 502, 'upstream_request_failed', 'The upstream external service request failed.');
  assert.equal(five.body.error.upstream_status, 500);
  assert.equal(five.body.error.upstream_code, 'internal');
  assert.ok(!five.text.includes('boom'), 'never the provider body');
  assert.equal(five.headers.get('x-credential-source'), 'platform');
  const reset = await invoke('elevenlabs', 'list-voices', {}, { 'x-test': 'reset' });
  expectError(assert, reset, 502, 'upstream_request_failed', 'The upstream external service request failed.');
  assert.equal(reset.body.error.upstream_status, undefined);
});

test('upstream 401 becomes 502 upstream_auth_failed with the HeyGen v1 code as a string', async () => {
  const r = await invoke('heygen', 'video-status-v1', { query: { video_id: 'x' } }, { 'x-test': 'heygen401' });
  expectError(assert, r, 502, 'upstream_auth_failed', 'The upstream external service rejected the configured credentials.');
  assert.equal(r.body.error.upstream_status, 401);
  assert.equal(r.body.error.upstream_code, '400112');
  // The only HeyGen key is now cooling down (401 is a cool-down status): the next call says so.
  const next = await invoke('heygen', 'list-avatars', {});
  expectError(assert, next, 502, 'missing_upstream_key', 'upstream provider credentials unavailable');
  gw.gateway.ctx.state.cooldowns.clear(heygenCred);
});

test('no headers within the timeout → 504; an idle stream is cut', async () => {
  const r = await invoke('heygen', 'list-avatars', {}, { 'x-test': 'hang' });
  expectError(assert, r, 504, 'upstream_timeout', 'The upstream external service did not respond in time.');
  const idle = await fetch(gw.url + '/api/v1/external-proxy/heygen/list-avatars', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-test': 'idle' },
    body: '{}',
  });
  assert.equal(idle.status, 200);
  await assert.rejects(idle.arrayBuffer(), 'the idle body is cut, not completed');
});

test('the upstream timeout counts neither a slow streamed upload nor a client holding back the answer', async () => {
  // HeyGen's timeout is 700 ms here. A multipart upload sent over about 1.5 s is not cut: the
  // wait for the first byte starts once the upload is sent.
  const boundary = 'portico-test-boundary';
  const parts = [
    `--${boundary}\r\nContent-Disposition: form-data; name="payload"\r\n\r\n{}\r\n`,
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    'x'.repeat(1000),
    'y'.repeat(1000),
    'z'.repeat(1000),
    `\r\n--${boundary}--\r\n`,
  ];
  const upload = await new Promise<{ status: number; body: string; ms: number }>((resolve, reject) => {
    const t0 = performance.now();
    const req = request(gw.url + '/api/v1/external-proxy/heygen/upload-asset', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(parts.reduce((n, p) => n + Buffer.byteLength(p), 0)),
        'x-test': 'echo',
      },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, ms: performance.now() - t0 }));
    });
    req.on('error', reject);
    let i = 0;
    const next = (): void => {
      if (i === parts.length) return void req.end();
      req.write(parts[i++]);
      setTimeout(next, 300);
    };
    next();
  });
  assert.equal(upload.status, 200, upload.body);
  assert.ok(upload.ms >= 1500, `answered after ${upload.ms} ms`);
  assert.ok(upload.body.includes('zzz'), 'the whole upload reached the upstream');

  // A client that stops reading a 48 MiB answer for 1.5 s: the relay waits on it, the upstream is not cut.
  const relayed = await new Promise<{ status: number; bytes: number }>((resolve, reject) => {
    const req = request(gw.url + '/api/v1/external-proxy/heygen/list-avatars', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-test': 'huge' },
    });
    req.on('response', (res) => {
      let bytes = 0;
      let held = false;
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        if (!held) {
          held = true;
          res.pause();
          setTimeout(() => res.resume(), 1500);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end('{}');
  });
  assert.deepEqual(relayed, { status: 200, bytes: 8 * big.length });
});

test('HeyGen X-Request-Id returns as X-Upstream-Request-Id; upstream CORS and RateLimit fields are dropped', async () => {
  const r = await invoke('heygen', 'list-avatars', {}, { 'x-request-id': 'mine-1' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-request-id'), 'mine-1');
  assert.equal(r.headers.get('x-upstream-request-id'), 'heygen-req-1');
  assert.equal(r.headers.get('access-control-allow-origin'), null);
  assert.equal(r.headers.get('ratelimit-limit'), null);
});

test('deprecated endpoints answer with Deprecation and Sunset', async () => {
  const r = await invoke('heygen', 'generate-video-v2', { body: { video_inputs: [] } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('deprecation'), 'true');
  assert.equal(r.headers.get('sunset'), 'Sat, 31 Oct 2026 00:00:00 GMT');
});

test("Portico's own answer fields win over the upstream's; the others are relayed, repeated ones as they came", async () => {
  const deprecated = await invoke('heygen', 'generate-video-v2', { body: { video_inputs: [] } }, { 'x-test': 'yield' });
  assert.equal(deprecated.status, 200);
  assert.equal(deprecated.headers.get('deprecation'), 'true');
  assert.equal(deprecated.headers.get('sunset'), 'Sat, 31 Oct 2026 00:00:00 GMT');
  assert.equal(deprecated.headers.get('x-upstream-request-id'), 'heygen-req-2');
  assert.equal(deprecated.headers.get('vary'), 'Accept-Encoding'); // no CORS on this request: Portico sets no Vary
  assert.equal(deprecated.headers.get('x-multi'), 'one, two');
  const current = await invoke('heygen', 'list-avatars', {}, { 'x-test': 'yield' });
  assert.equal(current.status, 200);
  assert.equal(current.headers.get('deprecation'), '@1700000000'); // not deprecated in the catalog: the provider's own
  assert.equal(current.headers.get('sunset'), 'Mon, 01 Jan 2024 00:00:00 GMT');
  assert.match(current.headers.get('x-request-id') ?? '', /^[0-9A-Z]{26}$/); // Portico's, not the upstream's
});

test('header hygiene: hop-by-hop and client credentials never reach the upstream', async () => {
  // fetch() refuses to send Connection, so speak node:http directly.
  const body = await new Promise<string>((resolve, reject) => {
    const req = request(gw.url + '/api/v1/external-proxy/elevenlabs/list-voices', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'x-test': 'echo',
        connection: 'keep-alive, x-hop',
        'x-hop': 'secret-hop',
        'proxy-authorization': 'Basic abc',
        cookie: 'session=1',
        'xi-api-key': 'client-supplied-key',
        'x-custom': 'kept',
      },
    });
    req.on('response', async (res) => {
      let text = '';
      for await (const c of res) text += c;
      resolve(text);
    });
    req.on('error', reject);
    req.end(JSON.stringify({ query: { show_legacy: true } }));
  });
  const seen = JSON.parse(body) as { url: string; headers: Record<string, string> };
  const h = seen.headers;
  assert.equal(seen.url, '/v1/voices?show_legacy=true');
  assert.equal(h['x-hop'], undefined);
  assert.equal(h['proxy-authorization'], undefined);
  assert.equal(h.authorization, undefined);
  assert.equal(h.cookie, undefined);
  assert.equal(h['xi-api-key'], 'sandbox_platform_el_key');
  assert.equal(h['x-custom'], 'kept');
  assert.ok(h['x-request-id']);
});

test('path values are encoded as one segment; traversal never reaches the upstream', async () => {
  const before = stub.requests.length;
  for (const bad of ['..', '.', '%2e%2e', 'a/b', 'a\\b', 'a\u0000b', '%2F']) {
    const r = await invoke('elevenlabs', 'get-voice', { path_params: { voice_id: bad } }, { 'x-test': 'echo' });
    expectError(assert, r, 400, 'invalid_path_parameter', 'Invalid path parameter: voice_id');
  }
  for (const [value, message] of [
    [true, "Path parameter 'voice_id' must be a string or a number."],
    [{}, "Path parameter 'voice_id' must be a string or a number."],
  ] as const) {
    expectError(assert, await invoke('elevenlabs', 'get-voice', { path_params: { voice_id: value } }), 400, 'invalid_request', message);
  }
  for (const missing of [undefined, null, '']) {
    const r = await invoke('elevenlabs', 'get-voice', { path_params: { voice_id: missing, other: 'x' } });
    expectError(assert, r, 400, 'missing_path_parameter', 'Missing required path parameter: voice_id');
  }
  assert.equal(stub.requests.length, before, 'nothing reached the upstream');
  const ok = await invoke('elevenlabs', 'get-voice', { path_params: { voice_id: 'a b?c#d' } }, { 'x-test': 'echo' });
  assert.equal(ok.body.url, '/v1/voices/a%20b%3Fc%23d');
  const num = await invoke('elevenlabs', 'get-voice', { path_params: { voice_id: 42 } }, { 'x-test': 'echo' });
  assert.equal(num.body.url, '/v1/voices/42');
});

test('a client that disconnects aborts the upstream request', async () => {
  const before = aborted;
  await new Promise<void>((resolve) => {
    const req = request(gw.url + '/api/v1/external-proxy/elevenlabs/get-history-audio', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-test': 'slowbody' },
    });
    req.on('response', (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', () => {});
    req.end(JSON.stringify({ path_params: { history_item_id: 'h' } }));
  });
  const deadline = Date.now() + 2000;
  while (aborted === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(aborted, before + 1, 'the upstream saw its request aborted');
});

test('a client that leaves before the upstream answers aborts the upstream request and is metered as 499', async () => {
  const before = aborted;
  await new Promise<void>((resolve) => {
    const req = request(gw.url + '/api/v1/external-proxy/elevenlabs/list-voices', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-test': 'hang', 'x-request-id': 'rid-gone-early' },
    });
    req.on('error', () => resolve());
    req.end('{}');
    setTimeout(() => req.destroy(), 200);
  });
  const deadline = Date.now() + 2000;
  while (aborted === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(aborted, before + 1, 'the upstream saw its request aborted');
  await flushUsage(gw.gateway.ctx);
  const rows = await gw.gateway.ctx.store.db.selectFrom('usage_rollups').select(['status', 'action']).where('action', '=', 'list-voices').execute();
  assert.ok(
    rows.some((r) => Number(r.status) === 499),
    `a 499 row among ${JSON.stringify(rows)}`,
  );
});

test('multipart invokes stream every field except payload upstream', async () => {
  const form = new FormData();
  form.append('payload', JSON.stringify({ path_params: { voice_id: 'v9' }, query: { output_format: 'mp3_44100_128' } }));
  form.append('model_id', 'eleven_multilingual_sts_v2');
  form.append('audio', new Blob([Buffer.from('RIFFfakeaudio')], { type: 'audio/wav' }), 'in.wav');
  const res = await fetch(gw.url + '/api/v1/external-proxy/elevenlabs/speech-to-speech', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'x-test': 'echo' },
    body: form,
  });
  assert.equal(res.status, 200);
  const seen = (await res.json()) as { url: string; headers: Record<string, string>; body: string };
  assert.equal(seen.url, '/v1/speech-to-speech/v9?output_format=mp3_44100_128');
  assert.match(seen.headers['content-type']!, /^multipart\/form-data; boundary=/);
  assert.ok(!seen.body.includes('name="payload"'), 'payload is not forwarded');
  assert.ok(seen.body.includes('name="model_id"\r\n\r\neleven_multilingual_sts_v2'));
  assert.ok(seen.body.includes('filename="in.wav"'));
  assert.ok(seen.body.includes('Content-Type: audio/wav\r\n\r\nRIFFfakeaudio'));
  assert.ok(seen.body.trimEnd().endsWith('--'));
  assert.equal(Number(seen.headers['content-length']), Buffer.byteLength(seen.body, 'latin1'));

  const json = await invoke('elevenlabs', 'speech-to-speech', { path_params: { voice_id: 'v' } });
  expectError(
    assert,
    json,
    400,
    'invalid_request',
    "Endpoint 'speech-to-speech' takes multipart/form-data: send the invoke as multipart with a 'payload' field.",
  );
  const missing = new FormData();
  missing.append('payload', JSON.stringify({}));
  missing.append('audio', new Blob(['x']), 'a.wav');
  const r = await fetch(gw.url + '/api/v1/external-proxy/elevenlabs/speech-to-speech', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: missing,
  });
  assert.equal(r.status, 400);
  assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'missing_path_parameter');
});
