// Invokes take the raw fast path (proxy/route.ts `matchInvoke`), everything else goes through
// Fastify: the edges between the two answer as one gateway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { startGateway, expectError } from './helpers.ts';
import { seedCredential, seedKey, seedOrg, startStub } from './fixtures.ts';
import { Client } from 'undici';
import { matchInvoke } from '../src/proxy/route.ts';
import { isMultipart } from '../src/proxy/multipart.ts';
import { flushUsage } from '../src/limits/index.ts';

/** The request line and headers of a get-voice invoke written by hand, with `head` added. */
const getVoiceHead = (key: string, head: string): string =>
  `POST /api/v1/external-proxy/elevenlabs/get-voice HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\n${head}\r\n`;

/**
 * `first` written on a raw socket, then each of `parts` `gapMs` apart; resolves with everything
 * the gateway sent once it closes.
 */
async function rawSend(base: string, first: string, parts: string[], gapMs: number): Promise<{ raw: string; ms: number }> {
  const socket = connect(Number(new URL(base).port), '127.0.0.1');
  await once(socket, 'connect');
  let raw = '';
  socket.on('data', (d: Buffer) => (raw += d.toString()));
  socket.on('error', () => {});
  const t0 = performance.now();
  socket.write(first);
  for (const part of parts) {
    await new Promise((r) => setTimeout(r, gapMs));
    if (!socket.destroyed) socket.write(part);
  }
  await once(socket, 'close');
  return { raw, ms: performance.now() - t0 };
}

/** A get-voice invoke: its headers plus `head`, then each part of the body `gapMs` apart. */
function rawGetVoice(base: string, key: string, head: string, parts: string[], gapMs: number): Promise<{ raw: string; ms: number }> {
  return rawSend(base, getVoiceHead(key, head), parts, gapMs);
}

/**
 * A stub upstream answering with `handler`, a gateway in front of it (with `env`), and
 * organization acme with an API key and a platform ElevenLabs credential.
 */
async function acmeGateway(handler: Parameters<typeof startStub>[0], env: Record<string, string> = {}) {
  const stub = await startStub(handler);
  const gw = await startGateway({ env: { PORTICO_BASE_URL_ELEVENLABS: stub.url, ...env } });
  const close = async (): Promise<void> => {
    await gw.close();
    await stub.close();
  };
  try {
    await seedOrg(gw, 'acme');
    const key = await seedKey(gw, 'acme');
    await seedCredential(gw, { service: 'elevenlabs', scope: 'platform', key: 'sk_platform_secret_1234' });
    return { stub, gw, key, close };
  } catch (err) {
    await close();
    throw err;
  }
}

test('matchInvoke: which requests take the invoke path', () => {
  const p = '/api/v1/external-proxy/';
  assert.deepEqual(matchInvoke('POST', `${p}elevenlabs/list-voices`), ['elevenlabs', 'list-voices']);
  assert.deepEqual(matchInvoke('POST', `${p}elevenlabs/list-voices/`), ['elevenlabs', 'list-voices']);
  assert.deepEqual(matchInvoke('POST', `${p}elevenlabs/list-voices?x=1`), ['elevenlabs', 'list-voices']);
  assert.deepEqual(matchInvoke('POST', `${p}eleven%6Cabs/list%2Dvoices`), ['elevenlabs', 'list-voices']);
  // A query string is not part of the segments, whatever it holds.
  assert.deepEqual(matchInvoke('POST', `${p}elevenlabs/list-voices/?next=/a/b&bad=%zz`), ['elevenlabs', 'list-voices']);
  for (const url of [
    `${p}elevenlabs`,
    `${p}elevenlabs/`,
    `${p}/list-voices`,
    `${p}a/b/c`,
    `${p}elevenlabs//`,
    `${p}a/b//`,
    `${p}elevenlabs?to=/list-voices`,
    `${p}services/elevenlabs`,
    `${p}a/%E0%A4%A`,
    `${p}a/${'x'.repeat(501)}`,
  ]) {
    assert.equal(matchInvoke('POST', url), null, url);
  }
  assert.equal(matchInvoke('GET', `${p}elevenlabs/list-voices`), null);
  assert.equal(matchInvoke('POST', '/api/v1/admin/organizations'), null);
});

test('isMultipart: the media type, in any case, with or without parameters', () => {
  for (const t of ['multipart/form-data', 'multipart/form-data; boundary=x', 'Multipart/Form-Data; boundary=x', 'MULTIPART/FORM-DATA'])
    assert.equal(isMultipart(t), true, t);
  for (const t of [undefined, '', 'm', 'multipart/mixed; boundary=x', 'application/json', 'application/json; charset=utf-8', 'text/plain'])
    assert.equal(isMultipart(t), false, String(t));
});

