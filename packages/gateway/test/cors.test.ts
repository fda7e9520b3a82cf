import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from './helpers.ts';
import { seedKey, seedOrg } from './fixtures.ts';

test('CORS: preflight for configured origins, real requests only for the caller organization', async () => {
  const gw = await startGateway({ env: { PORTICO_CORS_ORIGINS: 'http://global.test' } });
  try {
    await seedOrg(gw, 'a');
    await seedOrg(gw, 'b');
    await gw.gateway.ctx.store.db
      .updateTable('organizations')
      .set({ cors_origins: JSON.stringify(['http://a.test']) })
      .where('slug', '=', 'a')
      .execute();
    gw.gateway.ctx.registry.changed();
    const keyA = await seedKey(gw, 'a', 'member');
    const keyB = await seedKey(gw, 'b', 'member');
    const preflight = (origin: string) =>
      fetch(gw.url + '/api/v1/external-proxy/services', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    for (const origin of ['http://global.test', 'http://a.test']) {
      const r = await preflight(origin);
      assert.equal(r.status, 204);
      assert.equal(r.headers.get('access-control-allow-origin'), origin);
      assert.match(r.headers.get('access-control-allow-methods')!, /POST/);
      assert.equal(r.headers.get('access-control-allow-headers'), 'authorization');
    }
    const unknown = await preflight('http://evil.test');
    assert.equal(unknown.headers.get('access-control-allow-origin'), null);

    const get = (key: string, origin: string) => fetch(gw.url + '/api/v1/external-proxy/services', { headers: { authorization: `Bearer ${key}`, origin } });
    const own = await get(keyA, 'http://a.test');
    assert.equal(own.status, 200);
    assert.equal(own.headers.get('access-control-allow-origin'), 'http://a.test');
    assert.match(own.headers.get('access-control-expose-headers')!, /x-request-id/);
    const other = await get(keyB, 'http://a.test');
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const global = await get(keyB, 'http://global.test');
    assert.equal(global.headers.get('access-control-allow-origin'), 'http://global.test');
  } finally {
    await gw.close();
  }
});
