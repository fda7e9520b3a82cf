import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, expectError } from './helpers.ts';
import { seedCredential, seedKey, seedOrg, startStub } from './fixtures.ts';

test('invoke relays json and binary, injects the key, strips client auth', async () => {
  const stub = await startStub((req, res) => {
    if (req.url.startsWith('/v1/voices')) {
      res.writeHead(200, {
        'content-type': 'application/json',
        'x-request-id': 'up-1',
        'set-cookie': 'a=b',
        'access-control-allow-origin': '*',
        'character-cost': '5',
      });
      res.end(JSON.stringify({ voices: [{ voice_id: 'v1' }] }));
    } else if (req.url.startsWith('/v1/text-to-speech/')) {
      res.writeHead(200, { 'content-type': 'audio/mpeg' });
      res.end(Buffer.alloc(100_000, 3));
    } else {
      res.writeHead(404).end();
    }
  });
  const gw = await startGateway({ env: { PORTICO_BASE_URL_ELEVENLABS: stub.url } });
  try {
    await seedOrg(gw, 'acme');
    const key = await seedKey(gw, 'acme');
    await seedCredential(gw, { service: 'elevenlabs', scope: 'platform', key: 'sk_platform_secret_1234' });
    const r = await gw.api('POST', '/api/v1/external-proxy/elevenlabs/list-voices', {
      token: key,
      body: {},
      headers: { cookie: 'c=d', 'x-request-id': 'client-rid-1' },
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { voices: [{ voice_id: 'v1' }] });
    assert.equal(r.headers.get('x-request-id'), 'client-rid-1');
    assert.equal(r.headers.get('x-upstream-request-id'), 'up-1');
    assert.equal(r.headers.get('x-credential-source'), 'platform');
    assert.equal(r.headers.get('set-cookie'), null);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    assert.equal(r.headers.get('character-cost'), '5');
    const seen = stub.requests[0]!;
    assert.equal(seen.headers['xi-api-key'], 'sk_platform_secret_1234');
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers.cookie, undefined);
    assert.equal(seen.headers['x-request-id'], 'client-rid-1');

    const tts = await fetch(gw.url + '/api/v1/external-proxy/elevenlabs/text-to-speech', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ path_params: { voice_id: 'abc' }, body: { text: 'hi' } }),
    });
    assert.equal(tts.status, 200);
    assert.equal(tts.headers.get('content-type'), 'audio/mpeg');
    assert.equal((await tts.arrayBuffer()).byteLength, 100_000);
    assert.deepEqual(JSON.parse(stub.requests[1]!.body.toString()), { text: 'hi' });

    const miss = await gw.api('POST', '/api/v1/external-proxy/elevenlabs/text-to-speech', { token: key, body: { body: { text: 'x' } } });
    expectError(assert, miss, 400, 'missing_path_parameter', 'Missing required path parameter: voice_id');
    const trav = await gw.api('POST', '/api/v1/external-proxy/elevenlabs/get-voice', { token: key, body: { path_params: { voice_id: '..' } } });
    expectError(assert, trav, 400, 'invalid_path_parameter', 'Invalid path parameter: voice_id');
    assert.equal(stub.requests.length, 2);
  } finally {
    await gw.close();
    await stub.close();
  }
});