test('invoke paths: trailing slash, query string and encoded segments; other methods 405; not an invoke 404 or 400', async () => {
  const { stub, gw, key, close } = await acmeGateway((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"voices":[]}');
  });
  try {
    const base = '/api/v1/external-proxy/elevenlabs';
    for (const path of [`${base}/list-voices/`, `${base}/list-voices?ignored=1`, '/api/v1/external-proxy/eleven%6Cabs/list%2Dvoices']) {
      const r = await gw.api('POST', path, { token: key, body: {} });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      assert.deepEqual(r.body, { voices: [] });
    }
    assert.equal(stub.requests.length, 3);
    // No body and no content type at all: an empty invoke.
    const bare = await fetch(gw.url + `${base}/list-voices`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    assert.equal(bare.status, 200);

    expectError(assert, await gw.api('GET', `${base}/list-voices`, { token: key }), 405, 'method_not_allowed', 'Method "GET" not allowed.');
    expectError(assert, await gw.api('DELETE', `${base}/list-voices`, { token: key }), 405, 'method_not_allowed', 'Method "DELETE" not allowed.');
    expectError(assert, await gw.api('GET', `${base}/list-voices`, { token: null }), 401, 'not_authenticated', 'Authentication credentials were not provided.');
    expectError(
      assert,
      await gw.api('POST', '/api/v1/external-proxy/services/elevenlabs', { token: key, body: {} }),
      405,
      'method_not_allowed',
      'Method "POST" not allowed.',
    );
    expectError(assert, await gw.api('POST', `${base}/list-voices/extra`, { token: key, body: {} }), 404, 'not_found', 'Not found.');
    for (const method of ['POST', 'GET']) {
      const bad = await gw.api(method, `${base}/%E0%A4%A`, { token: key, ...(method === 'POST' ? { body: {} } : {}) });
      expectError(assert, bad, 400, 'invalid_request', 'The request URL is not valid percent-encoding.');
    }
    assert.equal(stub.requests.length, 4, 'none of the refused requests reached the upstream');
  } finally {
    await close();
  }
});

test('an invoke writes one log line with its request id, status and upstream status', async () => {
  const { gw, key, close } = await acmeGateway(
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"voices":[]}');
    },
    { PORTICO_LOG_LEVEL: 'info' },
  );
  try {
    const ok = await gw.api('POST', '/api/v1/external-proxy/elevenlabs/list-voices', { token: key, body: {}, headers: { 'x-request-id': 'rid-log-1' } });
    assert.equal(ok.status, 200);
    const bad = await gw.api('POST', '/api/v1/external-proxy/elevenlabs/nope', { token: key, body: {}, headers: { 'x-request-id': 'rid-log-2' } });
    assert.equal(bad.status, 404);
    await new Promise((r) => setTimeout(r, 50));
    const line = (id: string) => JSON.parse(gw.logs.find((l) => l.includes(`"reqId":"${id}"`) && l.includes('"msg":"invoke"'))!) as Record<string, unknown>;
    assert.deepEqual(
      { status: line('rid-log-1').status, upstream_status: line('rid-log-1').upstream_status, source: line('rid-log-1').credential_source },
      { status: 200, upstream_status: 200, source: 'platform' },
    );
    assert.equal(line('rid-log-2').status, 404);
    assert.equal(line('rid-log-2').upstream_status, null);
    assert.ok(!gw.logs.some((l) => l.includes(key)), 'the API key is never logged');
  } finally {
    await close();
  }
});

test('an invoke that arrives while the gateway shuts down gets 503 in the envelope and a closed connection', async () => {
  const gw = await startGateway();
  try {
    await seedOrg(gw, 'acme');
    const key = await seedKey(gw, 'acme');
    const { port } = new URL(gw.url);
    // A connection whose request has begun (so it is not idle) when the shutdown starts.
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /api/v1/external-proxy/elevenlabs/list-voices HTTP/1.1\r\nHost: x\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const closing = gw.gateway.close();
    await new Promise((r) => setTimeout(r, 100));
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d.toString()));
    socket.write(`Authorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nX-Request-Id: rid-late\r\n\r\n{}`);
    await once(socket, 'close');
    await closing;
    assert.match(raw, /^HTTP\/1\.1 503 /);
    assert.match(raw, /\r\nconnection: close\r\n/i);
    assert.match(raw, /\r\nx-error-source: gateway\r\n/i);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string }; request_id: string };
    assert.deepEqual([body.error.code, body.error.message, body.request_id], ['service_unavailable', 'Service temporarily unavailable.', 'rid-late']);
  } finally {
    await gw.gateway.close();
  }
});

