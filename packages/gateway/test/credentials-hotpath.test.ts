// The request path reads credentials from the registry cache (registry.ts): a warm invoke
// does no database query, and an admin change (registry.changed()) is seen by the very next
// request. last_used_at is written in batches by a 5 s timer; its queries are accounted for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encryptPayload } from '../src/credentials/crypto.ts';
import { databases, expectError, startGateway, type ApiResponse, type TestGateway } from './helpers.ts';
import { seedCredential, seedKey, seedOrg, startStub } from './fixtures.ts';

const SVC = 'elevenlabs';
const SECRETS: string[] = [];
const BODIES: string[] = [];
const GATEWAYS: TestGateway[] = [];

function secret(name: string): string {
  const s = `sk_${name}_${randomBytes(10).toString('hex')}`;
  SECRETS.push(s);
  return s;
}

/** What a query is, as far as this test cares. */
interface Seen {
  kind: string;
  table: string | null;
  /** A batched write made off the request path: last_used_at touches, usage rollups. */
  background: boolean;
}

function tableOf(node: any): string | null {
  const t = node?.table ?? node?.into ?? node?.from?.froms?.[0];
  return t?.table?.identifier?.name ?? t?.identifier?.name ?? null;
}

function classify(node: any): Seen {
  const kind = String(node?.kind);
  const table = tableOf(node);
  const onlyLastUsed = kind === 'UpdateQueryNode' && Array.isArray(node.updates) && node.updates.every((u: any) => u?.column?.column?.name === 'last_used_at');
  const touch = onlyLastUsed && (table === 'api_keys' || table === 'credentials');
  const usage = kind === 'InsertQueryNode' && table === 'usage_rollups';
  return { kind, table, background: touch || usage };
}

/**
 * Watches every query that goes through `store.db` (the registry and the batch writers read the
 * property at call time). Background batch writes (the registry's 5 s last_used_at flush, usage
 * metering) may land in any window: they are told apart from queries of the request path.
 */
function watchQueries(gw: TestGateway) {
  const { store } = gw.gateway.ctx;
  const seen: Seen[] = [];
  store.db = store.db.withPlugin({
    transformQuery({ node }) {
      seen.push(classify(node));
      return node;
    },
    async transformResult({ result }) {
      return result;
    },
  });
  /** Runs `fn`; returns the queries the request path made meanwhile (must be none when warm). */
  return async function requestPathQueries(fn: () => Promise<void>): Promise<{ count: number; seen: Seen[] }> {
    const q0 = store.queryCount();
    const s0 = seen.length;
    await fn();
    const during = seen.slice(s0);
    const background = during.filter((q) => q.background).length;
    // queryCount() counts everything, the watcher only what goes through store.db: both must agree.
    return { count: store.queryCount() - q0 - background, seen: during };
  };
}

/** A gateway in front of `upstream`, its query watcher, and a list-voices invoke whose bodies are scanned for secrets. */
async function listVoicesGateway(db: Awaited<ReturnType<typeof databases>>[number], upstream: string) {
  const gw = await startGateway({ db, env: { PORTICO_BASE_URL_ELEVENLABS: upstream } });
  GATEWAYS.push(gw);
  const invoke = async (token: string): Promise<ApiResponse> => {
    const r = await gw.api('POST', `/api/v1/external-proxy/${SVC}/list-voices`, { token, body: {} });
    BODIES.push(r.text);
    return r;
  };
  return { gw, registry: gw.gateway.ctx.registry, requestPathQueries: watchQueries(gw), invoke };
}

