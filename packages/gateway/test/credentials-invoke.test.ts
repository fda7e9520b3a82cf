// Credential resolution through the gateway (SPEC §5, §6, §7) on every database: policies
// (service-wide and per organization), explicit credential_source, key pools with
// round-robin, cool-downs and the one retry, and how upstream failures are answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { CredentialPolicy } from '../src/credentials/policy.ts';
import { databases, expectError, startGateway, type ApiResponse, type TestGateway } from './helpers.ts';
import { seedCredential, seedKey, seedOrg, startStub, type SeedCredential } from './fixtures.ts';

const SVC = 'elevenlabs';
const NOT_FOUND_MSG = `No allowed credentials found for external proxy service '${SVC}'.`;
const ELEVEN_401 = { detail: { status: 'invalid_api_key', message: 'Invalid API key: upstream says no (stub-401-text)' } };

const SECRETS: string[] = [];
const BODIES: string[] = [];
const GATEWAYS: TestGateway[] = [];

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface World {
  gw: TestGateway;
  stub: Awaited<ReturnType<typeof startStub>>;
  /** Key names in the order the upstream saw them. */
  seen: string[];
  /** One-shot replies per key name, used before `always`. */
  once: Map<string, Reply[]>;
  /** Standing reply per key name; default 200 {"voices":[],"key":NAME}. */
  always: Map<string, Reply>;
  names: Map<string, string>;
  addKey(name: string, scope: 'platform' | 'tenant', extra?: Partial<SeedCredential>): Promise<string>;
  invoke(token: string, body?: Record<string, unknown>, action?: string): Promise<ApiResponse>;
  close(): Promise<void>;
}

async function world(db: 'sqlite' | 'postgres', opts: { env?: Record<string, string>; baseUrl?: string } = {}): Promise<World> {
  const seen: string[] = [];
  const once = new Map<string, Reply[]>();
  const always = new Map<string, Reply>();
  const names = new Map<string, string>();
  const stub = await startStub((req, res) => {
    const name = names.get(String(req.headers['xi-api-key'])) ?? `unknown:${String(req.headers['xi-api-key']).length}`;
    seen.push(name);
    const reply = once.get(name)?.shift() ?? always.get(name) ?? { status: 200, body: { voices: [], key: name } };
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify(reply.body ?? {}));
  });
  const gw = await startGateway({ db, env: { PORTICO_BASE_URL_ELEVENLABS: opts.baseUrl ?? stub.url, ...opts.env } });
  GATEWAYS.push(gw);
  return {
    gw,
    stub,
    seen,
    once,
    always,
    names,
    async addKey(name, scope, extra = {}) {
      const key = `sk_${name.toLowerCase()}_${randomBytes(10).toString('hex')}`;
      SECRETS.push(key);
      names.set(key, name);
      return seedCredential(gw, { service: SVC, scope, key, ...(scope === 'tenant' ? { organization: 'acme' } : {}), ...extra });
    },
    async invoke(token, body = {}, action = 'list-voices') {
      const r = await gw.api('POST', `/api/v1/external-proxy/${SVC}/${action}`, { token, body });
      BODIES.push(r.text);
      return r;
    },
    async close() {
      await gw.close();
      await stub.close();
    },
  };
}

function policy(allowTenant: boolean, allowPlatform: boolean, defaultSource: 'tenant' | 'platform', fallback: boolean): CredentialPolicy {
  return { allow_tenant_key: allowTenant, allow_platform_key: allowPlatform, default_source: defaultSource, fallback_to_platform_key: fallback };
}

async function setServicePolicy(gw: TestGateway, p: CredentialPolicy | null): Promise<void> {
  await gw.gateway.ctx.store.db
    .updateTable('services')
    .set({ credential_policy: p ? JSON.stringify(p) : null })
    .where('slug', '=', SVC)
    .execute();
  gw.gateway.ctx.registry.changed();
}

async function setOrgPolicy(gw: TestGateway, org: string, p: CredentialPolicy | null): Promise<void> {
  const credential_policy = p ? JSON.stringify(p) : null;
  await gw.gateway.ctx.store.db
    .insertInto('organization_services')
    .values({ organization: org, service: SVC, enabled: 1, credential_policy, updated_at: new Date().toISOString() })
    .onConflict((oc) => oc.columns(['organization', 'service']).doUpdateSet({ credential_policy }))
    .execute();
  gw.gateway.ctx.registry.changed();
}

