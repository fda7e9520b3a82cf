import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, expectError } from './helpers.ts';

test('healthz, readyz, 404 and 405 on sqlite', async () => {
  const gw = await startGateway();
  try {
    const h = await gw.api('GET', '/healthz', { token: null });
    assert.equal(h.status, 200);
    assert.deepEqual(h.body, { status: 'ok' });
    const r = await gw.api('GET', '/readyz', { token: null });
    assert.equal(r.status, 200);
    const nf = await gw.api('GET', '/nope', { token: null });
    expectError(assert, nf, 404, 'not_found', 'Not found.');
    const na = await gw.api('POST', '/healthz', { token: null });
    expectError(assert, na, 405, 'method_not_allowed', 'Method "POST" not allowed.');
  } finally {
    await gw.close();
  }
});
