// The gateway serves the built panel at /admin: index.html for the panel's own routes (no-cache),
// fingerprinted assets with long cache headers, nothing outside dist/, and a helpful page when
// the panel has not been built.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { registerPanelStatic } from '../../gateway/src/admin-panel/static.ts';
import { startGateway, type TestGateway } from '../../gateway/test/helpers.ts';
import { DIST_DIR, ensureBuilt } from './helpers.ts';

describe('panel static files', () => {
  let gw: TestGateway;
  let js: string;
  let css: string;

  before(async () => {
    ensureBuilt();
    const assets = readdirSync(join(DIST_DIR, 'assets'));
    js = assets.find((a) => a.endsWith('.js'))!;
    css = assets.find((a) => a.endsWith('.css'))!;
    gw = await startGateway();
  });
  after(() => gw.close());

  test('GET /admin answers index.html, never cached, with a strict CSP', async () => {
    for (const path of ['/admin', '/admin/']) {
      const res = await fetch(gw.url + path);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.ok(res.headers.get('x-request-id'));
      const html = await res.text();
      assert.equal(html, readFileSync(join(DIST_DIR, 'index.html'), 'utf8'));
      assert.ok(html.includes(`/admin/assets/${js}`));
    }
  });

  test('client-side routes answer index.html too', async () => {
    for (const path of ['/admin/organizations', '/admin/credentials?service=elevenlabs', '/admin/a/b/c']) {
      const res = await fetch(gw.url + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      assert.match(await res.text(), /<div id="app"><\/div>/);
    }
  });

  test('fingerprinted assets: right type, cached for a year, ETag revalidation', async () => {
    const res = await fetch(`${gw.url}/admin/assets/${js}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const body = Buffer.from(await res.arrayBuffer());
    assert.deepEqual(body, readFileSync(join(DIST_DIR, 'assets', js)));
    assert.equal(res.headers.get('content-length'), String(body.length));
    const etag = res.headers.get('etag')!;
    assert.ok(etag);
    const again = await fetch(`${gw.url}/admin/assets/${js}`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');

    const style = await fetch(`${gw.url}/admin/assets/${css}`);
    assert.equal(style.headers.get('content-type'), 'text/css; charset=utf-8');
    await style.arrayBuffer();
    const icon = await fetch(`${gw.url}/admin/favicon.svg`);
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    assert.equal(icon.headers.get('cache-control'), 'public, max-age=3600');
    await icon.arrayBuffer();
  });

  test('HEAD answers headers only', async () => {
    const res = await fetch(`${gw.url}/admin`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await res.text(), '');
  });

  test('a missing asset is a 404 in the error envelope, not the page', async () => {
    for (const path of ['/admin/assets/index-missing.js', '/admin/nothing.png', '/admin/assets/']) {
      const res = await fetch(gw.url + path);
      assert.equal(res.status, 404, path);
      const body = await res.json();
      assert.equal(body.error.code, 'not_found');
      assert.equal(body.request_id, res.headers.get('x-request-id'));
    }
  });

  test('nothing outside dist/ is served', async () => {
    for (const path of [
      '/admin/../package.json',
      '/admin/%2e%2e/package.json',
      '/admin/..%2f..%2f..%2fpackage.json',
      '/admin/%2e%2e%2f%2e%2e%2fgateway%2fsrc%2fconfig.ts',
      '/admin/..%5c..%5cpackage.json',
      '/admin/%00.js',
      '/admin/%E0%A4%A',
    ]) {
      const res = await fetch(gw.url + path);
      const text = await res.text();
      assert.ok(!text.includes('"workspaces"') && !text.includes('"name": "@portico'), `leaked a file for ${path}`);
      assert.ok(res.status === 404 || res.status === 400 || (res.status === 200 && text.includes('<div id="app">')), `${path} → ${res.status}`);
    }
  });

  test('changes to /admin are 405', async () => {
    const res = await fetch(`${gw.url}/admin/organizations`, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal((await res.json()).error.code, 'method_not_allowed');
  });
});

test('without a build, /admin says how to make one', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'portico-nodist-'));
  const app = Fastify();
  registerPanelStatic(app, join(empty, 'dist'));
  try {
    for (const url of ['/admin', '/admin/organizations']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.match(res.body, /npm run build/);
    }
  } finally {
    await app.close();
    rmSync(empty, { recursive: true, force: true });
  }
});
