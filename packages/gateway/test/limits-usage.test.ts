// SPEC §13 usage metering: every invoke counted (organization, key, service, action, status,
// upstream status, credential source, bytes, duration, units) into per-minute rollups, written in
// batches off the request path and on shutdown; GET /admin/usage grouped by day, service, action or key, as JSON or CSV,
// for the platform or an organization admin (its own organization only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { databases, dropSchema, expectError, freshSchema, startGateway } from './helpers.ts';
import { seedKey, seedOrg } from './fixtures.ts';
import { sleep, tts, world } from './scaleout-helpers.ts';

const USAGE = '/api/v1/admin/usage';

for (const db of await databases()) {
  test(`[${db}] usage rows and the report grouped by service, action, key and day`, async () => {
    const w = await world({ db });
    try {
      assert.equal((await w.invoke('list-voices')).status, 200);
      assert.equal((await w.invoke('text-to-speech', tts({ cost: 7 }))).status, 200);
      assert.equal((await w.invoke('text-to-speech', tts({ cost: 5 }))).status, 200);
      assert.equal((await w.invoke('text-to-speech-with-timestamps', tts({ status: 422 }))).status, 422);
      const refused = await w.invoke('get-voice', {});
      assert.equal(refused.status, 400);
      const member = await seedKey(w.gw, w.org, 'member');
      assert.equal((await w.invoke('list-voices', {}, {}, member)).status, 200);

      const byService = await w.gw.api('GET', `${USAGE}?organization=${w.org}&group_by=service`);
      assert.equal(byService.status, 200, byService.text);
      assert.equal(byService.body.usage.length, 1);
      const svc = byService.body.usage[0];
      assert.equal(svc.key, 'elevenlabs');
      assert.equal(svc.requests, 6);
      assert.equal(svc.errors, 2);
      assert.equal(svc.units, 12);
      assert.ok(svc.bytes_out >= 10_000, `bytes_out ${svc.bytes_out}`);
      assert.ok(svc.p50_ms > 0 && svc.p95_ms >= svc.p50_ms);

      const byAction = await w.gw.api('GET', `${USAGE}?organization=${w.org}&group_by=action`);
      assert.deepEqual(
        byAction.body.usage.map((u: any) => [u.key, u.requests, u.errors, u.units]),
        [
          ['elevenlabs/get-voice', 1, 1, 0],
          ['elevenlabs/list-voices', 2, 0, 0],
          ['elevenlabs/text-to-speech', 2, 0, 12],
          ['elevenlabs/text-to-speech-with-timestamps', 1, 1, 0],
        ],
      );
      const byKey = await w.gw.api('GET', `${USAGE}?organization=${w.org}&group_by=key`);
      assert.deepEqual(byKey.body.usage.map((u: any) => u.requests).sort(), [1, 5]);
      const byDay = await w.gw.api('GET', `${USAGE}?group_by=day`);
      assert.deepEqual(
        byDay.body.usage.map((u: any) => [u.key, u.requests]),
        [[new Date().toISOString().slice(0, 10), 6]],
      );

      // The stored rollups carry every field: the two text-to-speech invokes share one.
      const rows = await w.gw.gateway.ctx.store.db.selectFrom('usage_rollups').selectAll().where('action', '=', 'text-to-speech').execute();
      assert.equal(rows.length, 1);
      const r = rows[0]!;
      assert.equal(r.organization, w.org);
      assert.ok(r.api_key_id);
      assert.equal(Number(r.requests), 2);
      assert.equal(Number(r.status), 200);
      assert.equal(Number(r.upstream_status), 200);
      assert.equal(r.credential_source, 'platform');
      assert.ok(Number(r.bytes_in) > 20);
      assert.equal(Number(r.bytes_out), 10000);
      assert.equal(Number(r.units), 12);
      assert.ok(Number(r.duration_ms_sum) > 0);
      assert.match(r.minute, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00\.000Z$/);
      // Portico's own answer counts its envelope's bytes.
      const own = await w.gw.gateway.ctx.store.db.selectFrom('usage_rollups').selectAll().where('action', '=', 'get-voice').executeTakeFirstOrThrow();
      assert.equal(Number(own.bytes_out), Buffer.byteLength(refused.text));
      const latency = JSON.parse(r.latency) as Record<string, number>;
      assert.equal(
        Object.values(latency).reduce((a, b) => a + b, 0),
        2,
      );

      // Filters: service, time range (dates or RFC 3339).
      const none = await w.gw.api('GET', `${USAGE}?service=heygen&group_by=service`);
      assert.deepEqual(none.body, { usage: [] });
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const later = await w.gw.api('GET', `${USAGE}?from=${tomorrow}`);
      assert.deepEqual(later.body, { usage: [] });
      const range = await w.gw.api('GET', `${USAGE}?from=2000-01-01T00:00:00Z&to=${tomorrow}&group_by=service`);
      assert.equal(range.body.usage[0].requests, 6);

      // CSV.
      const csv = await w.gw.api('GET', `${USAGE}?organization=${w.org}&group_by=action`, { headers: { accept: 'text/csv' } });
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      const lines = csv.text.trim().split(/\r?\n/);
      assert.equal(lines[0], 'key,requests,errors,units,bytes_out,p50_ms,p95_ms');
      assert.equal(lines.length, 5);
      assert.match(lines[3]!, /^elevenlabs\/text-to-speech,2,0,12,10000,/);
    } finally {
      await w.close();
    }
  });
}

