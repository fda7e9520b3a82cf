// Credentials in the admin API (SPEC §6, §8): create (platform and tenant), list and read
// (masked only), update (re-encryption, cool-down reset), delete, test; masked values refused;
// encryption at rest bound to the row; and no secret in any response or log line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decryptPayload } from '../src/credentials/crypto.ts';
import { databases, expectError, startGateway, ADMIN_TOKEN, type ApiResponse, type TestGateway } from './helpers.ts';
import { startStub } from './fixtures.ts';
import { ADMIN, createCredential, futureIso, orgWithKeys, walk } from './admin-fixtures.ts';

const MASKED_MSG = 'Credential value is masked; send the full secret.';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Every provider secret the suite uses; none may ever appear in a response or a log line. */
const SECRETS = {
  platform: 'sk_platform_secret_value_1111',
  tenantA: 'sk_tenant_a_secret_value_2222',
  tenantA2: 'sk_tenant_a_second_value_3333',
  tenantB: 'sk_tenant_b_secret_value_4444',
  rotated: 'sk_rotated_secret_value_5555',
  sandbox: 'sandbox_good_key_value_6666',
  wrong: 'wrong_upstream_key_value_7777',
  heygen: 'hg_object_secret_value_8888',
};

for (const db of await databases()) {
  describe(`admin credentials (${db})`, () => {
    let gw: TestGateway;
    let stub: Awaited<ReturnType<typeof startStub>>;
    let a: Awaited<ReturnType<typeof orgWithKeys>>;
    let b: Awaited<ReturnType<typeof orgWithKeys>>;
    const responses: ApiResponse[] = [];

    before(async () => {
      // A fake ElevenLabs: keys starting with `sandbox_` are good, others get its 401.
      stub = await startStub((req, res) => {
        const key = String(req.headers['xi-api-key'] ?? '');
        if (req.url === '/v1/voices' && key.startsWith('sandbox_')) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ voices: [] }));
        } else {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ detail: { status: 'invalid_api_key', message: 'Invalid API key' } }));
        }
      });
      gw = await startGateway({ db, env: { PORTICO_BASE_URL_ELEVENLABS: stub.url } });
      const api = gw.api;
      gw.api = async (...args) => {
        const r = await api(...args);
        responses.push(r);
        return r;
      };
      a = await orgWithKeys(gw, 'cred-a');
      b = await orgWithKeys(gw, 'cred-b');
    });
    after(async () => {
      await gw.close();
      await stub.close();
    });

    async function rowCount(): Promise<number> {
      return (await gw.gateway.ctx.store.db.selectFrom('credentials').select('id').execute()).length;
    }

    test('platform credential: create → 201 Credential (masked), read', async () => {
      const r = await gw.api('POST', `${ADMIN}/credentials`, { body: { service: 'elevenlabs', scope: 'platform', label: 'main', secret: SECRETS.platform } });
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(Object.keys(r.body).sort(), [
        'created_at',
        'credential_name',
        'expires_at',
        'id',
        'label',
        'last_used_at',
        'masked',
        'organization',
        'scope',
        'service',
        'status',
        'updated_at',
      ]);
      assert.match(r.body.id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
      assert.equal(r.body.service, 'elevenlabs');
      assert.equal(r.body.credential_name, 'elevenlabs_api_key');
      assert.equal(r.body.scope, 'platform');
      assert.equal(r.body.organization, null);
      assert.equal(r.body.label, 'main');
      assert.equal(r.body.status, 'active');
      assert.equal(r.body.masked, 'sk_…1111');
      assert.equal(r.body.expires_at, null);
      assert.equal(r.body.last_used_at, null);
      assert.match(r.body.created_at, ISO);
      assert.equal(r.body.updated_at, r.body.created_at);
      const g = await gw.api('GET', `${ADMIN}/credentials/${r.body.id}`);
      assert.equal(g.status, 200);
      assert.deepEqual(g.body, r.body);
    });

    test('tenant credentials: the platform names the organization; an organization admin may omit it', async () => {
      const expires = futureIso(86_400_000);
      const byPlatform = await createCredential(gw, {
        service: 'heygen',
        scope: 'tenant',
        organization: 'cred-b',
        secret: { key: SECRETS.tenantB },
        expires_at: expires,
      });
      assert.equal(byPlatform.organization, 'cred-b');
      assert.equal(byPlatform.credential_name, 'heygen_api_key');
      assert.equal(byPlatform.expires_at, expires);
      const own = await createCredential(gw, { service: 'elevenlabs', scope: 'tenant', secret: SECRETS.tenantA, label: null }, a.admin);
      assert.equal(own.organization, 'cred-a');
      assert.equal(own.scope, 'tenant');
      assert.equal(own.label, null);
      const named = await createCredential(gw, { service: 'elevenlabs', scope: 'tenant', organization: 'cred-a', secret: SECRETS.tenantA2 }, a.admin);
      assert.equal(named.organization, 'cred-a');
      // The gateway's view picks them up at once (cache invalidated).
      const creds = await gw.gateway.ctx.registry.credentials('elevenlabs', 'cred-a');
      assert.deepEqual(
        creds.tenant.map((c) => c.id),
        [own.id, named.id],
      );
    });

    test('create: validation failures name the field and store nothing', async () => {
      const before = await rowCount();
      const ok = { service: 'elevenlabs', scope: 'platform', secret: 'sk_valid_but_unused_9' };
      const cases: [unknown, string][] = [
        [[], 'Request body must be a JSON object.'],
        [{ ...ok, extra: 1 }, "Unknown field 'extra'."],
        [{ scope: 'platform', secret: 'sk_valid_but_unused_9' }, "Field 'service' is required."],
        [{ ...ok, service: 'nope' }, "Field 'service' must name a service of the catalog."],
        [{ ...ok, service: 3 }, "Field 'service' must be a string."],
        [{ service: 'elevenlabs', secret: 'sk_valid_but_unused_9' }, "Field 'scope' is required."],
        [{ ...ok, scope: 'global' }, "Field 'scope' must be 'platform' or 'tenant'."],
        [{ ...ok, organization: 'cred-a' }, "Field 'organization' must be null or absent for scope 'platform'."],
        [{ ...ok, scope: 'tenant' }, "Field 'organization' is required for scope 'tenant'."],
        [{ ...ok, scope: 'tenant', organization: 5 }, "Field 'organization' must be a string."],
        [{ ...ok, label: 5 }, "Field 'label' must be a string, not a number."],
        [{ ...ok, label: 'x'.repeat(201) }, "Field 'label' must be a non-empty string of at most 200 characters."],
        [{ ...ok, expires_at: '2000-01-01T00:00:00Z' }, "Field 'expires_at' must be in the future."],
        [{ ...ok, expires_at: 'soon' }, "Field 'expires_at' must be an RFC 3339 date-time with a time zone, e.g. 2030-01-01T00:00:00Z."],
        [{ service: 'elevenlabs', scope: 'platform' }, "Field 'secret' is required."],
        [{ ...ok, secret: 12345678 }, "Field 'secret' must be an object or a string."],
        [{ ...ok, secret: ['sk_x'] }, "Field 'secret' must be an object or a string."],
        [{ ...ok, secret: null }, "Field 'secret' must be an object or a string."],
        [{ ...ok, secret: { key: 5 } }, "Invalid secret: field 'key' must be string"],
        [{ ...ok, secret: {} }, "Invalid secret: field 'key' is required"],
        [{ ...ok, secret: 'short' }, "Invalid secret: field 'key' must NOT have fewer than 8 characters"],
        [{ ...ok, secret: '' }, "Invalid secret: field 'key' must NOT have fewer than 8 characters"],
        [{ ...ok, secret: { key: 'sk_valid_but_unused_9', region: 'eu' } }, "Invalid secret: field 'region' is not allowed"],
      ];
      for (const [body, message] of cases) {
        expectError(assert, await gw.api('POST', `${ADMIN}/credentials`, { body }), 400, 'invalid_request', message);
      }
      assert.equal(await rowCount(), before);
    });

    test('masked values → 400 masked_credential_value, on create and update, and nothing is stored', async () => {
      const before = await rowCount();
      const masked = ['sk_****abcd', 'sk_•••', 'abc…wxyz', '••••••••••', 'sk_live_**'];
      for (const m of masked) {
        for (const secret of [m, { key: m }]) {
          const r = await gw.api('POST', `${ADMIN}/credentials`, { body: { service: 'elevenlabs', scope: 'platform', secret } });
          expectError(assert, r, 400, 'masked_credential_value', MASKED_MSG);
          const t = await gw.api('POST', `${ADMIN}/credentials`, { token: a.admin, body: { service: 'elevenlabs', scope: 'tenant', secret } });
          expectError(assert, t, 400, 'masked_credential_value', MASKED_MSG);
        }
      }
      // Masked is checked before the schema: even a value the schema would refuse.
      expectError(
        assert,
        await gw.api('POST', `${ADMIN}/credentials`, { body: { service: 'elevenlabs', scope: 'platform', secret: { key: 'a**', x: 1 } } }),
        400,
        'masked_credential_value',
        MASKED_MSG,
      );
      assert.equal(await rowCount(), before);
      const rows = await gw.gateway.ctx.store.db.selectFrom('credentials').select('masked').execute();
      for (const r of rows) for (const m of masked) assert.notEqual(r.masked, m);

      const cred = await createCredential(gw, { service: 'elevenlabs', scope: 'platform', secret: 'sk_unmasked_value_0000' });
      const row = await gw.gateway.ctx.store.db.selectFrom('credentials').selectAll().where('id', '=', cred.id).executeTakeFirstOrThrow();
      for (const m of masked) {
        const r = await gw.api('PATCH', `${ADMIN}/credentials/${cred.id}`, { body: { secret: m, label: 'changed' } });
        expectError(assert, r, 400, 'masked_credential_value', MASKED_MSG);
      }
      const after = await gw.gateway.ctx.store.db.selectFrom('credentials').selectAll().where('id', '=', cred.id).executeTakeFirstOrThrow();
      assert.deepEqual(after, row);
      assert.equal((await gw.api('DELETE', `${ADMIN}/credentials/${cred.id}`)).status, 204);
    });

    test('organization admins: only their own tenant credentials', async () => {
      const platform = await gw.api('POST', `${ADMIN}/credentials`, {
        token: a.admin,
        body: { service: 'elevenlabs', scope: 'platform', secret: 'sk_never_stored_00001' },
      });
      expectError(assert, platform, 403, 'permission_denied', 'You do not have permission to perform this action.');
      // Refused before the rest of the body is looked at.
      const platform2 = await gw.api('POST', `${ADMIN}/credentials`, { token: a.admin, body: { service: 'nope', scope: 'platform', secret: 'sk_****abcd' } });
      expectError(assert, platform2, 403, 'permission_denied', 'You do not have permission to perform this action.');
      for (const org of ['cred-b', 'ghost-org']) {
        const r = await gw.api('POST', `${ADMIN}/credentials`, {
          token: a.admin,
          body: { service: 'elevenlabs', scope: 'tenant', organization: org, secret: 'sk_never_stored_00002' },
        });
        expectError(assert, r, 404, 'not_found', 'Not found.');
      }
      // For the platform, an organization that does not exist is the same 404.
      const ghost = await gw.api('POST', `${ADMIN}/credentials`, {
        body: { service: 'elevenlabs', scope: 'tenant', organization: 'ghost-org', secret: 'sk_never_stored_00003' },
      });
      expectError(assert, ghost, 404, 'not_found', 'Not found.');
      const list = await gw.api('GET', `${ADMIN}/credentials?limit=200`, { token: a.admin });
      assert.equal(list.status, 200);
      assert.ok(list.body.credentials.length >= 2);
      for (const c of list.body.credentials) {
        assert.equal(c.scope, 'tenant');
        assert.equal(c.organization, 'cred-a');
      }
      for (const q of ['scope=platform', 'organization=cred-b', 'service=heygen']) {
        const r = await gw.api('GET', `${ADMIN}/credentials?${q}`, { token: a.admin });
        assert.deepEqual(r.body, { credentials: [], next_cursor: null }, q);
      }
    });

    test('list: filters, newest first, pages, query validation', async () => {
      const all = await gw.api('GET', `${ADMIN}/credentials?limit=200`);
      const ids = all.body.credentials.map((c: any) => c.id);
      assert.deepEqual(ids, [...ids].sort().reverse());
      assert.ok(ids.length >= 4);
      const paged = await walk(gw, `${ADMIN}/credentials`, 'credentials', 2);
      assert.ok(paged.pages >= 2);
      assert.deepEqual(paged.items, all.body.credentials);

      const platform = await gw.api('GET', `${ADMIN}/credentials?scope=platform`);
      assert.ok(platform.body.credentials.length >= 1);
      assert.ok(platform.body.credentials.every((c: any) => c.scope === 'platform' && c.organization === null));
      const heygen = await gw.api('GET', `${ADMIN}/credentials?service=heygen`);
      assert.ok(heygen.body.credentials.length >= 1 && heygen.body.credentials.every((c: any) => c.service === 'heygen'));
      const orgB = await gw.api('GET', `${ADMIN}/credentials?organization=cred-b&scope=tenant&service=heygen`);
      assert.equal(orgB.body.credentials.length, 1);
      assert.equal(orgB.body.credentials[0].organization, 'cred-b');
      const paged2 = await walk(gw, `${ADMIN}/credentials?organization=cred-a`, 'credentials', 1, a.admin);
      assert.equal(paged2.pages, paged2.items.length);
      assert.ok(paged2.items.length >= 2);

      expectError(
        assert,
        await gw.api('GET', `${ADMIN}/credentials?scope=all`),
        400,
        'invalid_request',
        "Query parameter 'scope' must be 'platform' or 'tenant'.",
      );
      expectError(assert, await gw.api('GET', `${ADMIN}/credentials?org=cred-a`), 400, 'invalid_request', "Unknown query parameter 'org'.");
      for (const bad of ['0', '201', 'abc']) {
        expectError(
          assert,
          await gw.api('GET', `${ADMIN}/credentials?limit=${bad}`),
          400,
          'invalid_request',
          "Query parameter 'limit' must be an integer between 1 and 200.",
        );
      }
    });

    test('read and update: 404 for unknown ids; label, status, expires_at; validation changes nothing', async () => {
      expectError(assert, await gw.api('GET', `${ADMIN}/credentials/01HZZZZZZZZZZZZZZZZZZZZZZZ`), 404, 'not_found', 'Not found.');
      expectError(assert, await gw.api('PATCH', `${ADMIN}/credentials/nope`, { body: { label: 'x' } }), 404, 'not_found', 'Not found.');
      expectError(assert, await gw.api('DELETE', `${ADMIN}/credentials/nope`), 404, 'not_found', 'Not found.');
      expectError(assert, await gw.api('POST', `${ADMIN}/credentials/nope/test`), 404, 'not_found', 'Not found.');

      const c = await createCredential(gw, { service: 'elevenlabs', scope: 'tenant', secret: 'sk_update_me_value_01' }, a.admin);
      const expires = futureIso(3_600_000);
      const r = await gw.api('PATCH', `${ADMIN}/credentials/${c.id}`, { token: a.admin, body: { label: 'renamed', status: 'disabled', expires_at: expires } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.label, 'renamed');
      assert.equal(r.body.status, 'disabled');
      assert.equal(r.body.expires_at, expires);
      assert.equal(r.body.masked, c.masked);
      assert.equal(r.body.created_at, c.created_at);
      assert.ok(r.body.updated_at >= c.updated_at);
      assert.deepEqual((await gw.api('GET', `${ADMIN}/credentials/${c.id}`, { token: a.admin })).body, r.body);
      const view = (await gw.gateway.ctx.registry.credentials('elevenlabs', 'cred-a')).tenant.find((x) => x.id === c.id);
      assert.equal(view?.status, 'disabled');
      const cleared = await gw.api('PATCH', `${ADMIN}/credentials/${c.id}`, { body: { label: null, expires_at: null, status: 'active' } });
      assert.equal(cleared.body.label, null);
      assert.equal(cleared.body.expires_at, null);
      assert.equal(cleared.body.status, 'active');

      const before = (await gw.api('GET', `${ADMIN}/credentials/${c.id}`)).body;
      const cases: [unknown, string][] = [
        [{ status: 'paused' }, "Field 'status' must be 'active' or 'disabled'."],
        [{ label: 'ok', scope: 'platform' }, "Unknown field 'scope'."],
        [{ label: 'ok', service: 'heygen' }, "Unknown field 'service'."],
        [{ label: 'ok', expires_at: '1999-01-01T00:00:00Z' }, "Field 'expires_at' must be in the future."],
        [{ label: 'ok', secret: { key: 1 } }, "Invalid secret: field 'key' must be string"],
        [{ label: 'ok', secret: 7 }, "Field 'secret' must be an object or a string."],
        [{ label: '' }, "Field 'label' must be a non-empty string of at most 200 characters."],
        ['"x"', 'Request body must be a JSON object.'],
      ];
      for (const [body, message] of cases) {
        expectError(assert, await gw.api('PATCH', `${ADMIN}/credentials/${c.id}`, { body }), 400, 'invalid_request', message);
      }
      assert.deepEqual((await gw.api('GET', `${ADMIN}/credentials/${c.id}`)).body, before);
    });

    test('a new secret is re-encrypted with a fresh nonce; status active or a new secret ends a cool-down', async () => {
      const { db: dbh } = gw.gateway.ctx.store;
      const { cooldowns } = gw.gateway.ctx.state;
      const { masterKey } = gw.gateway.ctx.config;
      const c = await createCredential(gw, { service: 'elevenlabs', scope: 'platform', secret: 'sk_before_rotation_01' });
      const row0 = await dbh.selectFrom('credentials').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow();

      cooldowns.coolDown(c.id, 600_000);
      await gw.api('PATCH', `${ADMIN}/credentials/${c.id}`, { body: { label: 'only a label' } });
      assert.equal(cooldowns.isCoolingDown(c.id), true, 'a label change keeps the cool-down');
      const rot = await gw.api('PATCH', `${ADMIN}/credentials/${c.id}`, { body: { secret: SECRETS.rotated } });
      assert.equal(rot.status, 200, rot.text);
      assert.equal(rot.body.masked, 'sk_…5555');
      assert.equal(cooldowns.isCoolingDown(c.id), false, 'a new secret ends the cool-down');
      const row1 = await dbh.selectFrom('credentials').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow();
      assert.notEqual(row1.ciphertext, row0.ciphertext);
      assert.deepEqual(decryptPayload(masterKey, row1, row1.ciphertext), { key: SECRETS.rotated });
      // The same secret again: another nonce, another ciphertext.
      await gw.api('PATCH', `${ADMIN}/credentials/${c.id}`, { body: { secret: { key: SECRETS.rotated } } });
      const row2 = await dbh.selectFrom('credentials').selectAll().where('id', '=', c.id).executeTakeFirstOrThrow();
      assert.notEqual(row2.ciphertext, row1.ciphertext);
      assert.notEqual(
        Buffer.from(row2.ciphertext, 'base64').subarray(0, 12).toString('hex'),
        Buffer.from(row1.ciphertext, 'base64').subarray(0, 12).toString('hex'),
      );
      assert.deepEqual(decryptPayload(masterKey, row2, row2.ciphertext), { key: SECRETS.rotated });
      // The gateway's cached view uses the new secret.
      const svc = (await gw.gateway.ctx.registry.service('elevenlabs'))!;
      const view = (await gw.gateway.ctx.registry.credentials('elevenlabs', 'cred-a')).platform.find((x) => x.id === c.id)!;
      assert.equal(gw.gateway.ctx.registry.checkCredential(view, svc), 'ok');
      assert.deepEqual(view.payload, { key: SECRETS.rotated });

      cooldowns.coolDown(c.id, 600_000);
      await gw.api('PATCH', `${ADMIN}/credentials/${c.id}`, { body: { status: 'disabled' } });
      assert.equal(cooldowns.isCoolingDown(c.id), true);
      await gw.api('PATCH', `${ADMIN}/credentials/${c.id}`, { body: { status: 'active' } });
      assert.equal(cooldowns.isCoolingDown(c.id), false, 'status active ends the cool-down');
      assert.equal((await gw.api('DELETE', `${ADMIN}/credentials/${c.id}`)).status, 204);
    });

    test('encryption at rest: the ciphertext never holds the secret and is bound to its row', async () => {
      const { db: dbh } = gw.gateway.ctx.store;
      const { masterKey } = gw.gateway.ctx.config;
      const one = await createCredential(gw, { service: 'heygen', scope: 'platform', secret: { key: SECRETS.heygen } });
      const two = await createCredential(gw, { service: 'heygen', scope: 'platform', secret: 'hg_second_value_0009' });
      const rows = await dbh.selectFrom('credentials').selectAll().execute();
      for (const r of rows) {
        const raw = JSON.stringify(r);
        const decoded = Buffer.from(r.ciphertext, 'base64').toString('latin1');
        for (const s of Object.values(SECRETS)) {
          assert.ok(!raw.includes(s), 'secret in a stored row');
          assert.ok(!decoded.includes(s), 'secret in the decoded ciphertext');
          assert.ok(!raw.includes(Buffer.from(s).toString('base64')), 'base64 secret in a stored row');
        }
        assert.equal(r.key_id.length, 16);
      }
      const r1 = rows.find((r) => r.id === one.id)!;
      const r2 = rows.find((r) => r.id === two.id)!;
      assert.deepEqual(decryptPayload(masterKey, r1, r1.ciphertext), { key: SECRETS.heygen });
      assert.deepEqual(decryptPayload(masterKey, r2, r2.ciphertext), { key: 'hg_second_value_0009' });
      // Row one's ciphertext copied into row two does not decrypt there.
      await dbh.updateTable('credentials').set({ ciphertext: r1.ciphertext }).where('id', '=', two.id).execute();
      const moved = await dbh.selectFrom('credentials').selectAll().where('id', '=', two.id).executeTakeFirstOrThrow();
      assert.throws(() => decryptPayload(masterKey, moved, moved.ciphertext));
      // Nor in a tenant row of another organization, nor with another key.
      assert.throws(() => decryptPayload(masterKey, { ...r1, scope: 'tenant', organization: 'cred-b' }, r1.ciphertext));
      assert.throws(() => decryptPayload(Buffer.alloc(32, 9), r1, r1.ciphertext));
      // The gateway cannot use the moved ciphertext either.
      gw.gateway.ctx.registry.changed();
      const svc = (await gw.gateway.ctx.registry.service('heygen'))!;
      const view = (await gw.gateway.ctx.registry.credentials('heygen', 'cred-a')).platform.find((x) => x.id === two.id)!;
      assert.equal(gw.gateway.ctx.registry.checkCredential(view, svc), 'invalid');
      expectError(assert, await gw.api('POST', `${ADMIN}/credentials/${two.id}/test`), 502, 'invalid_upstream_key_info', 'invalid key info response');
      for (const id of [one.id, two.id]) assert.equal((await gw.api('DELETE', `${ADMIN}/credentials/${id}`)).status, 204);
    });

    test('delete → 204, then 404; the gateway forgets it at once', async () => {
      const c = await createCredential(gw, { service: 'elevenlabs', scope: 'tenant', secret: 'sk_to_be_deleted_0001' }, a.admin);
      assert.ok((await gw.gateway.ctx.registry.credentials('elevenlabs', 'cred-a')).tenant.some((x) => x.id === c.id));
      const del = await gw.api('DELETE', `${ADMIN}/credentials/${c.id}`, { token: a.admin });
      assert.equal(del.status, 204);
      assert.equal(del.text, '');
      expectError(assert, await gw.api('GET', `${ADMIN}/credentials/${c.id}`, { token: a.admin }), 404, 'not_found', 'Not found.');
      expectError(assert, await gw.api('DELETE', `${ADMIN}/credentials/${c.id}`, { token: a.admin }), 404, 'not_found', 'Not found.');
      assert.ok(!(await gw.gateway.ctx.registry.credentials('elevenlabs', 'cred-a')).tenant.some((x) => x.id === c.id));
    });

    test('test: calls the service test endpoint with that credential → {ok, status, latency_ms}', async () => {
      const good = await createCredential(gw, { service: 'elevenlabs', scope: 'tenant', secret: SECRETS.sandbox }, a.admin);
      const bad = await createCredential(gw, { service: 'elevenlabs', scope: 'platform', secret: SECRETS.wrong });
      const before = stub.requests.length;
      const ok = await gw.api('POST', `${ADMIN}/credentials/${good.id}/test`, { token: a.admin, headers: { 'x-request-id': 'cred-test-rid-1' } });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(Object.keys(ok.body).sort(), ['latency_ms', 'ok', 'status']);
      assert.equal(ok.body.ok, true);
      assert.equal(ok.body.status, 200);
      assert.ok(Number.isInteger(ok.body.latency_ms) && ok.body.latency_ms >= 0);
      const seen = stub.requests[before]!;
      assert.equal(seen.url, '/v1/voices');
      assert.equal(seen.headers['xi-api-key'], SECRETS.sandbox);
      assert.equal(seen.headers['x-request-id'], 'cred-test-rid-1');
      assert.equal(seen.headers.authorization, undefined);

      const no = await gw.api('POST', `${ADMIN}/credentials/${bad.id}/test`);
      assert.equal(no.status, 200, no.text);
      assert.equal(no.body.ok, false);
      assert.equal(no.body.status, 401);
      // A platform credential is not the organization admin's to test.
      expectError(assert, await gw.api('POST', `${ADMIN}/credentials/${bad.id}/test`, { token: a.admin }), 404, 'not_found', 'Not found.');
      expectError(assert, await gw.api('POST', `${ADMIN}/credentials/${good.id}/test`, { token: b.admin }), 404, 'not_found', 'Not found.');
      assert.equal(stub.requests.length, before + 2);
    });

    test('no secret in any response body or header, nor in any log line', async () => {
      await gw.gateway.ctx.registry.flushTouches();
      assert.ok(responses.length > 100, `responses recorded: ${responses.length}`);
      assert.ok(gw.logs.length > 100, `log lines: ${gw.logs.length}`);
      const secrets = [
        ...Object.values(SECRETS),
        ADMIN_TOKEN,
        'sk_valid_but_unused_9',
        'sk_unmasked_value_0000',
        'sk_before_rotation_01',
        'sk_update_me_value_01',
      ];
      for (const r of responses) {
        const headers = JSON.stringify([...r.headers]);
        for (const s of secrets) {
          assert.ok(!r.text.includes(s), `a response body holds a secret: ${r.text.slice(0, 200)}`);
          assert.ok(!headers.includes(s), 'a response header holds a secret');
        }
        // Never the ciphertext either.
        assert.ok(!/"ciphertext"|"key_id"/.test(r.text));
      }
      for (const line of gw.logs) {
        for (const s of secrets) assert.ok(!line.includes(s), `a log line holds a secret: ${line.slice(0, 200)}`);
      }
      // The audit log has entries for the changes and no secret either.
      const audit = await gw.api('GET', `${ADMIN}/audit-log?limit=200`);
      assert.ok(audit.body.entries.some((e: any) => e.action === 'credential.create'));
      for (const s of secrets) assert.ok(!audit.text.includes(s));
    });
  });
}
