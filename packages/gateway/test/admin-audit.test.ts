// The audit log (SPEC §8): one entry per successful change, with actor, action, target and the
// change's X-Request-Id; none for refused changes; filters, time range and pagination.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { databases, expectError, startGateway, type TestGateway } from './helpers.ts';
import { startStub } from './fixtures.ts';
import { ADMIN, POLICY_TENANT_ONLY, auditEntry, createKey, createOrg, orgWithKeys, requestId, walk } from './admin-fixtures.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

for (const db of await databases()) {
  describe(`admin audit log (${db})`, () => {
    let gw: TestGateway;
    let stub: Awaited<ReturnType<typeof startStub>>;

    before(async () => {
      stub = await startStub((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"voices":[]}');
      });
      gw = await startGateway({ db, env: { PORTICO_BASE_URL_ELEVENLABS: stub.url } });
    });
    after(async () => {
      await gw.close();
      await stub.close();
    });

    test('every change writes one entry with actor, action, target and its request id', async () => {
      const o = await orgWithKeys(gw, 'aud');
      const orgAdmin = `apikey:${o.adminId}`;
      /** Runs one change with a fresh request id and checks its entry. */
      async function change(
        method: string,
        path: string,
        body: unknown,
        token: string | undefined,
        expected: { status: number; actor: string; action: string; target: string | ((res: any) => string) },
      ): Promise<any> {
        const rid = requestId(expected.action);
        const res = await gw.api(method, ADMIN + path, { body, headers: { 'x-request-id': rid }, ...(token ? { token } : {}) });
        assert.equal(res.status, expected.status, `${method} ${path}: ${res.text}`);
        assert.equal(res.headers.get('x-request-id'), rid);
        const entry = await auditEntry(gw, rid);
        assert.deepEqual(Object.keys(entry).sort(), ['action', 'actor', 'at', 'id', 'request_id', 'target']);
        assert.equal(entry.actor, expected.actor);
        assert.equal(entry.action, expected.action);
        assert.equal(entry.target, typeof expected.target === 'function' ? expected.target(res.body) : expected.target);
        assert.match(entry.at, ISO);
        assert.ok(Date.now() - Date.parse(entry.at) < 60_000);
        return res.body;
      }

      await change('POST', '/organizations', { slug: 'aud-2', name: 'Two' }, undefined, {
        status: 201,
        actor: 'platform',
        action: 'organization.create',
        target: 'organization:aud-2',
      });
      await change('PATCH', '/organizations/aud-2', { name: 'Deux' }, undefined, {
        status: 200,
        actor: 'platform',
        action: 'organization.update',
        target: 'organization:aud-2',
      });
      await change('PUT', '/plans/gold', { services: null }, undefined, { status: 201, actor: 'platform', action: 'plan.upsert', target: 'plan:gold' });
      await change('PUT', '/plans/gold', { services: ['heygen'] }, undefined, { status: 200, actor: 'platform', action: 'plan.upsert', target: 'plan:gold' });
      const key = await change('POST', '/organizations/aud/api-keys', { name: 'by admin' }, o.admin, {
        status: 201,
        actor: orgAdmin,
        action: 'api_key.create',
        target: (b) => `api_key:${b.id}`,
      });
      await change('DELETE', `/organizations/aud/api-keys/${key.id}`, undefined, o.admin, {
        status: 204,
        actor: orgAdmin,
        action: 'api_key.revoke',
        target: `api_key:${key.id}`,
      });
      await change('PATCH', '/services/heygen', { timeout_ms: 1000 }, undefined, {
        status: 200,
        actor: 'platform',
        action: 'service.update',
        target: 'service:heygen',
      });
      await change('PUT', '/services/heygen/credential-policy', POLICY_TENANT_ONLY, undefined, {
        status: 200,
        actor: 'platform',
        action: 'service.policy.update',
        target: 'service:heygen',
      });
      await change('PATCH', '/organizations/aud/services/heygen', { enabled: false }, o.admin, {
        status: 200,
        actor: orgAdmin,
        action: 'organization.service.update',
        target: 'organization:aud/service:heygen',
      });
      await change('PUT', '/organizations/aud/services/heygen/credential-policy', POLICY_TENANT_ONLY, undefined, {
        status: 200,
        actor: 'platform',
        action: 'organization.policy.update',
        target: 'organization:aud/service:heygen',
      });
      await change('DELETE', '/organizations/aud/services/heygen/credential-policy', undefined, undefined, {
        status: 204,
        actor: 'platform',
        action: 'organization.policy.delete',
        target: 'organization:aud/service:heygen',
      });
      const cred = await change('POST', '/credentials', { service: 'elevenlabs', scope: 'tenant', secret: 'sk_audit_secret_0001' }, o.admin, {
        status: 201,
        actor: orgAdmin,
        action: 'credential.create',
        target: (b) => `credential:${b.id}`,
      });
      await change('PATCH', `/credentials/${cred.id}`, { label: 'x', secret: 'sk_audit_secret_0002' }, o.admin, {
        status: 200,
        actor: orgAdmin,
        action: 'credential.update',
        target: `credential:${cred.id}`,
      });
      await change('POST', `/credentials/${cred.id}/test`, undefined, o.admin, {
        status: 200,
        actor: orgAdmin,
        action: 'credential.test',
        target: `credential:${cred.id}`,
      });
      await change('DELETE', `/credentials/${cred.id}`, undefined, o.admin, {
        status: 204,
        actor: orgAdmin,
        action: 'credential.delete',
        target: `credential:${cred.id}`,
      });
      await change('DELETE', '/organizations/aud-2', undefined, undefined, {
        status: 204,
        actor: 'platform',
        action: 'organization.delete',
        target: 'organization:aud-2',
      });

      const all = await gw.api('GET', `${ADMIN}/audit-log?limit=200`);
      assert.ok(!all.text.includes('sk_audit_secret'));
    });

    test('refused or invalid changes write no entry', async () => {
      const o = await orgWithKeys(gw, 'aud-no');
      const before = (await walk(gw, `${ADMIN}/audit-log`, 'entries', 200)).items.length;
      const attempts: [string, string, unknown, string | undefined][] = [
        ['POST', '/organizations', { slug: 'aud-no', name: 'dup' }, undefined],
        ['POST', '/organizations', { slug: 'Bad' }, undefined],
        ['PATCH', '/organizations/aud-no', { plan: 'nope' }, undefined],
        ['POST', '/organizations', { slug: 'x-1', name: 'x' }, o.admin],
        ['POST', '/organizations/aud-no/api-keys', { name: 'x' }, o.member],
        ['PUT', '/plans/bad', { services: ['nope'] }, undefined],
        ['PATCH', '/services/heygen', { timeout_ms: 1 }, undefined],
        ['POST', '/credentials', { service: 'elevenlabs', scope: 'platform', secret: 'sk_****abcd' }, undefined],
        ['DELETE', '/organizations/aud-no/api-keys/nope', undefined, undefined],
      ];
      for (const [method, path, body, token] of attempts) {
        const rid = requestId('refused');
        const res = await gw.api(method, ADMIN + path, { body, headers: { 'x-request-id': rid }, ...(token ? { token } : {}) });
        assert.ok(res.status >= 400, `${method} ${path} should fail`);
        const found = await gw.api('GET', `${ADMIN}/audit-log?limit=200`);
        assert.ok(!found.body.entries.some((e: any) => e.request_id === rid));
      }
      assert.equal((await walk(gw, `${ADMIN}/audit-log`, 'entries', 200)).items.length, before);
    });

    test('filters: action, actor, target (exact), from/to; newest first; pages', async () => {
      const o = await orgWithKeys(gw, 'aud-f');
      const k = await createKey(gw, 'aud-f', 'admin', { token: o.admin });
      const byAction = await gw.api('GET', `${ADMIN}/audit-log?action=api_key.create&limit=200`);
      assert.ok(byAction.body.entries.length >= 3);
      assert.ok(byAction.body.entries.every((e: any) => e.action === 'api_key.create'));
      const byActor = await gw.api('GET', `${ADMIN}/audit-log?actor=apikey:${o.adminId}`);
      assert.deepEqual(
        byActor.body.entries.map((e: any) => e.target),
        [`api_key:${k.id}`],
      );
      const byTarget = await gw.api('GET', `${ADMIN}/audit-log?target=organization:aud-f`);
      assert.deepEqual(
        byTarget.body.entries.map((e: any) => e.action),
        ['organization.create'],
      );
      assert.deepEqual(
        (await gw.api('GET', `${ADMIN}/audit-log?target=organization:aud`)).body.entries.map((e: any) => e.action),
        ['organization.create'],
      );

      const all = (await gw.api('GET', `${ADMIN}/audit-log?limit=200`)).body.entries;
      const ids = all.map((e: any) => e.id);
      assert.deepEqual(ids, [...ids].sort().reverse(), 'newest first');
      const paged = await walk(gw, `${ADMIN}/audit-log`, 'entries', 4);
      assert.ok(paged.pages >= 3);
      assert.deepEqual(paged.items, all);
      const filteredPages = await walk(gw, `${ADMIN}/audit-log?action=api_key.create`, 'entries', 1);
      assert.deepEqual(filteredPages.items, byAction.body.entries);

      // Time range: from inclusive, to exclusive.
      const newest = all[0];
      const oldest = all[all.length - 1];
      const fromNewest = await gw.api('GET', `${ADMIN}/audit-log?limit=200&from=${encodeURIComponent(newest.at)}`);
      assert.ok(fromNewest.body.entries.every((e: any) => e.at >= newest.at));
      assert.ok(fromNewest.body.entries.some((e: any) => e.id === newest.id));
      const toNewest = await gw.api('GET', `${ADMIN}/audit-log?limit=200&to=${encodeURIComponent(newest.at)}`);
      assert.ok(toNewest.body.entries.every((e: any) => e.at < newest.at));
      assert.ok(toNewest.body.entries.some((e: any) => e.id === oldest.id) || oldest.at === newest.at);
      const future = await gw.api('GET', `${ADMIN}/audit-log?from=2999-01-01T00:00:00Z`);
      assert.deepEqual(future.body, { entries: [], next_cursor: null });
      const offset = await gw.api('GET', `${ADMIN}/audit-log?limit=200&from=2000-01-01T01:00:00%2B01:00&to=2999-01-01T00:00:00Z`);
      assert.equal(offset.body.entries.length, all.length);

      expectError(
        assert,
        await gw.api('GET', `${ADMIN}/audit-log?from=yesterday`),
        400,
        'invalid_request',
        "Query parameter 'from' must be an RFC 3339 date-time with a time zone, e.g. 2030-01-01T00:00:00Z.",
      );
      expectError(
        assert,
        await gw.api('GET', `${ADMIN}/audit-log?to=2020-01-01`),
        400,
        'invalid_request',
        "Query parameter 'to' must be an RFC 3339 date-time with a time zone, e.g. 2030-01-01T00:00:00Z.",
      );
      expectError(assert, await gw.api('GET', `${ADMIN}/audit-log?who=platform`), 400, 'invalid_request', "Unknown query parameter 'who'.");
      for (const bad of ['0', '201', 'abc']) {
        expectError(
          assert,
          await gw.api('GET', `${ADMIN}/audit-log?limit=${bad}`),
          400,
          'invalid_request',
          "Query parameter 'limit' must be an integer between 1 and 200.",
        );
      }
    });

    test('organization keys cannot read the audit log', async () => {
      await createOrg(gw, 'aud-ro');
      const k = await createKey(gw, 'aud-ro', 'admin');
      expectError(
        assert,
        await gw.api('GET', `${ADMIN}/audit-log`, { token: k.key }),
        403,
        'permission_denied',
        'You do not have permission to perform this action.',
      );
    });
  });
}