test('usage report permissions and parameters', async () => {
  const w = await world();
  try {
    await seedOrg(w.gw, 'other');
    const otherAdmin = await seedKey(w.gw, 'other', 'admin');
    const member = await seedKey(w.gw, w.org, 'member');
    assert.equal((await w.invoke('list-voices')).status, 200);
    assert.equal((await w.invoke('list-voices', {}, {}, otherAdmin)).status, 200);

    // An org admin: its own organization, by default or by name.
    const own = await w.gw.api('GET', `${USAGE}?group_by=service`, { token: w.key });
    assert.equal(own.status, 200, own.text);
    assert.equal(own.body.usage[0].requests, 1);
    assert.equal((await w.gw.api('GET', `${USAGE}?organization=${w.org}`, { token: w.key })).status, 200);
    // Another organization, or one that does not exist, is 404 not_found.
    expectError(assert, await w.gw.api('GET', `${USAGE}?organization=other`, { token: w.key }), 404, 'not_found', 'Not found.');
    expectError(assert, await w.gw.api('GET', `${USAGE}?organization=nope`, { token: w.key }), 404, 'not_found', 'Not found.');
    expectError(assert, await w.gw.api('GET', `${USAGE}?organization=nope`), 404, 'not_found', 'Not found.');
    // A member key may not read usage.
    expectError(assert, await w.gw.api('GET', USAGE, { token: member }), 403, 'permission_denied', 'You do not have permission to perform this action.');
    expectError(assert, await w.gw.api('GET', USAGE, { token: null }), 401, 'not_authenticated', 'Authentication credentials were not provided.');
    // The platform sees everything.
    const all = await w.gw.api('GET', `${USAGE}?group_by=service`);
    assert.equal(all.body.usage[0].requests, 2);

    expectError(
      assert,
      await w.gw.api('GET', `${USAGE}?group_by=month`),
      400,
      'invalid_request',
      "Query parameter 'group_by' must be one of day, service, action, key.",
    );
    expectError(assert, await w.gw.api('GET', `${USAGE}?since=2020-01-01`), 400, 'invalid_request', "Unknown query parameter 'since'.");
    expectError(
      assert,
      await w.gw.api('GET', `${USAGE}?from=yesterday`),
      400,
      'invalid_request',
      "Query parameter 'from' must be an RFC 3339 date-time or a date (YYYY-MM-DD).",
    );
    expectError(assert, await w.gw.api('GET', `${USAGE}?from=2030-01-02&to=2030-01-01`), 400, 'invalid_request', "Query parameter 'from' must be before 'to'.");
    // Refused requests are metered too (status 429, no upstream status).
    await w.setLimits({ requests_per_minute: 0 });
    assert.equal((await w.invoke('list-voices')).status, 429);
    const after = await w.gw.api('GET', `${USAGE}?organization=${w.org}&group_by=service`);
    assert.deepEqual([after.body.usage[0].requests, after.body.usage[0].errors], [2, 1]);
  } finally {
    await w.close();
  }
});