test('invoke bodies: whole with the headers, trickled in later, chunked, and too large without a Content-Length', async () => {
  const { stub, gw, key, close } = await acmeGateway(
    (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url }));
    },
    { PORTICO_BODY_LIMIT: '1024' },
  );
  try {
    const send = async (head: string, parts: string[]): Promise<string> => (await rawGetVoice(gw.url, key, `Connection: close\r\n${head}`, parts, 80)).raw;
    const body = JSON.stringify({ path_params: { voice_id: 'v1' } });
    // Whole: the body is in the same write as the headers.
    const whole = await gw.api('POST', '/api/v1/external-proxy/elevenlabs/get-voice', { token: key, body: { path_params: { voice_id: 'v0' } } });
    assert.deepEqual(whole.body, { url: '/v1/voices/v0' });
    // Trickled: the body arrives in two parts after the headers.
    const trickled = await send(`Content-Length: ${body.length}\r\n`, [body.slice(0, 10), body.slice(10)]);
    assert.match(trickled, /^HTTP\/1\.1 200 /);
    assert.ok(trickled.includes(`{"url":"/v1/voices/v1"}`), trickled);
    // Chunked transfer encoding.
    const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;
    const chunked = await send('Transfer-Encoding: chunked\r\n', [chunk(body.slice(0, 7)), chunk(body.slice(7)) + '0\r\n\r\n']);
    assert.match(chunked, /^HTTP\/1\.1 200 /);
    // Over PORTICO_BODY_LIMIT with no Content-Length to refuse it up front.
    const big = JSON.stringify({ path_params: { voice_id: 'x'.repeat(2000) } });
    const tooLarge = await send('Transfer-Encoding: chunked\r\n', [chunk(big) + '0\r\n\r\n']);
    assert.match(tooLarge, /^HTTP\/1\.1 413 /);
    assert.match(tooLarge, /"code":"payload_too_large"/);
    const broken = await send(`Content-Length: 4\r\n`, ['{"pa']);
    assert.match(broken, /^HTTP\/1\.1 400 /);
    assert.match(broken, /"message":"Request body is not valid JSON."/);
    // In one write with the headers (taken from the buffer a microtask on), or only partly so
    // (the rest read as it arrives), and two invokes pipelined in one write, each with its own body.
    const invokeText = (voice: string, extra = '') => {
      const b = JSON.stringify({ path_params: { voice_id: voice } });
      return getVoiceHead(key, `Content-Length: ${b.length}\r\n${extra}`) + b;
    };
    const oneWrite = async (text: string, rest?: string): Promise<string> => (await rawSend(gw.url, text, rest === undefined ? [] : [rest], 80)).raw;
    const together = await oneWrite(invokeText('v2', 'Connection: close\r\n'));
    assert.match(together, /^HTTP\/1\.1 200 /);
    assert.ok(together.includes(`{"url":"/v1/voices/v2"}`), together);
    const partly = invokeText('v3', 'Connection: close\r\n');
    const split = await oneWrite(partly.slice(0, -8), partly.slice(-8));
    assert.ok(split.includes(`{"url":"/v1/voices/v3"}`), split);
    const pipelined = await oneWrite(invokeText('v4') + invokeText('v5', 'Connection: close\r\n'));
    assert.equal(pipelined.match(/HTTP\/1\.1 200 /g)?.length, 2, pipelined);
    assert.ok(pipelined.indexOf(`{"url":"/v1/voices/v4"}`) < pipelined.indexOf(`{"url":"/v1/voices/v5"}`), pipelined);
    const brokenTogether = await oneWrite(invokeText('v6', 'Connection: close\r\n').slice(0, -1) + '[');
    assert.match(brokenTogether, /^HTTP\/1\.1 400 /);
    assert.match(brokenTogether, /"message":"Request body is not valid JSON."/);
    assert.equal(stub.requests.length, 7);
  } finally {
    await close();
  }
});

