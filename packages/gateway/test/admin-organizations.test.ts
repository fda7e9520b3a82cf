// Organizations and plans (SPEC §8, §13 limits): create, read, list with pagination, update,
// delete with cascade, validation messages that name the field, duplicate slugs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { databases, expectError, startGateway, type TestGateway } from './helpers.ts';
import { ADMIN, createCredential, createOrg, orgWithKeys, walk } from './admin-fixtures.ts';

const NULL_LIMITS = { requests_per_minute: null, concurrent_requests: null, monthly_requests: null, monthly_units: null };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

for (const db of await databases()) {
  describe(`admin organizations and plans (${db})`, () => {
    let gw: TestGateway;

    before(async () => {
      gw = await startGateway({ db });
    });
    after(async () => {
      await gw.close();
    });

    test('create → 201 Organization; read; defaults', async () => {
      const r = await gw.api('POST', `${ADMIN}/organizations`, { body: { slug: 'acme', name: 'Acme Inc.' } });
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(Object.keys(r.body).sort(), ['cors_origins', 'created_at', 'disabled', 'limits', 'name', 'plan', 'slug', 'updated_at']);
      assert.equal(r.body.slug, 'acme');
      assert.equal(r.body.name, 'Acme Inc.');
      assert.equal(r.body.plan, null);
      assert.equal(r.body.disabled, false);
      assert.deepEqual(r.body.limits, NULL_LIMITS);
      assert.deepEqual(r.body.cors_origins, []);
      assert.match(r.body.created_at, ISO);
      assert.equal(r.body.updated_at, r.body.created_at);
      const g = await gw.api('GET', `${ADMIN}/organizations/acme`);
      assert.equal(g.status, 200);
      assert.deepEqual(g.body, r.body);
    });

    test('create with plan, limits and cors_origins', async () => {
      const plan = await gw.api('PUT', `${ADMIN}/plans/starter`, { body: { services: ['elevenlabs'], limits: { requests_per_minute: 60 } } });
      assert.equal(plan.status, 201, plan.text);
      const r = await gw.api('POST', `${ADMIN}/organizations`, {
        body: {
          slug: 'full-1',
          name: 'Full',
          plan: 'starter',
          limits: { monthly_units: 1000 },
          cors_origins: ['https://app.example.com', 'http://localhost:3000', 'HTTPS://App.Example.com'],
        },
      });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.plan, 'starter');
      assert.deepEqual(r.body.limits, { ...NULL_LIMITS, monthly_units: 1000 });
      // Normalised origins, duplicates dropped.
      assert.deepEqual(r.body.cors_origins, ['https://app.example.com', 'http://localhost:3000']);
      // The gateway's view merges the plan's limits with the organization's own.
      const view = await gw.gateway.ctx.registry.org('full-1');
      assert.deepEqual(view?.limits, { ...NULL_LIMITS, requests_per_minute: 60, monthly_units: 1000 });
      assert.deepEqual(view?.corsOrigins, ['https://app.example.com', 'http://localhost:3000']);
    });

    test('create: validation failures name the field and create nothing', async () => {
      const cases: [unknown, string][] = [
        [undefined, 'Request body must be a JSON object.'],
        [[], 'Request body must be a JSON object.'],
        ['"x"', 'Request body must be a JSON object.'],
        ['null', 'Request body must be a JSON object.'],
        [{ name: 'x' }, "Field 'slug' is required."],
        [{ slug: 'Bad_Slug', name: 'x' }, "Field 'slug' must be a slug matching [a-z0-9][a-z0-9-]{0,62}."],
        [{ slug: '-lead', name: 'x' }, "Field 'slug' must be a slug matching [a-z0-9][a-z0-9-]{0,62}."],
        [{ slug: 'a'.repeat(64), name: 'x' }, "Field 'slug' must be a slug matching [a-z0-9][a-z0-9-]{0,62}."],
        [{ slug: 5, name: 'x' }, "Field 'slug' must be a string, not a number."],
        [{ slug: 'v-1' }, "Field 'name' is required."],
        [{ slug: 'v-1', name: '' }, "Field 'name' must be a non-empty string of at most 200 characters."],
        [{ slug: 'v-1', name: '   ' }, "Field 'name' must be a non-empty string of at most 200 characters."],
        [{ slug: 'v-1', name: 'x'.repeat(201) }, "Field 'name' must be a non-empty string of at most 200 characters."],
        [{ slug: 'v-1', name: null }, "Field 'name' must be a string, not null."],
        [{ slug: 'v-1', name: 'x', plan: 'missing' }, "Field 'plan' must be null or the name of an existing plan."],
        [{ slug: 'v-1', name: 'x', plan: 7 }, "Field 'plan' must be null or the name of an existing plan."],
        [{ slug: 'v-1', name: 'x', extra: 1 }, "Unknown field 'extra'."],
        [{ slug: 'v-1', name: 'x', disabled: true }, "Unknown field 'disabled'."],
        [{ slug: 'v-1', name: 'x', limits: 5 }, "Field 'limits' must be an object or null, not a number."],
        [{ slug: 'v-1', name: 'x', limits: { requests_per_minute: -1 } }, "Field 'limits.requests_per_minute' must be null or a non-negative integer."],
        [{ slug: 'v-1', name: 'x', limits: { monthly_units: 1.5 } }, "Field 'limits.monthly_units' must be null or a non-negative integer."],
        [{ slug: 'v-1', name: 'x', limits: { concurrent_requests: '3' } }, "Field 'limits.concurrent_requests' must be null or a non-negative integer."],
        [{ slug: 'v-1', name: 'x', limits: { per_hour: 3 } }, "Unknown field 'limits.per_hour'."],
        [{ slug: 'v-1', name: 'x', cors_origins: 'https://a.example' }, "Field 'cors_origins' must be an array of origins, not a string."],
        [
          { slug: 'v-1', name: 'x', cors_origins: ['ftp://a.example'] },
          "Field 'cors_origins[0]' must be an origin like https://app.example.com or http://localhost:3000.",
        ],
        [
          { slug: 'v-1', name: 'x', cors_origins: ['https://ok.example', 'https://a.example/path'] },
          "Field 'cors_origins[1]' must be an origin like https://app.example.com or http://localhost:3000.",
        ],
        [{ slug: 'v-1', name: 'x', cors_origins: [42] }, "Field 'cors_origins[0]' must be an origin like https://app.example.com or http://localhost:3000."],
        [{ slug: 'v-1', name: 'x', cors_origins: ['*'] }, "Field 'cors_origins[0]' must be an origin like https://app.example.com or http://localhost:3000."],
      ];
      for (const [body, message] of cases) {
        const r = await gw.api('POST', `${ADMIN}/organizations`, { body });
        expectError(assert, r, 400, 'invalid_request', message);
      }
      const bad = await gw.api('POST', `${ADMIN}/organizations`, { body: '{"slug": "v-1",' });
      expectError(assert, bad, 400, 'invalid_request', 'Request body is not valid JSON.');
      expectError(assert, await gw.api('GET', `${ADMIN}/organizations/v-1`), 404, 'not_found', 'Not found.');
    });

    test('duplicate slug → 409 conflict, the first one unchanged', async () => {
      await createOrg(gw, 'dup');
      const r = await gw.api('POST', `${ADMIN}/organizations`, { body: { slug: 'dup', name: 'Other name' } });
      expectError(assert, r, 409, 'conflict', 'Resource already exists.');
      assert.equal((await gw.api('GET', `${ADMIN}/organizations/dup`)).body.name, 'Org dup');
    });

    test('unknown organization → 404 not_found on read, update and delete', async () => {
      for (const slug of ['nobody', 'NOT_A_SLUG', '%E2%9C%93']) {
        expectError(assert, await gw.api('GET', `${ADMIN}/organizations/${slug}`), 404, 'not_found', 'Not found.');
        expectError(assert, await gw.api('PATCH', `${ADMIN}/organizations/${slug}`, { body: { name: 'x' } }), 404, 'not_found', 'Not found.');
        expectError(assert, await gw.api('DELETE', `${ADMIN}/organizations/${slug}`), 404, 'not_found', 'Not found.');
      }
    });

    test('PATCH name, plan, disabled, limits (merged), cors_origins', async () => {
      const created = (await createOrg(gw, 'patchy')).body;
      await gw.api('PUT', `${ADMIN}/plans/pro`, { body: { services: null } });
      const a = await gw.api('PATCH', `${ADMIN}/organizations/patchy`, {
        body: { name: 'Patchy Ltd', plan: 'pro', limits: { requests_per_minute: 10, monthly_requests: 500 } },
      });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.body.name, 'Patchy Ltd');
      assert.equal(a.body.plan, 'pro');
      assert.deepEqual(a.body.limits, { ...NULL_LIMITS, requests_per_minute: 10, monthly_requests: 500 });
      assert.equal(a.body.created_at, created.created_at);
      assert.ok(a.body.updated_at >= created.updated_at);
      // Partial limits merge; null resets one field to "inherit".
      const b = await gw.api('PATCH', `${ADMIN}/organizations/patchy`, { body: { limits: { requests_per_minute: null, concurrent_requests: 2 } } });
      assert.deepEqual(b.body.limits, { ...NULL_LIMITS, concurrent_requests: 2, monthly_requests: 500 });
      const c = await gw.api('PATCH', `${ADMIN}/organizations/patchy`, { body: { cors_origins: ['https://x.example:8443'], disabled: true, plan: null } });
      assert.deepEqual(c.body.cors_origins, ['https://x.example:8443']);
      assert.equal(c.body.disabled, true);
      assert.equal(c.body.plan, null);
      const d = await gw.api('PATCH', `${ADMIN}/organizations/patchy`, { body: { limits: null, cors_origins: null } });
      assert.deepEqual(d.body.limits, NULL_LIMITS);
      assert.deepEqual(d.body.cors_origins, []);
      assert.deepEqual((await gw.api('GET', `${ADMIN}/organizations/patchy`)).body, d.body);
      // An empty PATCH changes nothing.
      const e = await gw.api('PATCH', `${ADMIN}/organizations/patchy`, { body: {} });
      assert.deepEqual(e.body, d.body);
    });

    test('PATCH: validation failures name the field and change nothing', async () => {
      const before = (await createOrg(gw, 'strict', { limits: { monthly_units: 5 } })).body;
      const cases: [unknown, string][] = [
        [{ slug: 'renamed' }, "Unknown field 'slug'."],
        [{ name: '' }, "Field 'name' must be a non-empty string of at most 200 characters."],
        [{ name: 5 }, "Field 'name' must be a string, not a number."],
        [{ disabled: 'yes' }, "Field 'disabled' must be a boolean, not a string."],
        [{ plan: 'missing-plan' }, "Field 'plan' must be null or the name of an existing plan."],
        [{ limits: [] }, "Field 'limits' must be an object or null, not an array."],
        [{ name: 'valid', limits: { monthly_units: -5 } }, "Field 'limits.monthly_units' must be null or a non-negative integer."],
        [
          { name: 'valid', cors_origins: ['https://user:pw@x.example'] },
          "Field 'cors_origins[0]' must be an origin like https://app.example.com or http://localhost:3000.",
        ],
        [[], 'Request body must be a JSON object.'],
      ];
      for (const [body, message] of cases) {
        expectError(assert, await gw.api('PATCH', `${ADMIN}/organizations/strict`, { body }), 400, 'invalid_request', message);
      }
      assert.deepEqual((await gw.api('GET', `${ADMIN}/organizations/strict`)).body, before);
    });

    test('DELETE → 204 and cascades to API keys, tenant credentials and overrides', async () => {
      const o = await orgWithKeys(gw, 'doomed');
      const cred = await createCredential(gw, { service: 'elevenlabs', scope: 'tenant', organization: 'doomed', secret: 'sk_doomed_secret_01' });
      const platformCred = await createCredential(gw, { service: 'elevenlabs', scope: 'platform', secret: 'sk_platform_kept_01' });
      const pol = await gw.api('PUT', `${ADMIN}/organizations/doomed/services/heygen/credential-policy`, {
        body: { allow_tenant_key: true, allow_platform_key: false, default_source: 'tenant', fallback_to_platform_key: false },
      });
      assert.equal(pol.status, 200, pol.text);
      assert.equal((await gw.api('GET', `${ADMIN}/organizations/doomed/api-keys`, { token: o.admin })).status, 200);

      const del = await gw.api('DELETE', `${ADMIN}/organizations/doomed`);
      assert.equal(del.status, 204);
      assert.equal(del.text, '');
      expectError(assert, await gw.api('GET', `${ADMIN}/organizations/doomed`), 404, 'not_found', 'Not found.');
      expectError(assert, await gw.api('GET', `${ADMIN}/credentials/${cred.id}`), 404, 'not_found', 'Not found.');
      assert.equal((await gw.api('GET', `${ADMIN}/credentials/${platformCred.id}`)).status, 200);
      // Its keys stop working at once.
      expectError(assert, await gw.api('GET', `${ADMIN}/credentials`, { token: o.admin }), 401, 'invalid_token', 'Invalid token.');
      const dbh = gw.gateway.ctx.store.db;
      assert.equal((await dbh.selectFrom('api_keys').select('id').where('organization', '=', 'doomed').execute()).length, 0);
      assert.equal((await dbh.selectFrom('credentials').select('id').where('organization', '=', 'doomed').execute()).length, 0);
      assert.equal((await dbh.selectFrom('organization_services').select('service').where('organization', '=', 'doomed').execute()).length, 0);
      // The slug can be used again.
      await createOrg(gw, 'doomed');
      assert.deepEqual((await gw.api('GET', `${ADMIN}/organizations/doomed/api-keys`)).body.api_keys, []);
    });

    test('list: newest first, limit and cursor over several pages, limit validation', async () => {
      const slugs = ['page-e', 'page-d', 'page-c', 'page-b', 'page-a'];
      for (const s of slugs) await createOrg(gw, s);
      const all = await gw.api('GET', `${ADMIN}/organizations?limit=200`);
      assert.equal(all.status, 200);
      assert.equal(all.body.next_cursor, null);
      const listed = all.body.organizations.map((o: any) => o.slug);
      // Newest first: the last created comes first.
      const mine = listed.filter((s: string) => s.startsWith('page-'));
      assert.deepEqual(mine, [...slugs].reverse());
      for (let i = 1; i < all.body.organizations.length; i++) {
        assert.ok(all.body.organizations[i - 1].created_at >= all.body.organizations[i].created_at);
      }
      const paged = await walk(gw, `${ADMIN}/organizations`, 'organizations', 2);
      assert.ok(paged.pages >= 3);
      assert.deepEqual(paged.items, all.body.organizations);
      const def = await gw.api('GET', `${ADMIN}/organizations`);
      assert.deepEqual(def.body.organizations, all.body.organizations.slice(0, 50));

      for (const bad of ['0', '201', 'abc', '-1', '1.5', '', '10e1']) {
        expectError(
          assert,
          await gw.api('GET', `${ADMIN}/organizations?limit=${bad}`),
          400,
          'invalid_request',
          "Query parameter 'limit' must be an integer between 1 and 200.",
        );
      }
      expectError(assert, await gw.api('GET', `${ADMIN}/organizations?limit=1&limit=2`), 400, 'invalid_request', "Query parameter 'limit' must be given once.");
      for (const bad of ['garbage!', 'eyJ4IjoxfQ', Buffer.from(JSON.stringify(['key', 'x'])).toString('base64url')]) {
        expectError(assert, await gw.api('GET', `${ADMIN}/organizations?cursor=${bad}`), 400, 'invalid_request', "Query parameter 'cursor' is invalid.");
      }
      expectError(assert, await gw.api('GET', `${ADMIN}/organizations?sort=asc`), 400, 'invalid_request', "Unknown query parameter 'sort'.");
    });

    test('plans: upsert (201 then 200), read, list, validation', async () => {
      const created = await gw.api('PUT', `${ADMIN}/plans/basic`, { body: { services: ['heygen', 'elevenlabs', 'heygen'] } });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body, { name: 'basic', services: ['heygen', 'elevenlabs'], limits: NULL_LIMITS });
      const updated = await gw.api('PUT', `${ADMIN}/plans/basic`, { body: { services: null, limits: { monthly_requests: 100, concurrent_requests: 3 } } });
      assert.equal(updated.status, 200, updated.text);
      assert.deepEqual(updated.body, { name: 'basic', services: null, limits: { ...NULL_LIMITS, monthly_requests: 100, concurrent_requests: 3 } });
      assert.deepEqual((await gw.api('GET', `${ADMIN}/plans/basic`)).body, updated.body);
      expectError(assert, await gw.api('GET', `${ADMIN}/plans/nope`), 404, 'not_found', 'Not found.');

      // The organizations on the plan see the change.
      await createOrg(gw, 'on-basic', { plan: 'basic' });
      assert.deepEqual((await gw.gateway.ctx.registry.org('on-basic'))?.limits, { ...NULL_LIMITS, monthly_requests: 100, concurrent_requests: 3 });
      await gw.api('PUT', `${ADMIN}/plans/basic`, { body: { services: ['elevenlabs'], limits: { monthly_requests: 7 } } });
      const view = await gw.gateway.ctx.registry.org('on-basic');
      assert.deepEqual(view?.limits, { ...NULL_LIMITS, monthly_requests: 7 });
      assert.deepEqual([...(view?.planServices ?? [])], ['elevenlabs']);

      const cases: [string, unknown, string][] = [
        ['basic', {}, "Field 'services' is required (an array of service slugs, or null for every service)."],
        ['basic', { services: 'elevenlabs' }, "Field 'services' must be an array of service slugs or null."],
        ['basic', { services: ['elevenlabs', 'nope'] }, "Field 'services[1]' names an unknown service 'nope'."],
        ['basic', { services: [3] }, "Field 'services[0]' must be a string."],
        ['basic', { services: null, limits: { requests_per_minute: -2 } }, "Field 'limits.requests_per_minute' must be null or a non-negative integer."],
        ['basic', { services: null, name: 'x' }, "Unknown field 'name'."],
        ['Bad_Name', { services: null }, 'Plan name must be a slug matching [a-z0-9][a-z0-9-]{0,62}.'],
      ];
      for (const [name, body, message] of cases) {
        expectError(assert, await gw.api('PUT', `${ADMIN}/plans/${name}`, { body }), 400, 'invalid_request', message);
      }
      assert.deepEqual((await gw.api('GET', `${ADMIN}/plans/basic`)).body, {
        name: 'basic',
        services: ['elevenlabs'],
        limits: { ...NULL_LIMITS, monthly_requests: 7 },
      });

      for (const n of ['p-1', 'p-2', 'p-3']) await gw.api('PUT', `${ADMIN}/plans/${n}`, { body: { services: null } });
      const all = await gw.api('GET', `${ADMIN}/plans?limit=200`);
      assert.equal(all.status, 200);
      const names = all.body.plans.map((p: any) => p.name);
      assert.deepEqual(names.slice(0, 3), ['p-3', 'p-2', 'p-1']);
      const paged = await walk(gw, `${ADMIN}/plans`, 'plans', 2);
      assert.ok(paged.pages >= 3);
      assert.deepEqual(paged.items, all.body.plans);
      expectError(
        assert,
        await gw.api('GET', `${ADMIN}/plans?limit=0`),
        400,
        'invalid_request',
        "Query parameter 'limit' must be an integer between 1 and 200.",
      );
    });
  });
}