test('metering is batched: no database write per invoke, at most one flush a second, a final flush on shutdown', async () => {
  const w = await world();
  try {
    for (let i = 0; i < 3; i++) await w.invoke('list-voices'); // warm caches
    await sleep(1100);
    const store = w.gw.gateway.ctx.store;
    const before = store.queryCount();
    const started = Date.now();
    for (let i = 0; i < 30; i++) assert.equal((await w.invoke('list-voices')).status, 200);
    const elapsed = Date.now() - started;
    const writes = store.queryCount() - before;
    // One flush per elapsed second at most (the API key's last_used_at batch may add one).
    assert.ok(writes <= Math.ceil(elapsed / 1000) + 1, `${writes} queries for 30 invokes in ${elapsed} ms`);
  } finally {
    await w.close();
  }

  // Rows recorded just before shutdown are written by the final flush.
  if (!(await databases()).includes('postgres')) return;
  const schema = freshSchema();
  try {
    const gw = await startGateway({ db: 'postgres', schema });
    await seedOrg(gw, 'acme');
    const key = await seedKey(gw, 'acme');
    for (let i = 0; i < 3; i++) await gw.api('POST', '/api/v1/external-proxy/elevenlabs/list-voices', { token: key, body: {} });
    await gw.close();
    const gw2 = await startGateway({ db: 'postgres', schema });
    try {
      const rows = await gw2.gateway.ctx.store.db.selectFrom('usage_rollups').select(['status', 'requests']).execute();
      assert.equal(
        rows.reduce((n, r) => n + Number(r.requests), 0),
        3,
      );
    } finally {
      await gw2.close();
    }
  } finally {
    await dropSchema(schema);
  }
});

test('rollups: interleaved dimensions and a minute boundary each get their own row', async () => {
  const { rollupEvents } = await import('../src/limits/usage.ts');
  const t = Date.UTC(2030, 0, 1, 10, 0, 30);
  const ev = (at: number, status: number, bytes: number) => ({
    at,
    organization: 'acme',
    api_key_id: 'k1',
    service: 'elevenlabs',
    action: 'list-voices',
    status,
    upstream_status: status,
    credential_source: 'platform',
    bytes_in: 2,
    bytes_out: bytes,
    duration_ms: 1.5,
    units: 0,
  });
  const rows = rollupEvents([ev(t, 200, 10), ev(t, 200, 20), ev(t + 1, 500, 7), ev(t + 2, 200, 30), ev(t + 40_000, 200, 5), ev(t + 40_001, 500, 1)]);
  const by = (minute: number, status: number) => rows.find((r) => r.minute === new Date(minute).toISOString() && r.status === status);
  const m0 = Date.UTC(2030, 0, 1, 10, 0, 0);
  const m1 = Date.UTC(2030, 0, 1, 10, 1, 0);
  assert.equal(rows.length, 4);
  assert.deepEqual([by(m0, 200)?.requests, by(m0, 200)?.bytes_out], [3, 60]);
  assert.deepEqual([by(m0, 500)?.requests, by(m0, 500)?.bytes_out], [1, 7]);
  assert.deepEqual([by(m1, 200)?.requests, by(m1, 200)?.bytes_out], [1, 5]);
  assert.deepEqual([by(m1, 500)?.requests, by(m1, 500)?.bytes_out], [1, 1]);
});
