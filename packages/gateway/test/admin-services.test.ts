// Services in the admin API (SPEC §8, §9): list and read every service, enable/disable, base
// URL and timeout overrides, the service credential policy, and per-organization switches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCatalog, defaultCatalogDir } from '../src/catalog/load.ts';
import { databases, expectError, startGateway, type TestGateway } from './helpers.ts';
import { ADMIN, POLICY_TENANT_ONLY, orgWithKeys, walk } from './admin-fixtures.ts';

const catalog = new Map(loadCatalog(defaultCatalogDir()).map((s) => [s.slug, s]));
const HEYGEN_OVERRIDE = 'http://127.0.0.1:9';
const NO_SOURCE = { allow_tenant_key: false, allow_platform_key: false, default_source: 'platform', fallback_to_platform_key: false };

for (const db of await databases()) {
  describe(`admin services (${db})`, () => {
    let gw: TestGateway;

    before(async () => {
      gw = await startGateway({ db, env: { PORTICO_BASE_URL_HEYGEN: HEYGEN_OVERRIDE } });
    });
    after(async () => {
      await gw.close();
    });

    test('list and read: every service with the admin fields', async () => {
      const r = await gw.api('GET', `${ADMIN}/services`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.next_cursor, null);
      assert.deepEqual(r.body.services.map((s: any) => s.slug).sort(), [...catalog.keys()].sort());
      for (const s of r.body.services) {
        const def = catalog.get(s.slug)!;
        assert.deepEqual(Object.keys(s).sort(), [
          'base_url',
          'credential_name',
          'credential_policy',
          'credential_schema',
          'enabled',
          'endpoint_count',
          'name',
          'slug',
          'timeout_ms',
        ]);
        assert.deepEqual(s, {
          slug: def.slug,
          name: def.name,
          enabled: true,
          base_url: s.slug === 'heygen' ? HEYGEN_OVERRIDE : def.base_url,
          timeout_ms: def.timeout_ms,
          credential_name: def.credential_name,
          credential_schema: def.credential_schema,
          credential_policy: def.credential_policy,
          endpoint_count: def.endpoints.length,
        });
        assert.deepEqual((await gw.api('GET', `${ADMIN}/services/${s.slug}`)).body, s);
      }
      const paged = await walk(gw, `${ADMIN}/services`, 'services', 1);
      assert.equal(paged.pages, catalog.size);
      assert.deepEqual(paged.items, r.body.services);
      expectError(
        assert,
        await gw.api('GET', `${ADMIN}/services?limit=201`),
        400,
        'invalid_request',
        "Query parameter 'limit' must be an integer between 1 and 200.",
      );
    });

    test('unknown service → 404 service_not_found on every service route', async () => {
      await orgWithKeys(gw, 'svc-404');
      const msg = "External proxy service 'nope' not found or disabled.";
      expectError(assert, await gw.api('GET', `${ADMIN}/services/nope`), 404, 'service_not_found', msg);
      expectError(assert, await gw.api('PATCH', `${ADMIN}/services/nope`, { body: { enabled: false } }), 404, 'service_not_found', msg);
      expectError(assert, await gw.api('PUT', `${ADMIN}/services/nope/credential-policy`, { body: POLICY_TENANT_ONLY }), 404, 'service_not_found', msg);
      expectError(
        assert,
        await gw.api('PUT', `${ADMIN}/organizations/svc-404/services/nope/credential-policy`, { body: POLICY_TENANT_ONLY }),
        404,
        'service_not_found',
        msg,
      );
      expectError(assert, await gw.api('DELETE', `${ADMIN}/organizations/svc-404/services/nope/credential-policy`), 404, 'service_not_found', msg);
      expectError(assert, await gw.api('PATCH', `${ADMIN}/organizations/svc-404/services/nope`, { body: { enabled: false } }), 404, 'service_not_found', msg);
      // Unknown organization on the per-organization routes.
      expectError(
        assert,
        await gw.api('PUT', `${ADMIN}/organizations/ghost/services/elevenlabs/credential-policy`, { body: POLICY_TENANT_ONLY }),
        404,
        'not_found',
        'Not found.',
      );
      expectError(assert, await gw.api('DELETE', `${ADMIN}/organizations/ghost/services/elevenlabs/credential-policy`), 404, 'not_found', 'Not found.');
      expectError(
        assert,
        await gw.api('PATCH', `${ADMIN}/organizations/ghost/services/elevenlabs`, { body: { enabled: false } }),
        404,
        'not_found',
        'Not found.',
      );
    });

    test('PATCH enabled, base_url, timeout_ms; null resets; the environment override still wins', async () => {
      const o = await orgWithKeys(gw, 'svc-patch');
      const off = await gw.api('PATCH', `${ADMIN}/services/elevenlabs`, {
        body: { enabled: false, base_url: 'https://eu.example.com/api/', timeout_ms: 5000 },
      });
      assert.equal(off.status, 200, off.text);
      assert.equal(off.body.enabled, false);
      assert.equal(off.body.base_url, 'https://eu.example.com/api');
      assert.equal(off.body.timeout_ms, 5000);
      assert.deepEqual((await gw.api('GET', `${ADMIN}/services/elevenlabs`)).body, off.body);
      // Disabled platform-wide: gone from discovery at once.
      const disc = await gw.api('GET', '/api/v1/external-proxy/services/elevenlabs', { token: o.member });
      expectError(assert, disc, 404, 'service_not_found', "External proxy service 'elevenlabs' not found or disabled.");
      const svcView = await gw.gateway.ctx.registry.service('elevenlabs');
      assert.equal(svcView?.baseUrl, 'https://eu.example.com/api');
      assert.equal(svcView?.adminTimeoutMs, 5000);

      const reset = await gw.api('PATCH', `${ADMIN}/services/elevenlabs`, { body: { enabled: true, base_url: null, timeout_ms: null } });
      assert.equal(reset.body.enabled, true);
      assert.equal(reset.body.base_url, catalog.get('elevenlabs')!.base_url);
      assert.equal(reset.body.timeout_ms, catalog.get('elevenlabs')!.timeout_ms);
      assert.equal((await gw.api('GET', '/api/v1/external-proxy/services/elevenlabs', { token: o.member })).status, 200);

      const hg = await gw.api('PATCH', `${ADMIN}/services/heygen`, { body: { base_url: 'http://10.0.0.1:8080', timeout_ms: 100 } });
      assert.equal(hg.body.base_url, HEYGEN_OVERRIDE);
      assert.equal(hg.body.timeout_ms, 100);
      const hg2 = await gw.api('PATCH', `${ADMIN}/services/heygen`, { body: { timeout_ms: 600000 } });
      assert.equal(hg2.body.timeout_ms, 600000);
      const row = await gw.gateway.ctx.store.db.selectFrom('services').selectAll().where('slug', '=', 'heygen').executeTakeFirstOrThrow();
      assert.equal(row.base_url, 'http://10.0.0.1:8080');
      await gw.api('PATCH', `${ADMIN}/services/heygen`, { body: { base_url: null, timeout_ms: null } });
    });

    test('PATCH: validation failures name the field and change nothing', async () => {
      const before = (await gw.api('GET', `${ADMIN}/services/heygen`)).body;
      const cases: [unknown, string][] = [
        [{ enabled: 'no' }, "Field 'enabled' must be a boolean, not a string."],
        [{ enabled: null }, "Field 'enabled' must be a boolean, not null."],
        [{ base_url: 'ftp://files.example.com' }, "Field 'base_url' has unsupported scheme 'ftp' (use http or https)."],
        [{ base_url: 'not a url' }, "Field 'base_url' must be an absolute http or https URL."],
        [{ base_url: 'https://u:p@x.example.com' }, "Field 'base_url' must not contain credentials."],
        [{ base_url: 'https://x.example.com/?a=1' }, "Field 'base_url' must not contain a query or fragment."],
        [{ base_url: 42 }, "Field 'base_url' must be an http or https URL or null, not a number."],
        [{ timeout_ms: 99 }, "Field 'timeout_ms' must be an integer between 100 and 600000 (milliseconds), or null."],
        [{ timeout_ms: 600001 }, "Field 'timeout_ms' must be an integer between 100 and 600000 (milliseconds), or null."],
        [{ timeout_ms: 1000.5 }, "Field 'timeout_ms' must be an integer between 100 and 600000 (milliseconds), or null."],
        [{ timeout_ms: '1000' }, "Field 'timeout_ms' must be an integer between 100 and 600000 (milliseconds), or null."],
        [{ enabled: false, name: 'x' }, "Unknown field 'name'."],
        [{ enabled: false, timeout_ms: 5 }, "Field 'timeout_ms' must be an integer between 100 and 600000 (milliseconds), or null."],
      ];
      for (const [body, message] of cases) {
        expectError(assert, await gw.api('PATCH', `${ADMIN}/services/heygen`, { body }), 400, 'invalid_request', message);
      }
      assert.deepEqual((await gw.api('GET', `${ADMIN}/services/heygen`)).body, before);
    });

    test('PUT credential-policy: stored (also with no source), validated', async () => {
      const o = await orgWithKeys(gw, 'svc-pol');
      const r = await gw.api('PUT', `${ADMIN}/services/heygen/credential-policy`, { body: POLICY_TENANT_ONLY });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, POLICY_TENANT_ONLY);
      assert.deepEqual((await gw.api('GET', `${ADMIN}/services/heygen`)).body.credential_policy, POLICY_TENANT_ONLY);
      assert.deepEqual((await gw.api('GET', '/api/v1/external-proxy/services/heygen', { token: o.member })).body.credential_policy, POLICY_TENANT_ONLY);
      const none = await gw.api('PUT', `${ADMIN}/services/heygen/credential-policy`, { body: NO_SOURCE });
      assert.equal(none.status, 200);
      assert.deepEqual((await gw.api('GET', `${ADMIN}/services/heygen`)).body.credential_policy, NO_SOURCE);

      const cases: [unknown, string][] = [
        [{ ...POLICY_TENANT_ONLY, extra: true }, "Unknown field 'extra'."],
        [{ ...POLICY_TENANT_ONLY, allow_tenant_key: 'yes' }, "Field 'allow_tenant_key' is required and must be a boolean."],
        [{ allow_tenant_key: true, allow_platform_key: true, default_source: 'tenant' }, "Field 'fallback_to_platform_key' is required and must be a boolean."],
        [{ ...POLICY_TENANT_ONLY, default_source: 'both' }, "Field 'default_source' is required and must be 'tenant' or 'platform'."],
        [[], 'Request body must be a JSON object.'],
      ];
      for (const [body, message] of cases) {
        expectError(assert, await gw.api('PUT', `${ADMIN}/services/heygen/credential-policy`, { body }), 400, 'invalid_request', message);
        expectError(assert, await gw.api('PUT', `${ADMIN}/organizations/svc-pol/services/heygen/credential-policy`, { body }), 400, 'invalid_request', message);
      }
      assert.deepEqual((await gw.api('GET', `${ADMIN}/services/heygen`)).body.credential_policy, NO_SOURCE);
      assert.equal((await gw.gateway.ctx.registry.org('svc-pol'))?.services.get('heygen'), undefined);
      // Back to the catalog's policy for the other tests.
      await gw.api('PUT', `${ADMIN}/services/heygen/credential-policy`, { body: catalog.get('heygen')!.credential_policy });
    });

    test('per-organization policy override: PUT, then DELETE back to the service policy', async () => {
      const o = await orgWithKeys(gw, 'ovr');
      const put = await gw.api('PUT', `${ADMIN}/organizations/ovr/services/elevenlabs/credential-policy`, { body: NO_SOURCE });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(put.body, NO_SOURCE);
      const view = await gw.gateway.ctx.registry.org('ovr');
      assert.deepEqual(view?.services.get('elevenlabs'), { enabled: true, policy: NO_SOURCE });
      assert.deepEqual((await gw.api('GET', '/api/v1/external-proxy/services/elevenlabs', { token: o.member })).body.credential_policy, NO_SOURCE);
      // Replaced by a second PUT.
      await gw.api('PUT', `${ADMIN}/organizations/ovr/services/elevenlabs/credential-policy`, { body: POLICY_TENANT_ONLY });
      assert.deepEqual((await gw.gateway.ctx.registry.org('ovr'))?.services.get('elevenlabs')?.policy, POLICY_TENANT_ONLY);

      const del = await gw.api('DELETE', `${ADMIN}/organizations/ovr/services/elevenlabs/credential-policy`);
      assert.equal(del.status, 204);
      assert.equal(del.text, '');
      assert.deepEqual((await gw.gateway.ctx.registry.org('ovr'))?.services.get('elevenlabs'), { enabled: true, policy: null });
      assert.deepEqual(
        (await gw.api('GET', '/api/v1/external-proxy/services/elevenlabs', { token: o.member })).body.credential_policy,
        catalog.get('elevenlabs')!.credential_policy,
      );
      // Deleting again is harmless.
      assert.equal((await gw.api('DELETE', `${ADMIN}/organizations/ovr/services/elevenlabs/credential-policy`)).status, 204);
    });

    test('PATCH /organizations/{org}/services/{service}: an organization admin switches a service for its organization', async () => {
      const o = await orgWithKeys(gw, 'switch');
      const off = await gw.api('PATCH', `${ADMIN}/organizations/switch/services/heygen`, { token: o.admin, body: { enabled: false } });
      assert.equal(off.status, 200, off.text);
      assert.deepEqual(off.body, { organization: 'switch', service: 'heygen', enabled: false, credential_policy: null });
      expectError(
        assert,
        await gw.api('GET', '/api/v1/external-proxy/services/heygen', { token: o.member }),
        404,
        'service_not_found',
        "External proxy service 'heygen' not found or disabled.",
      );
      const list = await gw.api('GET', '/api/v1/external-proxy/services', { token: o.member });
      assert.deepEqual(
        list.body.services.map((s: any) => s.slug),
        ['elevenlabs'],
      );
      // The platform override survives the switch, and the switch survives the override.
      await gw.api('PUT', `${ADMIN}/organizations/switch/services/heygen/credential-policy`, { body: POLICY_TENANT_ONLY });
      const on = await gw.api('PATCH', `${ADMIN}/organizations/switch/services/heygen`, { body: { enabled: true } });
      assert.deepEqual(on.body, { organization: 'switch', service: 'heygen', enabled: true, credential_policy: POLICY_TENANT_ONLY });
      assert.equal((await gw.api('GET', '/api/v1/external-proxy/services/heygen', { token: o.member })).status, 200);

      const cases: [unknown, string][] = [
        [{}, "Field 'enabled' is required."],
        [{ enabled: 'off' }, "Field 'enabled' must be a boolean, not a string."],
        [{ enabled: true, policy: {} }, "Unknown field 'policy'."],
      ];
      for (const [body, message] of cases) {
        expectError(assert, await gw.api('PATCH', `${ADMIN}/organizations/switch/services/heygen`, { token: o.admin, body }), 400, 'invalid_request', message);
      }
      assert.equal((await gw.gateway.ctx.registry.org('switch'))?.services.get('heygen')?.enabled, true);
    });
  });
}
