// Migrations: idempotent, and safe when several processes start at once on one PostgreSQL schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openStore } from '../src/store/db.ts';
import { migrate } from '../src/store/migrations.ts';
import { PG_URL, dropSchema, freshSchema, postgresAvailable } from './helpers.ts';

test('SQLite: the file is created, WAL is on, a second run applies nothing', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'portico-store-')), 'nested', 'portico.db');
  const store = openStore({ kind: 'sqlite', filename: file });
  try {
    assert.deepEqual(await migrate(store), ['0001_initial']);
    assert.deepEqual(await migrate(store), []);
    assert.ok(existsSync(file));
    const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
    assert.equal(mode.rows[0]!.journal_mode, 'wal');
  } finally {
    await store.close();
  }
});

test('PostgreSQL: three stores migrating one fresh schema at once all succeed, once', async (t) => {
  if (!(await postgresAvailable())) return t.skip('PostgreSQL unreachable');
  const schema = freshSchema();
  const stores = [0, 1, 2].map(() => openStore({ kind: 'postgres', url: PG_URL, schema }));
  try {
    const applied = await Promise.all(stores.map((s) => migrate(s)));
    assert.equal(applied.flat().filter((m) => m === '0001_initial').length, 1, 'applied exactly once');
    assert.deepEqual(await migrate(stores[0]!), []);
    const rows = await stores[1]!.db.selectFrom('organizations').selectAll().execute();
    assert.deepEqual(rows, []);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await dropSchema(schema);
  }
});
