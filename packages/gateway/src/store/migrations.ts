// Schema migrations, applied on start and by `portico migrate`. Kysely's migrator takes a
// lock (an advisory lock on PostgreSQL), so two processes starting at once are safe.
import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';
import type { Store } from './db.ts';
import { rollupEvents } from '../limits/usage.ts';
import type { UsageEvent } from './schema.ts';

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('plans')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('services', 'text')
        .addColumn('limits', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('organizations')
        .addColumn('slug', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('plan', 'text', (c) => c.references('plans.name'))
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('limits', 'text')
        .addColumn('cors_origins', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organization', 'text', (c) => c.notNull().references('organizations.slug').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('expires_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('api_keys_org').on('api_keys').columns(['organization', 'id']).execute();
      await db.schema
        .createTable('services')
        .addColumn('slug', 'text', (c) => c.primaryKey())
        .addColumn('definition', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('base_url', 'text')
        .addColumn('timeout_ms', 'integer')
        .addColumn('credential_policy', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('organization_services')
        .addColumn('organization', 'text', (c) => c.notNull().references('organizations.slug').onDelete('cascade'))
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('credential_policy', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('organization_services_pk', ['organization', 'service'])
        .execute();
      await db.schema
        .createTable('credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('organization', 'text', (c) => c.references('organizations.slug').onDelete('cascade'))
        .addColumn('label', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('masked', 'text', (c) => c.notNull())
        .addColumn('ciphertext', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema.createIndex('credentials_service').on('credentials').columns(['service', 'scope', 'organization']).execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('usage_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('organization', 'text', (c) => c.notNull())
        .addColumn('api_key_id', 'text')
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('upstream_status', 'integer')
        .addColumn('credential_source', 'text')
        .addColumn('bytes_in', 'bigint', (c) => c.notNull())
        .addColumn('bytes_out', 'bigint', (c) => c.notNull())
        .addColumn('duration_ms', 'real', (c) => c.notNull())
        .addColumn('units', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('usage_events_org_at').on('usage_events').columns(['organization', 'at']).execute();
      await db.schema
        .createTable('idempotency')
        .addColumn('organization', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('response', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_pk', ['organization', 'key'])
        .execute();
      await db.schema
        .createTable('admin_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('organization', 'text')
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002_usage_rollups': {
    // Usage is kept per minute and per (organization, key, service, action, status, upstream
    // status, credential source) instead of one row per invoke: the hot path only counts in
    // memory, and the table grows with traffic's variety, not its volume. Existing rows are
    // folded into rollups, then the per-invoke table is dropped.
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('usage_rollups')
        .addColumn('minute', 'text', (c) => c.notNull())
        .addColumn('organization', 'text', (c) => c.notNull())
        .addColumn('api_key_id', 'text')
        .addColumn('service', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('upstream_status', 'integer')
        .addColumn('credential_source', 'text')
        .addColumn('requests', 'bigint', (c) => c.notNull())
        .addColumn('units', 'bigint', (c) => c.notNull())
        .addColumn('bytes_in', 'bigint', (c) => c.notNull())
        .addColumn('bytes_out', 'bigint', (c) => c.notNull())
        .addColumn('duration_ms_sum', 'real', (c) => c.notNull())
        .addColumn('latency', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('usage_rollups_org_minute').on('usage_rollups').columns(['organization', 'minute']).execute();
      for (let after = ''; ;) {
        const events = await db.selectFrom('usage_events').selectAll().where('id', '>', after).orderBy('id').limit(5000).execute();
        if (events.length === 0) break;
        after = events[events.length - 1].id;
        const rollups = rollupEvents(events.map((e) => ({ ...e, at: Date.parse(e.at as string) }) as UsageEvent));
        for (let i = 0; i < rollups.length; i += 500)
          await db
            .insertInto('usage_rollups')
            .values(rollups.slice(i, i + 500))
            .execute();
      }
      await db.schema.dropTable('usage_events').execute();
    },
  },
};

/**
 * Kysely's Migrator asks whether its two tables exist by listing every column of every schema and
 * resolving each one by name (pg_get_serial_sequence), so a schema that another process drops
 * meanwhile (parallel test runs, another deployment on the same database) fails that check with
 * 3F000, 42P01 or 42703. On PostgreSQL it gets an introspector that lists this schema's tables
 * only, by catalog row rather than by name.
 */
function scopedToSchema(db: Kysely<any>, schema: string | null | undefined): Kysely<any> {
  const introspection = {
    getSchemas: () => db.introspection.getSchemas(),
    getTables: async () => {
      const { rows } = await sql<{ name: string; schema: string }>`
        select table_name as name, table_schema as schema from information_schema.tables
        where table_schema = coalesce(${schema ?? null}, current_schema())`.execute(db);
      return rows.map((r) => ({ name: r.name, schema: r.schema, isView: false, columns: [] }));
    },
  };
  return new Proxy(db, {
    get(target, key) {
      if (key === 'introspection') return introspection;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Applies every migration (or those up to `upTo`, for tests of a migration); returns the names applied. */
export async function migrate(store: Store, upTo?: string): Promise<string[]> {
  if (store.kind === 'postgres' && store.pgSchema) {
    // Two processes may race here; IF NOT EXISTS plus the unique catalog name keeps it safe.
    await sql`create schema if not exists ${sql.id(store.pgSchema)}`.execute(store.db).catch((err: { code?: string }) => {
      if (err.code !== '23505' && err.code !== '42P06') throw err;
    });
  }
  const migrator = new Migrator({
    db: store.kind === 'postgres' ? scopedToSchema(store.db, store.pgSchema) : store.db,
    provider: { getMigrations: async () => migrations },
    ...(store.pgSchema ? { migrationTableSchema: store.pgSchema } : {}),
  });
  const { error, results } = await (upTo ? migrator.migrateTo(upTo) : migrator.migrateToLatest());
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
