// Tenant isolation in the admin API (SPEC §8): organization A's admin key on every route of
// organization B, and on B's and the platform's credentials, answers exactly like a resource
// that does not exist (404 `not_found`), or 403 on platform-only routes; nothing changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { databases, expectError, startGateway, type ApiResponse, type TestGateway } from './helpers.ts';
import { ADMIN, POLICY_TENANT_ONLY, createCredential, orgWithKeys } from './admin-fixtures.ts';

const DENIED = 'You do not have permission to perform this action.';

/** The same answer apart from the request id. */
function sameAs(res: ApiResponse, ref: ApiResponse): void {
  assert.equal(res.status, ref.status);
  assert.deepEqual({ ...res.body, request_id: null }, { ...ref.body, request_id: null });
}

for (const db of await databases()) {
  describe(`admin isolation (${db})`, () => {
    let gw: TestGateway;
    let a: Awaited<ReturnType<typeof orgWithKeys>>;
    let b: Awaited<ReturnType<typeof orgWithKeys>>;
    let bCred: any;
    let platformCred: any;
    let snapshot: unknown;

    async function state(): Promise<unknown> {
      const dbh = gw.gateway.ctx.store.db;
      // last_used_at moves with every use of a key (batched writes), so it is left out.
      const unused = <T extends { last_used_at: string | null }>(rows: T[]) => rows.map((r) => ({ ...r, last_used_at: null }));
      return {
        orgs: await dbh.selectFrom('organizations').selectAll().orderBy('slug').execute(),
        keys: unused(await dbh.selectFrom('api_keys').selectAll().orderBy('id').execute()),
        creds: unused(await dbh.selectFrom('credentials').selectAll().orderBy('id').execute()),
        orgServices: await dbh.selectFrom('organization_services').selectAll().orderBy('organization').execute(),
        services: await dbh.selectFrom('services').selectAll().orderBy('slug').execute(),
        plans: await dbh.selectFrom('plans').selectAll().execute(),
      };
    }

    before(async () => {
      gw = await startGateway({ db });
      a = await orgWithKeys(gw, 'iso-a');
      b = await orgWithKeys(gw, 'iso-b');
      await createCredential(gw, { service: 'elevenlabs', scope: 'tenant', secret: 'sk_iso_a_secret_0001' }, a.admin);
      bCred = await createCredential(gw, { service: 'elevenlabs', scope: 'tenant', secret: 'sk_iso_b_secret_0002' }, b.admin);
      platformCred = await createCredential(gw, { service: 'elevenlabs', scope: 'platform', secret: 'sk_iso_platform_0003' });
      await gw.api('PATCH', `${ADMIN}/organizations/iso-b/services/heygen`, { token: b.admin, body: { enabled: false } });
      snapshot = await state();
    });
    after(async () => {
      await gw.close();
    });

    test("A's admin key on B's organization-admin routes → 404 not_found, same as a missing organization", async () => {
      const routes: [string, string, unknown][] = [
        ['POST', '/api-keys', { name: 'intruder', role: 'admin' }],
        ['GET', '/api-keys', undefined],
        ['DELETE', `/api-keys/${b.adminId}`, undefined],
        ['DELETE', `/api-keys/${b.memberId}`, undefined],
        ['PATCH', '/services/heygen', { enabled: true }],
        ['PATCH', '/services/elevenlabs', { enabled: false }],
      ];
      for (const [method, suffix, body] of routes) {
        const res = await gw.api(method, `${ADMIN}/organizations/iso-b${suffix}`, { token: a.admin, body });
        expectError(assert, res, 404, 'not_found', 'Not found.');
        const missing = await gw.api(method, `${ADMIN}/organizations/no-such-org${suffix}`, { token: a.admin, body });
        sameAs(res, missing);
      }
      // Also A's key ids through A's own path do not reach B's keys.
      expectError(assert, await gw.api('DELETE', `${ADMIN}/organizations/iso-a/api-keys/${b.adminId}`, { token: a.admin }), 404, 'not_found', 'Not found.');
      assert.deepEqual(await state(), snapshot);
    });

    test("A's admin key on B's platform-only routes → 403 permission_denied, same as on its own", async () => {
      const routes: [string, string, unknown][] = [
        ['GET', '', undefined],
        ['PATCH', '', { name: 'x' }],
        ['DELETE', '', undefined],
        ['PUT', '/services/elevenlabs/credential-policy', POLICY_TENANT_ONLY],
        ['DELETE', '/services/elevenlabs/credential-policy', undefined],
      ];
      for (const [method, suffix, body] of routes) {
        for (const org of ['iso-b', 'iso-a', 'no-such-org']) {
          expectError(assert, await gw.api(method, `${ADMIN}/organizations/${org}${suffix}`, { token: a.admin, body }), 403, 'permission_denied', DENIED);
        }
      }
      assert.deepEqual(await state(), snapshot);
    });

    test("A's admin key on B's and the platform's credentials: read, update, delete, test → 404; the list leaves them out", async () => {
      for (const cred of [bCred, platformCred]) {
        const calls: [string, string, unknown][] = [
          ['GET', '', undefined],
          ['PATCH', '', { label: 'mine now' }],
          ['PATCH', '', { status: 'disabled' }],
          ['PATCH', '', { secret: 'sk_replaced_secret_01' }],
          ['DELETE', '', undefined],
          ['POST', '/test', undefined],
        ];
        for (const [method, suffix, body] of calls) {
          const res = await gw.api(method, `${ADMIN}/credentials/${cred.id}${suffix}`, { token: a.admin, body });
          expectError(assert, res, 404, 'not_found', 'Not found.');
          sameAs(res, await gw.api(method, `${ADMIN}/credentials/01J0000000000000000000000X${suffix}`, { token: a.admin, body }));
        }
      }
      const list = await gw.api('GET', `${ADMIN}/credentials`, { token: a.admin });
      assert.equal(list.body.credentials.length, 1);
      assert.equal(list.body.credentials[0].organization, 'iso-a');
      assert.ok(!list.text.includes(bCred.id) && !list.text.includes(platformCred.id));
      // Creating one for B.
      const res = await gw.api('POST', `${ADMIN}/credentials`, {
        token: a.admin,
        body: { service: 'elevenlabs', scope: 'tenant', organization: 'iso-b', secret: 'sk_planted_secret_01' },
      });
      expectError(assert, res, 404, 'not_found', 'Not found.');
      assert.deepEqual(await state(), snapshot);
    });

    test("B's own admin still manages its things (the refusals were about A)", async () => {
      assert.equal((await gw.api('GET', `${ADMIN}/credentials/${bCred.id}`, { token: b.admin })).status, 200);
      assert.equal((await gw.api('GET', `${ADMIN}/organizations/iso-b/api-keys`, { token: b.admin })).body.api_keys.length, 2);
      assert.equal((await gw.api('GET', `${ADMIN}/credentials/${platformCred.id}`)).status, 200);
    });
  });
}
