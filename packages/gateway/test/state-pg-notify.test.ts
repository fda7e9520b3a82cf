// State without Redis (SPEC §13): on PostgreSQL, admin changes and cool-downs reach the other
// processes through LISTEN/NOTIFY (also after the listening connection is cut); idempotency
// records live in the database, and an in-flight record of a process that died is taken over
// once its lease time has passed. In-process limits count per process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createLogger } from '../src/logger.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { migrate } from '../src/store/migrations.ts';
import { NO_LIMITS } from '../src/registry.ts';
import { MemoryLimits, type SharedState } from '../src/state/index.ts';
import { BusState } from '../src/state/bus.ts';
import { PgNotifyBus } from '../src/state/pg-notify.ts';
import { DbIdempotency } from '../src/state/db-idempotency.ts';
import { PG_URL, databases, dropSchema, freshSchema, postgresAvailable, startGateway } from './helpers.ts';
import { seedCredential, seedKey, seedOrg } from './fixtures.ts';
import { INVOKE, sleep, upstream } from './scaleout-helpers.ts';

const log = createLogger('silent');

async function until(check: () => boolean, ms = 1000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`not within ${ms} ms`);
    await sleep(10);
  }
}

async function pgStore(schema: string): Promise<Store> {
  const store = openStore({ kind: 'postgres', url: PG_URL, schema });
  await migrate(store);
  return store;
}

test(
  'LISTEN/NOTIFY carries invalidation and cool-downs, and resumes after the connection is cut',
  { skip: !(await postgresAvailable()) && 'PostgreSQL unreachable' },
  async () => {
    const schema = freshSchema();
    const stores = [await pgStore(schema), await pgStore(schema)];
    const states: SharedState[] = [];
    try {
      for (const s of stores) states.push(new BusState(await PgNotifyBus.start(s.pgPool!, schema, log), new MemoryLimits(), new DbIdempotency(s, 30_000)));
      const [a, b] = states as [SharedState, SharedState];
      let seen = 0;
      b.onInvalidation(() => seen++);
      a.publishInvalidation();
      await until(() => seen === 1);
      a.cooldowns.coolDown('cred-9', 60_000);
      await until(() => b.cooldowns.isCoolingDown('cred-9'));
      a.cooldowns.clear('cred-9');
      await until(() => !b.cooldowns.isCoolingDown('cred-9'));

      // Cut b's listening connection: it reconnects, drops its caches once (messages may have been
      // missed), and hears the next change.
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where query like 'LISTEN "portico_${schema}"%' and pid <> pg_backend_pid()`);
      await admin.end();
      await until(() => seen >= 2, 4000); // one resync
      const now = seen;
      a.publishInvalidation();
      await until(() => seen === now + 1, 2000);
    } finally {
      for (const s of states) await s.close();
      for (const s of stores) await s.close();
      await dropSchema(schema);
    }
  },
);

test(
  'two gateways on PostgreSQL without Redis: an admin change through one reaches the other within a second',
  { skip: !(await postgresAvailable()) && 'PostgreSQL unreachable' },
  async () => {
    const schema = freshSchema();
    const up = await upstream();
    const env = { PORTICO_BASE_URL_ELEVENLABS: up.url };
    const started: { close(): Promise<void> }[] = [];
    try {
      // Started inside the try: a gateway that fails to start must not leave the other open.
      const a = await startGateway({ db: 'postgres', schema, env });
      started.push(a);
      const b = await startGateway({ db: 'postgres', schema, env });
      started.push(b);
      await seedOrg(a, 'acme');
      const key = await seedKey(a, 'acme');
      await seedCredential(a, { service: 'elevenlabs', scope: 'platform', key: 'sk_notify_key_0001' });
      const voices = () => b.api('POST', `${INVOKE}/list-voices`, { token: key, body: {} });
      assert.equal((await voices()).status, 200); // cached in b
      assert.equal((await a.api('PATCH', '/api/v1/admin/services/elevenlabs', { body: { enabled: false } })).status, 200);
      const t0 = Date.now();
      while ((await voices()).status !== 404) {
        assert.ok(Date.now() - t0 < 1000, 'not propagated');
        await sleep(20);
      }
    } finally {
      await Promise.allSettled(started.map((g) => g.close()));
      await up.close();
      await dropSchema(schema);
    }
  },
);

for (const db of await databases()) {
  test(`[${db}] database idempotency: an in-flight record of a dead process is taken over after the lease`, async () => {
    const schema = freshSchema();
    const store = db === 'postgres' ? await pgStore(schema) : openStore({ kind: 'sqlite', filename: ':memory:' });
    if (db === 'sqlite') await migrate(store);
    try {
      const dead = new DbIdempotency(store, 1000);
      const alive = new DbIdempotency(store, 1000);
      const r = await dead.reserve('acme', 'k', 'fp');
      assert.ok('reserved' in r);
      await dead.close(); // no more renewals, never completed
      const early = await alive.reserve('acme', 'k', 'fp');
      assert.ok('existing' in early && early.existing.state === 'in_flight');
      await sleep(1100);
      const late = await alive.reserve('acme', 'k', 'fp');
      assert.ok('reserved' in late, 'taken over');
      // The dead reservation can no longer overwrite it.
      await r.reserved.complete('done', { status: 200, headers: {}, body: '' });
      const again = await alive.reserve('acme', 'k', 'fp');
      assert.ok('existing' in again && again.existing.state === 'in_flight');
      await late.reserved.complete('unstorable', null);
      const final = await alive.reserve('acme', 'k', 'fp');
      assert.ok('existing' in final && final.existing.state === 'unstorable');
      await alive.close();
    } finally {
      await store.close();
      if (db === 'postgres') await dropSchema(schema);
    }
  });
}

test('in-process limits: sliding window and concurrency per process', async () => {
  const m = new MemoryLimits();
  const base = { org: 'acme', month: '203001', monthTtlS: 60, seed: async () => ({ requests: 0, units: 0 }) };
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => m.admit({ ...base, id: String(i), limits: { ...NO_LIMITS, requests_per_minute: 4 } })),
  );
  assert.deepEqual(
    results.map((r) => r.verdict),
    ['ok', 'ok', 'ok', 'ok', 'rate_limited', 'rate_limited', 'rate_limited', 'rate_limited', 'rate_limited', 'rate_limited'],
  );
  assert.deepEqual(
    results.slice(0, 5).map((r) => r.windowCount),
    [1, 2, 3, 4, 4],
  );
  const one = await m.admit({ ...base, id: 'c1', limits: { ...NO_LIMITS, concurrent_requests: 1 } });
  assert.equal((await m.admit({ ...base, id: 'c2', limits: { ...NO_LIMITS, concurrent_requests: 1 } })).verdict, 'concurrency');
  one.lease!.release();
  one.lease!.release(); // idempotent
  assert.equal((await m.admit({ ...base, id: 'c3', limits: { ...NO_LIMITS, concurrent_requests: 1 } })).verdict, 'ok');
  assert.equal((await m.admit({ ...base, id: 'c4', limits: { ...NO_LIMITS, concurrent_requests: 1 } })).verdict, 'concurrency');
});
