// Admin API authentication and permission (SPEC §3, §8): every route, every scheme, expired,
// revoked and member keys, organization keys on platform routes, disabled organizations.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { databases, expectError, startGateway, ADMIN_TOKEN, type TestGateway } from './helpers.ts';
import { ADMIN, createCredential, createKey, futureIso, issuedKeys, orgWithKeys, sleep } from './admin-fixtures.ts';

const DENIED = 'You do not have permission to perform this action.';

interface Route {
  method: string;
  path: string;
  body?: unknown;
  platform: boolean;
}

/** Every admin route, for organization `org`, credential `cred`, API key `key`. */
function routes(org: string, cred: string, key: string): Route[] {
  return [
    { method: 'POST', path: '/organizations', body: { slug: 'never-created', name: 'x' }, platform: true },
    { method: 'GET', path: '/organizations', platform: true },
    { method: 'GET', path: `/organizations/${org}`, platform: true },
    { method: 'PATCH', path: `/organizations/${org}`, body: { name: 'changed' }, platform: true },
    { method: 'DELETE', path: `/organizations/${org}`, platform: true },
    { method: 'POST', path: `/organizations/${org}/api-keys`, body: { name: 'k' }, platform: false },
    { method: 'GET', path: `/organizations/${org}/api-keys`, platform: false },
    { method: 'DELETE', path: `/organizations/${org}/api-keys/${key}`, platform: false },
    { method: 'GET', path: '/services', platform: true },
    { method: 'GET', path: '/services/elevenlabs', platform: true },
    { method: 'PATCH', path: '/services/elevenlabs', body: { enabled: false }, platform: true },
    {
      method: 'PUT',
      path: '/services/elevenlabs/credential-policy',
      body: { allow_tenant_key: false, allow_platform_key: false, default_source: 'tenant', fallback_to_platform_key: false },
      platform: true,
    },
    {
      method: 'PUT',
      path: `/organizations/${org}/services/elevenlabs/credential-policy`,
      body: { allow_tenant_key: false, allow_platform_key: false, default_source: 'tenant', fallback_to_platform_key: false },
      platform: true,
    },
    { method: 'DELETE', path: `/organizations/${org}/services/elevenlabs/credential-policy`, platform: true },
    { method: 'PATCH', path: `/organizations/${org}/services/elevenlabs`, body: { enabled: false }, platform: false },
    { method: 'POST', path: '/credentials', body: { service: 'elevenlabs', scope: 'tenant', secret: 'sk_never_stored_0001' }, platform: false },
    { method: 'GET', path: '/credentials', platform: false },
    { method: 'GET', path: `/credentials/${cred}`, platform: false },
    { method: 'PATCH', path: `/credentials/${cred}`, body: { label: 'changed' }, platform: false },
    { method: 'DELETE', path: `/credentials/${cred}`, platform: false },
    { method: 'POST', path: `/credentials/${cred}/test`, platform: false },
    { method: 'GET', path: '/plans', platform: true },
    { method: 'GET', path: '/plans/some-plan', platform: true },
    { method: 'PUT', path: '/plans/never-created', body: { services: null }, platform: true },
    { method: 'GET', path: '/audit-log', platform: true },
  ];
}

