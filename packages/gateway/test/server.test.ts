import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startGateway, expectError } from './helpers.ts';
import { seedCredential, seedKey, seedOrg, startStub } from './fixtures.ts';

function rawRequest(url: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

test('request ids: kept when valid, generated otherwise, on every response', async () => {
  const gw = await startGateway();
  try {
    const kept = await gw.api('GET', '/healthz', { token: null, headers: { 'x-request-id': 'abc-123_XYZ' } });
    assert.equal(kept.headers.get('x-request-id'), 'abc-123_XYZ');
    const long = 'x'.repeat(129);
    const replaced = await gw.api('GET', '/nope', { token: null, headers: { 'x-request-id': long } });
    const id = replaced.headers.get('x-request-id')!;
    assert.notEqual(id, long);
    assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
    expectError(assert, replaced, 404, 'not_found', 'Not found.');
    const spaced = await gw.api('GET', '/healthz', { token: null, headers: { 'x-request-id': 'has space' } });
    assert.notEqual(spaced.headers.get('x-request-id'), 'has space');
    const max = 'y'.repeat(128);
    assert.equal((await gw.api('GET', '/healthz', { token: null, headers: { 'x-request-id': max } })).headers.get('x-request-id'), max);
    // Every log line of a request carries its id.
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(gw.logs.some((l) => l.includes('"reqId":"abc-123_XYZ"')));
  } finally {
    await gw.close();
  }
});

test('body errors: malformed JSON, wrong type, too large, unknown content type', async () => {
  const gw = await startGateway({ env: { PORTICO_BODY_LIMIT: '2048' } });
  try {
    await seedOrg(gw, 'acme');
    const key = await seedKey(gw, 'acme');
    const path = '/api/v1/external-proxy/elevenlabs/list-voices';
    expectError(assert, await gw.api('POST', path, { token: key, body: '{"a":' }), 400, 'invalid_request', 'Request body is not valid JSON.');
    expectError(assert, await gw.api('POST', path, { token: key, body: '[1]' }), 400, 'invalid_request', 'Invoke body must be a JSON object.');
    expectError(assert, await gw.api('POST', path, { token: key, body: { path_params: 3 } }), 400, 'invalid_request', "Field 'path_params' must be an object.");
    expectError(
      assert,
      await gw.api('POST', path, { token: key, body: { credential_source: 'mine' } }),
      400,
      'invalid_request',
      "Field 'credential_source' must be 'tenant' or 'platform'.",
    );
    expectError(
      assert,
      await gw.api('POST', path, { token: key, body: { body: { x: 1 } } }),
      400,
      'invalid_request',
      "Field 'body' must be absent: endpoint 'list-voices' takes no request body.",
    );
    expectError(
      assert,
      await gw.api('POST', path, { token: key, body: { query: { nope: 1 } } }),
      400,
      'invalid_query_parameter',
      'Unknown query parameter: nope',
    );
    expectError(
      assert,
      await gw.api('POST', path, { token: key, body: JSON.stringify({ pad: 'x'.repeat(4096) }) }),
      413,
      'payload_too_large',
      'Request body is too large.',
    );
    const r = await gw.api('POST', path, { token: key, body: 'x', headers: { 'content-type': 'application/xml' } });
    expectError(assert, r, 400, 'invalid_request', 'Unsupported Content-Type; send application/json.');
  } finally {
    await gw.close();
  }
});

test('the HTTP parser rejecting a request still answers in the envelope', async () => {
  const gw = await startGateway();
  try {
    const raw = await rawRequest(gw.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.match(raw, /x-error-source: gateway/);
    const id = /x-request-id: (\S+)/.exec(raw)?.[1];
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    assert.equal(body.error.code, 'invalid_request');
    assert.equal(body.request_id, id);
  } finally {
    await gw.close();
  }
});

test('unexpected failures: 500 without a stack, readyz 503 while the database is gone', async () => {
  const gw = await startGateway();
  try {
    await gw.gateway.ctx.store.close();
    const r = await gw.api('GET', '/api/v1/external-proxy/services', { token: 'ptk_unknownkey_abc' });
    expectError(assert, r, 500, 'internal_error', 'Internal server error.');
    assert.ok(!r.text.includes('    at '), 'no stack trace in the body');
    const ready = await gw.api('GET', '/readyz', { token: null });
    expectError(assert, ready, 503, 'service_unavailable', 'Service temporarily unavailable.');
    await new Promise((res) => setTimeout(res, 50));
    assert.ok(
      gw.logs.some((l) => l.includes('unhandled error') && l.includes('"stack"')),
      'the stack goes to the log',
    );
  } finally {
    await gw.gateway.close().catch(() => {});
  }
});

test('graceful shutdown lets an in-flight invoke finish', async () => {
  const stub = await startStub(async (_req, res) => {
    await new Promise((r) => setTimeout(r, 400));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"voices":[]}');
  });
  const gw = await startGateway({ env: { PORTICO_BASE_URL_ELEVENLABS: stub.url } });
  try {
    await seedOrg(gw, 'acme');
    const key = await seedKey(gw, 'acme');
    await seedCredential(gw, { service: 'elevenlabs', scope: 'platform', key: 'sandbox_platform_key' });
    const pending = gw.api('POST', '/api/v1/external-proxy/elevenlabs/list-voices', { token: key, body: {} });
    await new Promise((r) => setTimeout(r, 100));
    const closing = gw.gateway.close();
    const r = await pending;
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { voices: [] });
    await closing;
    await assert.rejects(fetch(gw.url + '/healthz'));
  } finally {
    await gw.gateway.close();
    await stub.close();
  }
});