test('a body that stalls for PORTICO_BODY_TIMEOUT_MS gets 400 and a closed connection; a slow steady body and a slow upstream do not', async () => {
  const { stub, gw, key, close } = await acmeGateway(
    async (req, res) => {
      if (req.url?.includes('slow')) await new Promise((r) => setTimeout(r, 900));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: req.url }));
    },
    { PORTICO_BODY_TIMEOUT_MS: '400' },
  );
  try {
    const send = (head: string, parts: string[], gapMs: number) => rawGetVoice(gw.url, key, head, parts, gapMs);
    // Stalled: 10 of 60 bytes, then nothing. The connection is kept open by the client (keep-alive).
    const stalled = await send('Content-Length: 60\r\n', ['{"path_params"'], 10);
    assert.match(stalled.raw, /^HTTP\/1\.1 400 /);
    assert.match(stalled.raw, /"code":"invalid_request"/);
    assert.match(stalled.raw, /"message":"Request body was not received in time."/);
    assert.match(stalled.raw, /x-error-source: gateway/i);
    assert.ok(stalled.ms >= 400 && stalled.ms < 3000, `answered after ${stalled.ms} ms`);

    // Slow but steady: a byte every 150 ms for about 2 s (longer than the limit in all, never paused that long).
    const body = JSON.stringify({ path_params: { voice_id: 'v1' } });
    const steady = await send(`Content-Length: ${body.length}\r\nConnection: close\r\n`, body.match(/.{1,2}/g)!, 150);
    assert.match(steady.raw, /^HTTP\/1\.1 200 /);
    assert.ok(steady.raw.includes('{"url":"/v1/voices/v1"}'), steady.raw);

    // The watch ends with the body: an upstream slower than the limit is not cut.
    const slow = await send(`Content-Length: ${body.length + 2}\r\nConnection: close\r\n`, [JSON.stringify({ path_params: { voice_id: 'slow' } })], 50);
    assert.match(slow.raw, /^HTTP\/1\.1 200 /);
    assert.equal(stub.requests.length, 2, 'the stalled request never reached the upstream');
  } finally {
    await close();
  }
});

test('a client that leaves mid-body: nothing reaches the upstream, the invoke is counted as 499, and the gateway serves on', async () => {
  const { stub, gw, key, close } = await acmeGateway((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  try {
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      `POST /api/v1/external-proxy/elevenlabs/get-voice HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{"path_params"`,
    );
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await once(socket, 'close');
    const next = await gw.api('POST', '/api/v1/external-proxy/elevenlabs/get-voice', { token: key, body: { path_params: { voice_id: 'v1' } } });
    assert.equal(next.status, 200, next.text);
    assert.equal(stub.requests.length, 1, 'only the complete request reached the upstream');
    await flushUsage(gw.gateway.ctx);
    const rows = await gw.gateway.ctx.store.db.selectFrom('usage_rollups').select(['status', 'requests']).orderBy('status').execute();
    assert.deepEqual(
      rows.map((r) => [Number(r.status), Number(r.requests)]),
      [
        [200, 1],
        [499, 1],
      ],
    );
  } finally {
    await close();
  }
});

test('one keep-alive connection switching API keys gets each key its own principal; a key revoked meanwhile is refused', async () => {
  const {
    gw,
    key: a,
    close,
  } = await acmeGateway((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  const client = new Client(gw.url, { pipelining: 1 });
  try {
    await seedOrg(gw, 'beta');
    const b = await seedKey(gw, 'beta');
    const call = async (key: string) => {
      const r = await client.request({
        path: '/api/v1/external-proxy/elevenlabs/list-voices',
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const text = await r.body.text();
      return { status: r.statusCode, text };
    };
    assert.equal((await call(a)).status, 200);
    assert.equal((await call(b)).status, 200);
    const k = await gw.api('POST', '/api/v1/admin/organizations/acme/api-keys', { token: gw.adminToken, body: { name: 'later' } });
    assert.equal(k.status, 201);
    assert.equal((await call(k.body.key)).status, 200);
    const revoked = await gw.api('DELETE', `/api/v1/admin/organizations/acme/api-keys/${k.body.id}`, { token: gw.adminToken });
    assert.ok(revoked.status === 200 || revoked.status === 204, revoked.text);
    const after = await call(k.body.key);
    assert.equal(after.status, 401);
    assert.match(after.text, /"code":"invalid_token"/);
    assert.equal((await call('ptk_not_a_real_key_000000000000000000000000000000000000000')).status, 401);
    assert.equal((await call(a)).status, 200);
    // Usage tells which organization each request was counted for.
    await flushUsage(gw.gateway.ctx);
    const rows = await gw.gateway.ctx.store.db.selectFrom('usage_rollups').select(['organization', 'requests']).execute();
    const per = (org: string) => rows.filter((r) => r.organization === org).reduce((n, r) => n + Number(r.requests), 0);
    assert.equal(per('acme'), 3, 'a, the later key, a again (a refused key has no organization to count for)');
    assert.equal(per('beta'), 1);
  } finally {
    await client.close();
    await close();
  }
});