for (const db of await databases()) {
  test(`[${db}] warm invokes run no query; admin changes apply on the very next request`, async () => {
    const names = new Map<string, string>();
    const stub = await startStub((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ key: names.get(String(req.headers['xi-api-key'])) ?? 'unknown' }));
    });
    const gw = await startGateway({ db, env: { PORTICO_BASE_URL_ELEVENLABS: stub.url } });
    GATEWAYS.push(gw);
    const { store, registry, config } = gw.gateway.ctx;
    const requestPathQueries = watchQueries(gw);
    const invoke = async (token: string, body: Record<string, unknown> = {}, action = 'list-voices'): Promise<ApiResponse> => {
      const r = await gw.api('POST', `/api/v1/external-proxy/${SVC}/${action}`, { token, body });
      BODIES.push(r.text);
      return r;
    };
    let lastSeen: unknown[] = [];
    const queriesDuring = async (fn: () => Promise<void>): Promise<number> => {
      const { count, seen } = await requestPathQueries(fn);
      lastSeen = seen;
      return count;
    };
    try {
      await seedOrg(gw, 'acme');
      const acme = await seedKey(gw, 'acme', 'member');
      const sT = secret('tenant');
      const sP = secret('platform');
      const sP2 = secret('platform_rotated');
      names.set(sT, 'T').set(sP, 'P').set(sP2, 'P2');
      const tenantId = await seedCredential(gw, { service: SVC, scope: 'tenant', organization: 'acme', key: sT });
      const platformId = await seedCredential(gw, { service: SVC, scope: 'platform', key: sP });

      // Warm-up: loads services, organization, API key and both credential pools.
      const warm = await invoke(acme);
      assert.equal(warm.body?.key, 'T');
      await invoke(acme, { credential_source: 'platform' });
      await registry.flushTouches();

      let keys: string[] = [];
      const q = await queriesDuring(async () => {
        for (let i = 0; i < 20; i++) {
          const r = await invoke(acme, i % 4 === 3 ? { credential_source: 'platform' } : {}, i % 2 ? 'list-voices' : 'list-models');
          assert.equal(r.status, 200, r.text);
          keys.push(r.body.key);
        }
      });
      assert.equal(q, 0, `warm invokes must not query the database: ${JSON.stringify(lastSeen)}`);
      assert.deepEqual(
        keys,
        Array.from({ length: 20 }, (_, i) => (i % 4 === 3 ? 'P' : 'T')),
      );

      // last_used_at still reaches the database (batched, off the request path).
      await registry.flushTouches();
      const used = await store.db.selectFrom('credentials').select(['id', 'last_used_at']).execute();
      for (const row of used) assert.ok(row.last_used_at, `last_used_at written for ${row.id}`);

      // Admin-style change: disable the tenant key → the very next request uses the platform key.
      await store.db.updateTable('credentials').set({ status: 'disabled' }).where('id', '=', tenantId).execute();
      registry.changed();
      let afterDisable: ApiResponse | undefined;
      const reload = await queriesDuring(async () => {
        afterDisable = await invoke(acme);
      });
      assert.ok(reload > 0, 'the first request after a change reloads (the counter does count)');
      assert.equal(afterDisable!.body?.key, 'P');
      assert.equal(afterDisable!.headers.get('x-credential-source'), 'platform');
      // ...and the path is warm again at once.
      keys = [];
      assert.equal(
        await queriesDuring(async () => {
          for (let i = 0; i < 20; i++) keys.push((await invoke(acme)).body?.key);
        }),
        0,
        `warm again after the reload: ${JSON.stringify(lastSeen)}`,
      );
      assert.deepEqual(new Set(keys), new Set(['P']));

      // Rotate the platform key's secret in place (same row, new ciphertext).
      const ciphertext = encryptPayload(config.masterKey, { id: platformId, service: SVC, scope: 'platform', organization: null }, { key: sP2 });
      await store.db.updateTable('credentials').set({ ciphertext }).where('id', '=', platformId).execute();
      registry.changed();
      assert.equal((await invoke(acme)).body?.key, 'P2');

      // Disable it too → the very next request has no credential.
      await store.db.updateTable('credentials').set({ status: 'disabled' }).where('id', '=', platformId).execute();
      registry.changed();
      expectError(assert, await invoke(acme), 404, 'credentials_not_found', `No allowed credentials found for external proxy service '${SVC}'.`);

      // Re-enable the tenant key and switch the organization to platform-only in one change.
      await store.db.updateTable('credentials').set({ status: 'active' }).where('id', '=', tenantId).execute();
      await store.db
        .insertInto('organization_services')
        .values({
          organization: 'acme',
          service: SVC,
          enabled: 1,
          credential_policy: JSON.stringify({ allow_tenant_key: false, allow_platform_key: true, default_source: 'platform', fallback_to_platform_key: false }),
          updated_at: new Date().toISOString(),
        })
        .execute();
      registry.changed();
      expectError(assert, await invoke(acme), 404, 'credentials_not_found', `No allowed credentials found for external proxy service '${SVC}'.`);
      await store.db.updateTable('organization_services').set({ credential_policy: null }).where('organization', '=', 'acme').execute();
      registry.changed();
      assert.equal((await invoke(acme)).body?.key, 'T');
    } finally {
      await gw.close();
      await stub.close();
    }
  });

  test(`[${db}] the cool-down path is also query-free: 429 → cool-down → retry → cooled key skipped`, async () => {
    let armed = false;
    const names = new Map<string, string>();
    const stub = await startStub((req, res) => {
      const name = names.get(String(req.headers['xi-api-key'])) ?? 'unknown';
      if (name === 'A' && armed) {
        armed = false;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '60' });
        res.end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ key: name }));
    });
    const { gw, registry, requestPathQueries, invoke } = await listVoicesGateway(db, stub.url);
    try {
      await seedOrg(gw, 'acme');
      const acme = await seedKey(gw, 'acme');
      const sA = secret('a');
      const sB = secret('b');
      names.set(sA, 'A').set(sB, 'B');
      await seedCredential(gw, { service: SVC, scope: 'platform', key: sA });
      await seedCredential(gw, { service: SVC, scope: 'platform', key: sB });
      // Warm-up: one call on each pooled key (round-robin starts at the first).
      assert.equal((await invoke(acme)).body?.key, 'A');
      assert.equal((await invoke(acme)).body?.key, 'B');
      await registry.flushTouches();

      armed = true;
      const keys: string[] = [];
      const { count, seen } = await requestPathQueries(async () => {
        for (let i = 0; i < 20; i++) {
          const r = await invoke(acme);
          assert.equal(r.status, 200, r.text);
          keys.push(r.body.key);
        }
      });
      assert.equal(count, 0, JSON.stringify(seen));
      assert.deepEqual(new Set(keys), new Set(['B']), 'A answered 429 once (retried on B), then cools down');
      assert.equal(stub.requests.length, 2 + 21);
    } finally {
      await gw.close();
      await stub.close();
    }
  });

  test(`[${db}] cold registry: a burst loads each view once; a change during a load is not kept`, async () => {
    const stub = await startStub((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    const { gw, registry, requestPathQueries, invoke } = await listVoicesGateway(db, stub.url);
    try {
      await seedOrg(gw, 'acme');
      const acme = await seedKey(gw, 'acme');
      await seedCredential(gw, { service: SVC, scope: 'platform', key: secret('p') });
      registry.changed();
      const one = await requestPathQueries(async () => {
        assert.equal((await invoke(acme)).status, 200);
      });
      assert.ok(one.count > 0, 'a cold request loads its views');

      // 20 requests at once on a cold registry: every one waits for the same loads.
      registry.changed();
      const burst = await requestPathQueries(async () => {
        const all = await Promise.all(Array.from({ length: 20 }, () => invoke(acme)));
        for (const r of all) assert.equal(r.status, 200, r.text);
      });
      assert.equal(burst.count, one.count, `the same loads as one cold request: ${JSON.stringify(burst.seen)}`);

      // An admin change lands while the organization is being loaded: that load is dropped and the
      // request, run again, reads the organization as it is after the change.
      const { store } = gw.gateway.ctx;
      await store.db.updateTable('organizations').set({ disabled: 1 }).where('slug', '=', 'acme').execute();
      registry.changed();
      const plain = store.db;
      let raced = false;
      const orgQueries = new Set<unknown>();
      store.db = plain.withPlugin({
        transformQuery({ node, queryId }) {
          if (tableOf(node) === 'organizations' && node.kind === 'SelectQueryNode') orgQueries.add(queryId);
          return node;
        },
        async transformResult({ result, queryId }) {
          if (!raced && orgQueries.has(queryId)) {
            // The change lands after the row (still disabled) was read, before the load completes.
            raced = true;
            await plain.updateTable('organizations').set({ disabled: 0 }).where('slug', '=', 'acme').execute();
            registry.changed();
          }
          return result;
        },
      });
      const r = await invoke(acme);
      assert.ok(raced);
      assert.equal(r.status, 200, r.text);
      store.db = plain;
    } finally {
      await gw.close();
      await stub.close();
    }
  });
}

// Runs last (tests of a file run in order).
test('secret scan: no secret in any captured log line or response body', () => {
  assert.ok(SECRETS.length > 0 && BODIES.length > 0 && GATEWAYS.length > 0);
  for (const gw of GATEWAYS) for (const line of gw.logs) for (const s of SECRETS) assert.ok(!line.includes(s), `secret in a log line: ${line}`);
  for (const body of BODIES) for (const s of SECRETS) assert.ok(!body.includes(s), `secret in a response body: ${body}`);
});