for (const db of await databases()) {
  describe(`admin auth (${db})`, () => {
    let gw: TestGateway;
    let acme: Awaited<ReturnType<typeof orgWithKeys>>;
    let credId: string;

    before(async () => {
      gw = await startGateway({ db });
      acme = await orgWithKeys(gw, 'acme');
      credId = (await createCredential(gw, { service: 'elevenlabs', scope: 'tenant', organization: 'acme', secret: 'sk_acme_tenant_secret_1' })).id;
    });
    after(async () => {
      await gw.close();
    });

    /** Nothing that the refused requests targeted has changed. */
    async function assertUnchanged(): Promise<void> {
      const org = await gw.api('GET', `${ADMIN}/organizations/acme`);
      assert.equal(org.status, 200);
      assert.equal(org.body.name, 'Org acme');
      assert.equal(org.body.disabled, false);
      const keys = await gw.api('GET', `${ADMIN}/organizations/acme/api-keys`);
      assert.equal(keys.body.api_keys.length, 2);
      const cred = await gw.api('GET', `${ADMIN}/credentials/${credId}`);
      assert.equal(cred.status, 200);
      assert.equal(cred.body.label, null);
      const svc = await gw.api('GET', `${ADMIN}/services/elevenlabs`);
      assert.equal(svc.body.enabled, true);
      assert.equal(svc.body.credential_policy.allow_tenant_key, true);
      const orgs = await gw.api('GET', `${ADMIN}/organizations`);
      assert.deepEqual(
        orgs.body.organizations.map((o: any) => o.slug),
        ['acme'],
      );
      const plans = await gw.api('GET', `${ADMIN}/plans`);
      assert.deepEqual(plans.body.plans, []);
      const creds = await gw.api('GET', `${ADMIN}/credentials`);
      assert.equal(creds.body.credentials.length, 1);
    }

    test('no header, empty header or another scheme → 401 not_authenticated on every route', async () => {
      for (const r of routes('acme', credId, acme.memberId)) {
        const none = await gw.api(r.method, ADMIN + r.path, { token: null, body: r.body });
        expectError(assert, none, 401, 'not_authenticated', 'Authentication credentials were not provided.');
      }
      for (const header of ['', 'Bearer', 'Bearer ', 'Basic x', `Basic ${ADMIN_TOKEN}`, ADMIN_TOKEN]) {
        const r = await gw.api('GET', `${ADMIN}/organizations`, { token: null, headers: { authorization: header } });
        expectError(assert, r, 401, 'not_authenticated', 'Authentication credentials were not provided.');
      }
      await assertUnchanged();
    });

    test('unknown token → 401 invalid_token', async () => {
      for (const token of ['wrong-admin-token-0123456789', 'ptk_abcdefgh_' + 'x'.repeat(43), ADMIN_TOKEN + 'x']) {
        for (const r of routes('acme', credId, acme.memberId)) {
          const res = await gw.api(r.method, ADMIN + r.path, { token, body: r.body });
          expectError(assert, res, 401, 'invalid_token', 'Invalid token.');
        }
      }
      await assertUnchanged();
    });

    test('Bearer, Api-Key and Token schemes are the same, for the admin token and API keys', async () => {
      for (const scheme of ['Bearer', 'Api-Key', 'Token', 'bearer']) {
        const p = await gw.api('GET', `${ADMIN}/organizations`, { token: null, headers: { authorization: `${scheme} ${ADMIN_TOKEN}` } });
        assert.equal(p.status, 200, p.text);
        const k = await gw.api('GET', `${ADMIN}/organizations/acme/api-keys`, { token: null, headers: { authorization: `${scheme} ${acme.admin}` } });
        assert.equal(k.status, 200, k.text);
      }
    });

    test('a member key → 403 permission_denied on every admin route, and nothing changes', async () => {
      for (const r of routes('acme', credId, acme.memberId)) {
        const res = await gw.api(r.method, ADMIN + r.path, { token: acme.member, body: r.body });
        expectError(assert, res, 403, 'permission_denied', DENIED);
      }
      await assertUnchanged();
    });

    test('an organization admin key on a platform route → 403 permission_denied', async () => {
      const platformOnly = routes('acme', credId, acme.memberId).filter((r) => r.platform);
      assert.ok(platformOnly.length >= 12);
      for (const r of platformOnly) {
        const res = await gw.api(r.method, ADMIN + r.path, { token: acme.admin, body: r.body });
        expectError(assert, res, 403, 'permission_denied', DENIED);
      }
      // Platform credentials are created with the platform token only.
      const pc = await gw.api('POST', `${ADMIN}/credentials`, {
        token: acme.admin,
        body: { service: 'elevenlabs', scope: 'platform', secret: 'sk_platform_never_1' },
      });
      expectError(assert, pc, 403, 'permission_denied', DENIED);
      await assertUnchanged();
    });

    test('an expired key → 401 token_expired', async () => {
      await gw.api('POST', `${ADMIN}/organizations`, { body: { slug: 'expiring', name: 'Expiring' } });
      const soon = await createKey(gw, 'expiring', 'admin', { expires_at: futureIso(1200) });
      const ok = await gw.api('GET', `${ADMIN}/organizations/expiring/api-keys`, { token: soon.key });
      assert.equal(ok.status, 200, ok.text);
      await sleep(1300);
      for (const r of routes('expiring', credId, soon.id)) {
        const res = await gw.api(r.method, ADMIN + r.path, { token: soon.key, body: r.body });
        expectError(assert, res, 401, 'token_expired', 'Token has expired.');
      }
      // Also when the expiry is changed in the database behind the cache's back and the cache is dropped.
      const other = await createKey(gw, 'expiring', 'admin');
      await gw.gateway.ctx.store.db.updateTable('api_keys').set({ expires_at: '2001-01-01T00:00:00.000Z' }).where('id', '=', other.id).execute();
      gw.gateway.ctx.registry.changed();
      expectError(assert, await gw.api('GET', `${ADMIN}/credentials`, { token: other.key }), 401, 'token_expired', 'Token has expired.');
    });

    test('a revoked key → 401 invalid_token on the very next request', async () => {
      await gw.api('POST', `${ADMIN}/organizations`, { body: { slug: 'revoking', name: 'Revoking' } });
      const a = await createKey(gw, 'revoking', 'admin');
      const b = await createKey(gw, 'revoking', 'member');
      // Warm the cache with both keys first.
      assert.equal((await gw.api('GET', `${ADMIN}/organizations/revoking/api-keys`, { token: a.key })).status, 200);
      expectError(assert, await gw.api('GET', `${ADMIN}/credentials`, { token: b.key }), 403, 'permission_denied', DENIED);
      const del = await gw.api('DELETE', `${ADMIN}/organizations/revoking/api-keys/${b.id}`, { token: a.key });
      assert.equal(del.status, 204);
      expectError(assert, await gw.api('GET', `${ADMIN}/credentials`, { token: b.key }), 401, 'invalid_token', 'Invalid token.');
      // A key may revoke itself; the request after that fails.
      assert.equal((await gw.api('DELETE', `${ADMIN}/organizations/revoking/api-keys/${a.id}`, { token: a.key })).status, 204);
      expectError(assert, await gw.api('GET', `${ADMIN}/organizations/revoking/api-keys`, { token: a.key }), 401, 'invalid_token', 'Invalid token.');
    });

    test("a disabled organization's keys → 403 on every route; enabling again restores them", async () => {
      const dis = await orgWithKeys(gw, 'dimmed');
      const cred = await createCredential(gw, { service: 'elevenlabs', scope: 'tenant', organization: 'dimmed', secret: 'sk_dimmed_secret_0001' });
      const off = await gw.api('PATCH', `${ADMIN}/organizations/dimmed`, { body: { disabled: true } });
      assert.equal(off.status, 200);
      assert.equal(off.body.disabled, true);
      for (const token of [dis.admin, dis.member]) {
        for (const r of routes('dimmed', cred.id, dis.memberId)) {
          const res = await gw.api(r.method, ADMIN + r.path, { token, body: r.body });
          expectError(assert, res, 403, 'permission_denied', DENIED);
        }
        for (const path of ['/api/v1/external-proxy/services', '/api/v1/external-proxy/services/elevenlabs']) {
          expectError(assert, await gw.api('GET', path, { token }), 403, 'permission_denied', DENIED);
        }
      }
      // Nothing was changed by the refused calls.
      const keys = await gw.api('GET', `${ADMIN}/organizations/dimmed/api-keys`);
      assert.equal(keys.body.api_keys.length, 2);
      assert.equal((await gw.api('GET', `${ADMIN}/credentials/${cred.id}`)).body.label, null);
      const on = await gw.api('PATCH', `${ADMIN}/organizations/dimmed`, { body: { disabled: false } });
      assert.equal(on.body.disabled, false);
      assert.equal((await gw.api('GET', `${ADMIN}/organizations/dimmed/api-keys`, { token: dis.admin })).status, 200);
    });

    test('no API key and not the admin token in any log line', async () => {
      assert.ok(issuedKeys.length >= 8);
      assert.ok(gw.logs.length > 50);
      for (const line of gw.logs) {
        assert.ok(!line.includes(ADMIN_TOKEN), 'the admin token in a log line');
        for (const k of issuedKeys) assert.ok(!line.includes(k), 'an API key in a log line');
      }
    });

    test('unknown admin path → 404 not_found, known path with another method → 405', async () => {
      expectError(assert, await gw.api('GET', `${ADMIN}/nope`), 404, 'not_found', 'Not found.');
      expectError(assert, await gw.api('PUT', `${ADMIN}/organizations`, { body: {} }), 405, 'method_not_allowed', 'Method "PUT" not allowed.');
      expectError(assert, await gw.api('POST', `${ADMIN}/audit-log`, { body: {} }), 405, 'method_not_allowed', 'Method "POST" not allowed.');
    });
  });
}
