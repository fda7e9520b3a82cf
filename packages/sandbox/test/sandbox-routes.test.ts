// Sandbox-only routes: /sandbox/bytes, /sandbox/echo, /media/*, and routing details (404/405).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { get } from 'node:http';
import { call, EL_KEY, HG_KEY, start, type Started } from './helpers.ts';

let s: Started;
before(async () => {
  s = await start();
});
after(() => s.sandbox.close());

function checkPattern(body: Buffer): void {
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== (i & 0xff)) assert.fail(`byte ${i} is ${body[i]}`);
  }
}

describe('/sandbox/bytes', () => {
  for (const size of [0, 1, 65_535, 65_536, 65_537, 10 * 1024 * 1024 + 3]) {
    test(`size=${size} → exactly ${size} bytes, byte k = k mod 256`, async () => {
      const r = await call(`${s.el}/sandbox/bytes?size=${size}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/octet-stream');
      assert.equal(Number(r.headers['content-length']), size);
      assert.equal(r.body.length, size);
      checkPattern(r.body);
    });
  }

  test('a 256 MiB body streams through whole (client and server share this process)', async () => {
    const size = 256 * 1024 * 1024;
    const total = await new Promise<number>((resolve, reject) => {
      get(`${s.el}/sandbox/bytes?size=${size}`, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => resolve(n));
        res.on('error', reject);
      }).on('error', reject);
    });
    assert.equal(total, size);
  });

  test('no key needed, on both ports; a bad size is a 400', async () => {
    assert.equal((await call(`${s.hg}/sandbox/bytes?size=10`)).body.length, 10);
    assert.equal((await call(`${s.el}/sandbox/bytes?size=-1`)).status, 400);
    assert.equal((await call(`${s.el}/sandbox/bytes`)).status, 400);
  });

  test('GET /v1/history/sandbox_bytes_<N>/audio: N bytes through a catalog endpoint', async () => {
    const r = await call(`${s.el}/v1/history/sandbox_bytes_100000/audio`, { headers: EL_KEY });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'audio/mpeg');
    assert.equal(r.body.length, 100_000);
  });
});

describe('/sandbox/echo', () => {
  test('returns method, path, query, headers and body as received', async () => {
    const r = await call(`${s.el}/sandbox/echo?a=1&a=2&b=x`, {
      method: 'PUT',
      headers: { 'X-Custom-Thing': 'yes', Authorization: 'Bearer leak?', 'content-type': 'application/json' },
      body: '{"hello":"world"}',
    });
    const j = r.json();
    assert.equal(j.method, 'PUT');
    assert.equal(j.path, '/sandbox/echo');
    assert.deepEqual(j.query, { a: ['1', '2'], b: 'x' });
    assert.equal(j.headers['x-custom-thing'], 'yes');
    assert.equal(j.headers.authorization, 'Bearer leak?');
    assert.ok(j.raw_headers.some(([k]: [string]) => k === 'X-Custom-Thing'));
    assert.equal(j.body, '{"hello":"world"}');
    assert.deepEqual(j.json, { hello: 'world' });
    assert.equal(j.body_length, 17);
  });

  test('large and binary bodies: length and sha256 of the whole, the start kept', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 0xff);
    const r = await call(`${s.hg}/sandbox/echo`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: big });
    const j = r.json();
    assert.equal(j.body_length, big.length);
    assert.equal(j.body_sha256, createHash('sha256').update(big).digest('hex'));
    assert.equal(j.body_truncated, true);
    assert.equal(j.body, null);
    assert.equal(Buffer.from(j.body_base64, 'base64').length, 1024 * 1024);
  });
});

describe('routing', () => {
  test('unknown paths: each provider’s own 404', async () => {
    const el = await call(`${s.el}/v1/nothing-here`, { headers: EL_KEY });
    assert.equal(el.status, 404);
    assert.deepEqual(el.json(), { detail: 'Not Found' });
    const v3 = await call(`${s.hg}/v3/nothing`, { headers: HG_KEY });
    assert.equal(v3.status, 404);
    assert.equal(v3.json().error.code, 'not_found');
    const v1 = await call(`${s.hg}/v1/nothing.get`, { headers: HG_KEY });
    assert.equal(v1.status, 404);
    assert.equal(v1.json().code, 404);
  });

  test('a known path with another method → 405 with Allow', async () => {
    const r = await call(`${s.el}/v1/models`, { method: 'POST', headers: EL_KEY, body: {} });
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET');
    assert.deepEqual(r.json(), { detail: 'Method Not Allowed' });
  });

  test('HEAD answers headers only', async () => {
    const r = await call(`${s.el}/v1/voices`, { method: 'HEAD', headers: EL_KEY });
    assert.equal(r.status, 200);
    assert.ok(Number(r.headers['content-length']) > 0);
    assert.equal(r.body.length, 0);
  });

  test('percent-encoded path parameters are decoded', async () => {
    const r = await call(`${s.el}/v1/voices/JBFqnCBsd6RMkjVDRZz%62`, { headers: EL_KEY });
    assert.equal(r.status, 200);
    assert.equal(r.json().voice_id, 'JBFqnCBsd6RMkjVDRZzb');
  });

  test('keep-alive: many requests on one connection', async () => {
    for (let i = 0; i < 50; i++) {
      const r = await fetch(`${s.el}/v1/models`, { headers: EL_KEY });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    }
  });
});
