// One Kysely database over SQLite (better-sqlite3) or PostgreSQL (pg). Repositories are
// written once against the portable subset: text timestamps (RFC 3339), 0/1 booleans and
// JSON stored as text, so the same queries run on both.
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseConfig } from '../config.ts';
import type { DB } from './schema.ts';

export interface Store {
  db: Kysely<DB>;
  kind: 'sqlite' | 'postgres';
  /** Queries run so far (tests use it to prove the hot path does none). */
  queryCount(): number;
  /** Cheap liveness check for /readyz. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /** The pg pool, for LISTEN/NOTIFY (postgres only). */
  pgPool: pg.Pool | null;
  /** The SQLite handle, for prepared bulk writes (usage metering). */
  sqlite: Database.Database | null;
  pgSchema: string | null;
}

async function ping(db: Kysely<DB>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

export function openStore(config: DatabaseConfig): Store {
  let queries = 0;
  const log = () => {
    queries++;
  };
  if (config.kind === 'sqlite') {
    if (config.filename !== ':memory:') mkdirSync(dirname(config.filename), { recursive: true });
    const sqlite = new Database(config.filename);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }), log });
    return {
      db,
      kind: 'sqlite',
      queryCount: () => queries,
      ping: () => ping(db),
      close: () => db.destroy(),
      pgPool: null,
      sqlite,
      pgSchema: null,
    };
  }

  const pool = new pg.Pool({ connectionString: config.url, max: 10, connectionTimeoutMillis: 5000 });
  // A pool error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  if (config.schema) {
    const schema = config.schema;
    // Each new connection works in the configured schema; the SET is queued before any query.
    pool.on('connect', (client) => {
      client.query(`SET search_path TO "${schema}"`).catch(() => {});
    });
  }
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), log });
  return {
    db,
    kind: 'postgres',
    queryCount: () => queries,
    ping: () => ping(db),
    close: () => db.destroy(),
    pgPool: pool,
    sqlite: null,
    pgSchema: config.schema,
  };
}
