// API keys (SPEC §8): create (the key shown once), list without secrets, revoke, validation,
// pagination, and organization admins managing their own organization's keys.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hashToken } from '../src/auth/tokens.ts';
import { databases, expectError, startGateway, type TestGateway } from './helpers.ts';
import { ADMIN, createKey, createOrg, futureIso, orgWithKeys, walk } from './admin-fixtures.ts';

for (const db of await databases()) {
  describe(`admin API keys (${db})`, () => {
    let gw: TestGateway;

    before(async () => {
      gw = await startGateway({ db });
    });
    after(async () => {
      await gw.close();
    });

    test('create → 201 with the key once; only its hash is stored; list shows no secret', async () => {
      await createOrg(gw, 'acme');
      const expires = futureIso(3_600_000);
      const r = await gw.api('POST', `${ADMIN}/organizations/acme/api-keys`, { body: { name: 'ci', role: 'admin', expires_at: expires } });
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(Object.keys(r.body).sort(), ['created_at', 'expires_at', 'id', 'key', 'name', 'prefix', 'role']);
      assert.equal(r.body.name, 'ci');
      assert.equal(r.body.role, 'admin');
      assert.equal(r.body.expires_at, expires);
      assert.match(r.body.key, /^ptk_[A-Za-z0-9_-]+_[A-Za-z0-9_-]{43}$/);
      assert.ok(r.body.key.startsWith(r.body.prefix + '_'));

      const row = await gw.gateway.ctx.store.db.selectFrom('api_keys').selectAll().where('id', '=', r.body.id).executeTakeFirstOrThrow();
      assert.equal(row.hash, hashToken(r.body.key));
      assert.ok(!JSON.stringify(row).includes(r.body.key));

      // The key works, and is listed without the secret.
      const list = await gw.api('GET', `${ADMIN}/organizations/acme/api-keys`, { token: r.body.key });
      assert.equal(list.status, 200, list.text);
      assert.equal(list.body.next_cursor, null);
      assert.equal(list.body.api_keys.length, 1);
      const item = list.body.api_keys[0];
      assert.deepEqual(Object.keys(item).sort(), ['created_at', 'expires_at', 'id', 'last_used_at', 'name', 'prefix', 'role']);
      assert.deepEqual(
        { ...item, last_used_at: null },
        { id: r.body.id, name: 'ci', role: 'admin', prefix: r.body.prefix, expires_at: expires, created_at: r.body.created_at, last_used_at: null },
      );
      // last_used_at shows the use.
      assert.ok(typeof item.last_used_at === 'string' && item.last_used_at >= r.body.created_at, `last_used_at ${item.last_used_at}`);
      assert.ok(!list.text.includes(r.body.key));
      assert.ok(!list.text.includes(row.hash));
    });

    test('role defaults to member; expires_at optional', async () => {
      await createOrg(gw, 'defaults');
      const r = await gw.api('POST', `${ADMIN}/organizations/defaults/api-keys`, { body: { name: 'app' } });
      assert.equal(r.status, 201);
      assert.equal(r.body.role, 'member');
      assert.equal(r.body.expires_at, null);
      // Another timezone offset is accepted and stored in UTC.
      const t = new Date(Date.now() + 86_400_000);
      t.setUTCMilliseconds(0);
      const local = new Date(t.getTime() + 2 * 3600_000).toISOString().replace('.000Z', '+02:00');
      const off = await gw.api('POST', `${ADMIN}/organizations/defaults/api-keys`, { body: { name: 'tz', expires_at: local } });
      assert.equal(off.status, 201, off.text);
      assert.equal(off.body.expires_at, t.toISOString());
    });

    test('validation failures name the field and create nothing', async () => {
      await createOrg(gw, 'valid');
      const cases: [unknown, string][] = [
        [{}, "Field 'name' is required."],
        [{ name: '' }, "Field 'name' must be a non-empty string of at most 200 characters."],
        [{ name: 3 }, "Field 'name' must be a string, not a number."],
        [{ name: 'x', role: 'owner' }, "Field 'role' must be 'admin' or 'member'."],
        [{ name: 'x', role: null }, "Field 'role' must be 'admin' or 'member'."],
        [{ name: 'x', expires_at: '2001-01-01T00:00:00Z' }, "Field 'expires_at' must be in the future."],
        [{ name: 'x', expires_at: 'tomorrow' }, "Field 'expires_at' must be an RFC 3339 date-time with a time zone, e.g. 2030-01-01T00:00:00Z."],
        [{ name: 'x', expires_at: '2099-01-01T00:00:00' }, "Field 'expires_at' must be an RFC 3339 date-time with a time zone, e.g. 2030-01-01T00:00:00Z."],
        [{ name: 'x', expires_at: 4102444800 }, "Field 'expires_at' must be an RFC 3339 date-time with a time zone, e.g. 2030-01-01T00:00:00Z."],
        [{ name: 'x', scopes: ['a'] }, "Unknown field 'scopes'."],
        [[], 'Request body must be a JSON object.'],
      ];
      for (const [body, message] of cases) {
        expectError(assert, await gw.api('POST', `${ADMIN}/organizations/valid/api-keys`, { body }), 400, 'invalid_request', message);
      }
      assert.deepEqual((await gw.api('GET', `${ADMIN}/organizations/valid/api-keys`)).body.api_keys, []);
    });

    test('unknown organization or key → 404 not_found', async () => {
      expectError(assert, await gw.api('POST', `${ADMIN}/organizations/ghost/api-keys`, { body: { name: 'x' } }), 404, 'not_found', 'Not found.');
      expectError(assert, await gw.api('GET', `${ADMIN}/organizations/ghost/api-keys`), 404, 'not_found', 'Not found.');
      expectError(assert, await gw.api('DELETE', `${ADMIN}/organizations/ghost/api-keys/01ABC`), 404, 'not_found', 'Not found.');
      await createOrg(gw, 'real');
      expectError(assert, await gw.api('DELETE', `${ADMIN}/organizations/real/api-keys/01ABC`), 404, 'not_found', 'Not found.');
    });

    test("revoke → 204; the key leaves the list; revoking again → 404; another organization's key id → 404", async () => {
      const a = await orgWithKeys(gw, 'rev-a');
      const b = await orgWithKeys(gw, 'rev-b');
      // B's key through A's path: not found, and B's key keeps working.
      expectError(assert, await gw.api('DELETE', `${ADMIN}/organizations/rev-a/api-keys/${b.memberId}`), 404, 'not_found', 'Not found.');
      expectError(assert, await gw.api('DELETE', `${ADMIN}/organizations/rev-a/api-keys/${b.memberId}`, { token: a.admin }), 404, 'not_found', 'Not found.');
      assert.equal((await gw.api('GET', `${ADMIN}/organizations/rev-b/api-keys`, { token: b.admin })).body.api_keys.length, 2);

      const del = await gw.api('DELETE', `${ADMIN}/organizations/rev-a/api-keys/${a.memberId}`, { token: a.admin });
      assert.equal(del.status, 204);
      assert.equal(del.text, '');
      const list = await gw.api('GET', `${ADMIN}/organizations/rev-a/api-keys`, { token: a.admin });
      assert.deepEqual(
        list.body.api_keys.map((k: any) => k.id),
        [a.adminId],
      );
      expectError(assert, await gw.api('DELETE', `${ADMIN}/organizations/rev-a/api-keys/${a.memberId}`, { token: a.admin }), 404, 'not_found', 'Not found.');
      expectError(assert, await gw.api('GET', '/api/v1/external-proxy/services', { token: a.member }), 401, 'invalid_token', 'Invalid token.');
      const row = await gw.gateway.ctx.store.db.selectFrom('api_keys').select('revoked_at').where('id', '=', a.memberId).executeTakeFirstOrThrow();
      assert.ok(row.revoked_at);
    });

    test('an organization admin creates keys for its own organization (admin or member)', async () => {
      const o = await orgWithKeys(gw, 'self');
      const k = await createKey(gw, 'self', 'admin', { token: o.admin });
      assert.equal(k.body.role, 'admin');
      assert.equal((await gw.api('GET', `${ADMIN}/organizations/self/api-keys`, { token: k.key })).body.api_keys.length, 3);
    });

    test('list: newest first, pages, limit validation', async () => {
      await createOrg(gw, 'many');
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await createKey(gw, 'many', 'member')).id);
      const all = await gw.api('GET', `${ADMIN}/organizations/many/api-keys?limit=200`);
      assert.deepEqual(
        all.body.api_keys.map((k: any) => k.id),
        [...ids].reverse(),
      );
      const paged = await walk(gw, `${ADMIN}/organizations/many/api-keys`, 'api_keys', 3);
      assert.equal(paged.pages, 3);
      assert.deepEqual(paged.items, all.body.api_keys);
      const one = await gw.api('GET', `${ADMIN}/organizations/many/api-keys?limit=7`);
      assert.equal(one.body.next_cursor, null);
      for (const bad of ['0', '201', 'abc']) {
        expectError(
          assert,
          await gw.api('GET', `${ADMIN}/organizations/many/api-keys?limit=${bad}`),
          400,
          'invalid_request',
          "Query parameter 'limit' must be an integer between 1 and 200.",
        );
      }
      // A cursor of another list is refused.
      const orgCursor = (await gw.api('GET', `${ADMIN}/organizations?limit=1`)).body.next_cursor;
      assert.ok(orgCursor);
      expectError(
        assert,
        await gw.api('GET', `${ADMIN}/organizations/many/api-keys?cursor=${orgCursor}`),
        400,
        'invalid_request',
        "Query parameter 'cursor' is invalid.",
      );
    });
  });
}