function assertOk(r: ApiResponse, key: string, source: 'tenant' | 'platform'): void {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body?.key, key, r.text);
  assert.equal(r.headers.get('x-credential-source'), source);
  assert.ok(r.headers.get('x-request-id'));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Sends a few requests inside a cool-down window that surely lasts until `until` (epoch ms):
 * every one answered before then must have used `key`. Timing-tolerant on a loaded machine.
 */
async function expectAvoided(w: World, token: string, key: string, until: number): Promise<void> {
  let checked = 0;
  for (let i = 0; i < 4 && Date.now() < until - 200; i++) {
    const r = await w.invoke(token);
    if (Date.now() >= until) break;
    assertOk(r, key, 'platform');
    checked++;
  }
  assert.ok(checked >= 1, 'at least one request ran inside the cool-down window');
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

for (const db of await databases()) {
  test(`[${db}] policies: tenant-then-platform, explicit source, service and organization overrides`, async () => {
    const w = await world(db);
    try {
      const { gw } = w;
      await seedOrg(gw, 'acme');
      await seedOrg(gw, 'beta');
      const acme = await seedKey(gw, 'acme', 'member');
      const beta = await seedKey(gw, 'beta', 'member');
      await w.addKey('T', 'tenant');
      await w.addKey('P', 'platform');

      // Catalog policy: tenant first, fallback to platform.
      assertOk(await w.invoke(acme), 'T', 'tenant');
      assertOk(await w.invoke(beta), 'P', 'platform');
      assertOk(await w.invoke(acme, { credential_source: 'platform' }), 'P', 'platform');
      assertOk(await w.invoke(acme, { credential_source: 'tenant' }), 'T', 'tenant');
      expectError(assert, await w.invoke(beta, { credential_source: 'tenant' }), 404, 'credentials_not_found', NOT_FOUND_MSG);
      expectError(
        assert,
        await w.invoke(acme, { credential_source: 'both' }),
        400,
        'invalid_request',
        "Field 'credential_source' must be 'tenant' or 'platform'.",
      );
      assertOk(await w.invoke(acme, { credential_source: null }), 'T', 'tenant');

      // Service-wide policy in the DB: platform only.
      await setServicePolicy(gw, policy(false, true, 'platform', false));
      assertOk(await w.invoke(acme), 'P', 'platform');
      expectError(
        assert,
        await w.invoke(acme, { credential_source: 'tenant' }),
        400,
        'credential_source_not_allowed',
        `Credential source 'tenant' is not allowed for external proxy service '${SVC}'.`,
      );

      // Organization override wins over the service policy: acme tenant only.
      await setOrgPolicy(gw, 'acme', policy(true, false, 'tenant', true));
      assertOk(await w.invoke(acme), 'T', 'tenant');
      assertOk(await w.invoke(beta), 'P', 'platform');
      const notAllowed = await w.invoke(acme, { credential_source: 'platform' });
      expectError(assert, notAllowed, 400, 'credential_source_not_allowed', `Credential source 'platform' is not allowed for external proxy service '${SVC}'.`);
      assert.equal(notAllowed.body.error.type, 'invalid_request_error');

      // beta tenant only without any tenant key → not found (the platform key is not allowed).
      await setOrgPolicy(gw, 'beta', policy(true, false, 'tenant', true));
      expectError(assert, await w.invoke(beta), 404, 'credentials_not_found', NOT_FOUND_MSG);
      // beta tenant first, no fallback → not found; with fallback → platform.
      await setOrgPolicy(gw, 'beta', policy(true, true, 'tenant', false));
      expectError(assert, await w.invoke(beta), 404, 'credentials_not_found', NOT_FOUND_MSG);
      await setOrgPolicy(gw, 'beta', policy(true, true, 'tenant', true));
      assertOk(await w.invoke(beta), 'P', 'platform');
      // Platform first never falls back to tenant: acme with platform default but no platform key.
      await setOrgPolicy(gw, 'acme', policy(true, true, 'platform', true));
      assertOk(await w.invoke(acme), 'P', 'platform');

      // A policy that allows nothing.
      await setOrgPolicy(gw, 'acme', policy(false, false, 'tenant', true));
      expectError(assert, await w.invoke(acme), 400, 'invalid_credential_policy', 'Credential policy does not allow any credential source.');
      expectError(
        assert,
        await w.invoke(acme, { credential_source: 'tenant' }),
        400,
        'invalid_credential_policy',
        'Credential policy does not allow any credential source.',
      );

      // Removing the override falls back to the service policy again; removing that, to the catalog's.
      await setOrgPolicy(gw, 'acme', null);
      assertOk(await w.invoke(acme), 'P', 'platform');
      await setServicePolicy(gw, null);
      assertOk(await w.invoke(acme), 'T', 'tenant');

      // The platform admin token acting for an organization resolves that organization's keys.
      const asAdmin = await gw.api('POST', `/api/v1/external-proxy/${SVC}/list-voices`, { body: {}, headers: { 'x-portico-organization': 'acme' } });
      BODIES.push(asAdmin.text);
      assertOk(asAdmin, 'T', 'tenant');
    } finally {
      await w.close();
    }
  });

  test(`[${db}] unusable stored credentials: masked, schema-invalid, disabled, expired`, async () => {
    const w = await world(db);
    try {
      const { gw } = w;
      await seedOrg(gw, 'acme');
      const acme = await seedKey(gw, 'acme');
      const { store, registry } = gw.gateway.ctx;

      // Masked display values in storage (a run of `*`, any `•` or `…`).
      for (const value of ['sk_****abcd', 'sk_live_••••abcd', 'sk_…abcd1234']) {
        const masked = await seedCredential(gw, { service: SVC, scope: 'tenant', organization: 'acme', key: value });
        expectError(assert, await w.invoke(acme), 502, 'masked_upstream_key', 'upstream provider credentials are masked and cannot be used');
        await store.db.updateTable('credentials').set({ status: 'disabled' }).where('id', '=', masked).execute();
        registry.changed();
      }

      const invalid = await seedCredential(gw, { service: SVC, scope: 'tenant', organization: 'acme', key: '', payload: { token: 'sk_wrong_shape_123456' } });
      SECRETS.push('sk_wrong_shape_123456');
      expectError(assert, await w.invoke(acme), 502, 'invalid_upstream_key_info', 'invalid key info response');
      await store.db.updateTable('credentials').set({ status: 'disabled' }).where('id', '=', invalid).execute();
      registry.changed();
      expectError(assert, await w.invoke(acme), 404, 'credentials_not_found', NOT_FOUND_MSG);

      await w.addKey('OLD', 'tenant', { expiresAt: new Date(Date.now() - 60_000).toISOString() });
      expectError(assert, await w.invoke(acme), 404, 'credentials_not_found', NOT_FOUND_MSG);
      await w.addKey('OFF', 'tenant', { status: 'disabled' });
      expectError(assert, await w.invoke(acme), 404, 'credentials_not_found', NOT_FOUND_MSG);
      assert.deepEqual(w.seen, [], 'no upstream call without a usable key');

      // A usable platform key behind all of them is the fallback.
      await w.addKey('P', 'platform');
      assertOk(await w.invoke(acme), 'P', 'platform');
      // A tenant key expiring in the future is used again first.
      await w.addKey('T', 'tenant', { expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
      assertOk(await w.invoke(acme), 'T', 'tenant');
    } finally {
      await w.close();
    }
  });

  // A stored key that can never be sent as an HTTP header value (a pasted trailing newline, CR/LF,
  // a non-ASCII character) passes the catalog schema ({"key": string, 8..512}) and the admin API.
  // It cannot authenticate anything: like a schema-invalid payload it must be skipped
  // (§6 step 3, invalid_upstream_key_info) so the pool routes around it, never answered as an
  // upstream failure for a request that never left the gateway.
  test(`[${db}] a stored key that is not a valid header value is skipped like invalid key info`, async () => {
    const w = await world(db);
    try {
      await seedOrg(w.gw, 'acme');
      const acme = await seedKey(w.gw, 'acme');
      const { store, registry } = w.gw.gateway.ctx;
      for (const bad of ['\n', '\r\nX-Injected: 1', '\u043a\u043b\u044e\u0447']) {
        const clean = `sk_unsendable_${randomBytes(10).toString('hex')}`;
        SECRETS.push(clean);
        const broken = bad === '\n' ? clean + bad : clean.slice(0, 14) + bad + clean.slice(14);
        const id = await seedCredential(w.gw, { service: SVC, scope: 'platform', key: broken });
        const alone = await w.invoke(acme);
        expectError(assert, alone, 502, 'invalid_upstream_key_info', 'invalid key info response');
        await store.db.updateTable('credentials').set({ status: 'disabled' }).where('id', '=', id).execute();
        registry.changed();
      }
      assert.deepEqual(w.seen, [], 'nothing was sent upstream');
    } finally {
      await w.close();
    }
  });

  test(`[${db}] a pool with one unsendable key (trailing newline) and a good one: every request succeeds`, async () => {
    const w = await world(db);
    try {
      await seedOrg(w.gw, 'acme');
      const acme = await seedKey(w.gw, 'acme');
      const pasted = `sk_pasted_${randomBytes(10).toString('hex')}`;
      SECRETS.push(pasted);
      await seedCredential(w.gw, { service: SVC, scope: 'platform', key: pasted + '\n' });
      await w.addKey('GOOD', 'platform');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await w.invoke(acme);
        statuses.push(r.status);
        if (r.status === 200) assertOk(r, 'GOOD', 'platform');
      }
      assert.deepEqual(statuses, [200, 200, 200, 200], 'the unsendable key must not fail every other request');
      assert.deepEqual(w.seen, ['GOOD', 'GOOD', 'GOOD', 'GOOD']);
    } finally {
      await w.close();
    }
  });

  test(`[${db}] key pool: requests alternate between two platform keys`, async () => {
    const w = await world(db);
    try {
      await seedOrg(w.gw, 'acme');
      const acme = await seedKey(w.gw, 'acme');
      await w.addKey('A', 'platform');
      await w.addKey('B', 'platform');
      for (let i = 0; i < 6; i++) assertOk(await w.invoke(acme), i % 2 === 0 ? 'A' : 'B', 'platform');
      assert.deepEqual(w.seen, ['A', 'B', 'A', 'B', 'A', 'B']);
      // A third key joins the rotation after an admin change.
      await w.addKey('C', 'platform');
      const next = [];
      for (let i = 0; i < 6; i++) next.push((await w.invoke(acme)).body?.key);
      assert.deepEqual(next.slice().sort(), ['A', 'A', 'B', 'B', 'C', 'C']);
    } finally {
      await w.close();
    }
  });

  test(`[${db}] 429 with Retry-After: 1 on key A → retried once on B; A avoided until 1 s passed`, async () => {
    const w = await world(db);
    try {
      await seedOrg(w.gw, 'acme');
      const acme = await seedKey(w.gw, 'acme');
      await w.addKey('A', 'platform');
      await w.addKey('B', 'platform');
      w.once.set('A', [{ status: 429, headers: { 'retry-after': '1' }, body: { detail: { status: 'too_many_concurrent_requests', message: 'slow down' } } }]);

      const sentAt = Date.now();
      const r = await w.invoke(acme);
      const cooledAt = Date.now();
      assertOk(r, 'B', 'platform');
      assert.equal(r.headers.get('x-error-source'), null);
      assert.deepEqual(w.seen, ['A', 'B']);

      // The cool-down started after `sentAt`, so every request answered before sentAt + 1 s avoided A.
      await expectAvoided(w, acme, 'B', sentAt + 1000);

      await sleep(cooledAt + 1150 - Date.now());
      const after = [(await w.invoke(acme)).body?.key, (await w.invoke(acme)).body?.key];
      assert.deepEqual(after.slice().sort(), ['A', 'B'], `after the cool-down A is used again (${after})`);
    } finally {
      await w.close();
    }
  });

  test(`[${db}] 401 on key A → A cooled for PORTICO_AUTH_COOLDOWN_MS, client gets 200 from B (JSON body replayed)`, async () => {
    const w = await world(db, { env: { PORTICO_AUTH_COOLDOWN_MS: '1500' } });
    try {
      await seedOrg(w.gw, 'acme');
      const acme = await seedKey(w.gw, 'acme');
      await w.addKey('A', 'platform');
      await w.addKey('B', 'platform');
      w.once.set('A', [{ status: 401, body: ELEVEN_401 }]);

      const sentAt = Date.now();
      const r = await w.invoke(acme, { path_params: { voice_id: 'v1' }, body: { text: 'hello', model_id: 'm1' } }, 'text-to-speech-with-timestamps');
      const cooledAt = Date.now();
      assertOk(r, 'B', 'platform');
      assert.deepEqual(w.seen, ['A', 'B']);
      const [first, second] = w.stub.requests;
      assert.equal(first!.url, '/v1/text-to-speech/v1/with-timestamps');
      assert.equal(second!.url, first!.url);
      assert.deepEqual(JSON.parse(second!.body.toString()), { text: 'hello', model_id: 'm1' });
      assert.deepEqual(second!.body, first!.body);

      await expectAvoided(w, acme, 'B', sentAt + 1500);

      await sleep(cooledAt + 1650 - Date.now());
      const after = [(await w.invoke(acme)).body?.key, (await w.invoke(acme)).body?.key];
      assert.deepEqual(after.slice().sort(), ['A', 'B'], `after PORTICO_AUTH_COOLDOWN_MS A is used again (${after})`);
    } finally {
      await w.close();
    }
  });

  test(`[${db}] both pooled keys 401 → 502 upstream_auth_failed with the provider's code; then missing_upstream_key`, async () => {
    const w = await world(db);
    try {
      await seedOrg(w.gw, 'acme');
      const acme = await seedKey(w.gw, 'acme');
      await w.addKey('A', 'platform');
      await w.addKey('B', 'platform');
      w.always.set('A', { status: 401, body: ELEVEN_401 });
      w.always.set('B', { status: 401, body: ELEVEN_401 });

      const r = await w.invoke(acme);
      expectError(assert, r, 502, 'upstream_auth_failed', 'The upstream external service rejected the configured credentials.');
      assert.equal(r.body.error.type, 'upstream_error');
      assert.equal(r.body.error.upstream_status, 401);
      assert.equal(r.body.error.upstream_code, 'invalid_api_key');
      assert.ok(!r.text.includes('stub-401-text'), 'the provider body is never relayed');
      assert.equal(r.headers.get('x-credential-source'), 'platform');
      assert.deepEqual(w.seen, ['A', 'B'], 'exactly one retry');

      const again = await w.invoke(acme);
      expectError(assert, again, 502, 'missing_upstream_key', 'upstream provider credentials unavailable');
      assert.equal(again.body.error.upstream_status, undefined);
      assert.deepEqual(w.seen, ['A', 'B'], 'no upstream call while every key cools down');
    } finally {
      await w.close();
    }
  });

  test(`[${db}] both pooled keys 429 → the retry's 429 is passed through; both cool down`, async () => {
    const w = await world(db);
    try {
      await seedOrg(w.gw, 'acme');
      const acme = await seedKey(w.gw, 'acme');
      await w.addKey('A', 'platform');
      await w.addKey('B', 'platform');
      w.always.set('A', { status: 429, headers: { 'retry-after': '20' }, body: { detail: { status: 'rate_limited_a' } } });
      w.always.set('B', { status: 429, headers: { 'retry-after': '40' }, body: { detail: { status: 'rate_limited_b' } } });
      const r = await w.invoke(acme);
      assert.equal(r.status, 429, r.text);
      assert.deepEqual(r.body, { detail: { status: 'rate_limited_b' } });
      assert.equal(r.headers.get('retry-after'), '40');
      assert.equal(r.headers.get('x-error-source'), 'upstream');
      assert.deepEqual(w.seen, ['A', 'B'], 'exactly one retry');
      expectError(assert, await w.invoke(acme), 502, 'missing_upstream_key', 'upstream provider credentials unavailable');
      assert.deepEqual(w.seen, ['A', 'B']);
    } finally {
      await w.close();
    }
  });

  test(`[${db}] tenant key 401 → no retry on the platform source; the next request falls back to platform`, async () => {
    const w = await world(db);
    try {
      await seedOrg(w.gw, 'acme');
      const acme = await seedKey(w.gw, 'acme');
      await w.addKey('T', 'tenant');
      await w.addKey('P', 'platform');
      w.always.set('T', { status: 401, body: ELEVEN_401 });
      const r = await w.invoke(acme);
      expectError(assert, r, 502, 'upstream_auth_failed', 'The upstream external service rejected the configured credentials.');
      assert.equal(r.body.error.upstream_status, 401);
      assert.equal(r.headers.get('x-credential-source'), 'tenant');
      assert.deepEqual(w.seen, ['T']);
      // T is cooling down: the tenant source has no candidate, the order goes on to platform.
      assertOk(await w.invoke(acme), 'P', 'platform');
      // Asking for the tenant source explicitly: its only key cools down.
      expectError(assert, await w.invoke(acme, { credential_source: 'tenant' }), 502, 'missing_upstream_key', 'upstream provider credentials unavailable');
    } finally {
      await w.close();
    }
  });

  test(`[${db}] single key 429 → passed through (X-Error-Source: upstream, body, Retry-After); next call missing_upstream_key`, async () => {
    const w = await world(db);
    try {
      await seedOrg(w.gw, 'acme');
      const acme = await seedKey(w.gw, 'acme');
      await w.addKey('A', 'platform');
      const upstreamBody = { detail: { status: 'too_many_concurrent_requests', message: 'Too many concurrent requests.' } };
      w.once.set('A', [{ status: 429, headers: { 'retry-after': '30', 'x-request-id': 'up-429' }, body: upstreamBody }]);

      const r = await w.invoke(acme);
      assert.equal(r.status, 429, r.text);
      assert.deepEqual(r.body, upstreamBody);
      assert.equal(r.headers.get('x-error-source'), 'upstream');
      assert.equal(r.headers.get('retry-after'), '30');
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.equal(r.headers.get('x-upstream-request-id'), 'up-429');
      assert.equal(r.headers.get('x-credential-source'), 'platform');
      assert.ok(r.headers.get('x-request-id'));
      assert.notEqual(r.headers.get('x-request-id'), 'up-429');
      assert.deepEqual(w.seen, ['A']);

      const next = await w.invoke(acme);
      expectError(assert, next, 502, 'missing_upstream_key', 'upstream provider credentials unavailable');
      assert.equal(next.body.error.type, 'invalid_request_error');
      assert.deepEqual(w.seen, ['A']);
    } finally {
      await w.close();
    }
  });

  test(`[${db}] upstream 500 and 403 (not cool-down statuses): no retry, no cool-down`, async () => {
    const w = await world(db);
    try {
      await seedOrg(w.gw, 'acme');
      const acme = await seedKey(w.gw, 'acme');
      await w.addKey('A', 'platform');
      await w.addKey('B', 'platform');
      w.once.set('A', [
        { status: 500, body: { detail: { status: 'internal_error', message: 'boom' } } },
        { status: 403, body: { detail: { code: 'forbidden_thing', message: 'nope' } } },
      ]);
      const r = await w.invoke(acme);
      expectError(assert, r, 502, 'upstream_request_failed', 'The upstream external service request failed.');
      assert.equal(r.body.error.type, 'upstream_error');
      assert.equal(r.body.error.upstream_status, 500);
      assert.equal(r.body.error.upstream_code, 'internal_error');
      assert.deepEqual(w.seen, ['A']);
      assertOk(await w.invoke(acme), 'B', 'platform');

      const forbidden = await w.invoke(acme);
      expectError(assert, forbidden, 502, 'upstream_auth_failed', 'The upstream external service rejected the configured credentials.');
      assert.equal(forbidden.body.error.upstream_status, 403);
      assert.equal(forbidden.body.error.upstream_code, 'forbidden_thing');
      assert.deepEqual(w.seen, ['A', 'B', 'A']);
      // A was not cooled down by 500 or 403.
      assertOk(await w.invoke(acme), 'B', 'platform');
      assertOk(await w.invoke(acme), 'A', 'platform');
    } finally {
      await w.close();
    }
  });

  test(`[${db}] 402: ElevenLabs passes it through without cool-down; HeyGen (cooldown_statuses has 402) cools down and retries`, async () => {
    const heygenNames = new Map<string, string>();
    const heygenSeen: string[] = [];
    const heygenReplies = new Map<string, Reply>();
    const heygen = await startStub((req, res) => {
      const name = heygenNames.get(String(req.headers['x-api-key'])) ?? 'unknown';
      heygenSeen.push(name);
      const reply = heygenReplies.get(name) ?? { status: 200, body: { data: { avatars: [] }, key: name } };
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body ?? {}));
    });
    const w = await world(db, { env: { PORTICO_BASE_URL_HEYGEN: heygen.url } });
    try {
      const { gw } = w;
      await seedOrg(gw, 'acme');
      const acme = await seedKey(gw, 'acme');
      await w.addKey('A', 'platform');
      await w.addKey('B', 'platform');
      const quota = { detail: { status: 'quota_exceeded', message: 'This request exceeds your quota.' } };
      w.once.set('A', [{ status: 402, body: quota }]);
      const r = await w.invoke(acme);
      assert.equal(r.status, 402, r.text);
      assert.deepEqual(r.body, quota);
      assert.equal(r.headers.get('x-error-source'), 'upstream');
      assert.deepEqual(w.seen, ['A'], 'no retry on an ElevenLabs 402');
      assertOk(await w.invoke(acme), 'B', 'platform');
      assertOk(await w.invoke(acme), 'A', 'platform');

      const hA = `sk_heygen_a_${randomBytes(8).toString('hex')}`;
      const hB = `sk_heygen_b_${randomBytes(8).toString('hex')}`;
      SECRETS.push(hA, hB);
      heygenNames.set(hA, 'HA').set(hB, 'HB');
      await seedCredential(gw, { service: 'heygen', scope: 'platform', key: hA });
      await seedCredential(gw, { service: 'heygen', scope: 'platform', key: hB });
      const outOfCredit = { error: { code: 'insufficient_credit', message: 'out of credit' } };
      heygenReplies.set('HA', { status: 402, body: outOfCredit });
      const h1 = await gw.api('POST', '/api/v1/external-proxy/heygen/list-avatars', { token: acme, body: {} });
      BODIES.push(h1.text);
      assert.equal(h1.status, 200, h1.text);
      assert.equal(h1.body?.key, 'HB');
      assert.equal(h1.headers.get('x-credential-source'), 'platform');
      assert.deepEqual(heygenSeen, ['HA', 'HB']);
      // HA cools down: the pool is HB alone; when HB is out of credit too, its 402 is passed through.
      heygenReplies.set('HB', { status: 402, body: outOfCredit });
      const h2 = await gw.api('POST', '/api/v1/external-proxy/heygen/list-avatars', { token: acme, body: {} });
      BODIES.push(h2.text);
      assert.equal(h2.status, 402, h2.text);
      assert.deepEqual(h2.body, outOfCredit);
      assert.equal(h2.headers.get('x-error-source'), 'upstream');
      assert.deepEqual(heygenSeen, ['HA', 'HB', 'HB']);
      const h3 = await gw.api('POST', '/api/v1/external-proxy/heygen/list-avatars', { token: acme, body: {} });
      BODIES.push(h3.text);
      expectError(assert, h3, 502, 'missing_upstream_key', 'upstream provider credentials unavailable');
      assert.deepEqual(heygenSeen, ['HA', 'HB', 'HB']);
      // The ElevenLabs pool is independent of HeyGen's cool-downs.
      assertOk(await w.invoke(acme), 'B', 'platform');
    } finally {
      await w.close();
      await heygen.close();
    }
  });

  test(`[${db}] upstream connection refused → 502 upstream_request_failed without upstream_status`, async () => {
    const port = await closedPort();
    const w = await world(db, { baseUrl: `http://127.0.0.1:${port}` });
    try {
      await seedOrg(w.gw, 'acme');
      const acme = await seedKey(w.gw, 'acme');
      await w.addKey('A', 'platform');
      await w.addKey('B', 'platform');
      for (let i = 0; i < 2; i++) {
        const r = await w.invoke(acme);
        expectError(assert, r, 502, 'upstream_request_failed', 'The upstream external service request failed.');
        assert.equal('upstream_status' in r.body.error, false, r.text);
        assert.equal('upstream_code' in r.body.error, false, r.text);
        assert.equal(r.headers.get('x-credential-source'), 'platform');
      }
      // A transport failure is not the key's fault: nothing cools down.
      const { state } = w.gw.gateway.ctx;
      const ids = (await w.gw.gateway.ctx.store.db.selectFrom('credentials').select('id').execute()).map((c) => c.id);
      assert.equal(ids.length, 2);
      for (const id of ids) assert.equal(state.cooldowns.isCoolingDown(id), false);
    } finally {
      await w.close();
    }
  });
}

// Runs last (tests of a file run in order).
test('secret scan: no secret in any captured log line or response body', () => {
  assert.ok(SECRETS.length > 0 && BODIES.length > 0 && GATEWAYS.length > 0);
  assert.ok(
    GATEWAYS.every((gw) => gw.logs.length > 0),
    'logs were captured',
  );
  for (const gw of GATEWAYS) {
    for (const line of gw.logs) {
      for (const s of SECRETS) assert.ok(!line.includes(s), `secret in a log line: ${line}`);
      assert.doesNotMatch(line, /sk_[a-z]+_[0-9a-f]{20}/);
    }
  }
  for (const body of BODIES) {
    for (const s of SECRETS) assert.ok(!body.includes(s), `secret in a response body: ${body}`);
  }
});
