// Test harness: a real gateway listening on 127.0.0.1 with a real database (SQLite in memory
// or a fresh PostgreSQL schema), plus small HTTP helpers. Logs are captured for secret scans.
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { createGateway, type Gateway } from '../src/server.ts';
import { createLogger } from '../src/logger.ts';

export const PG_URL = process.env.PORTICO_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.PORTICO_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let pgAvailable: Promise<boolean> | null = null;

/** Whether the PostgreSQL server answers; prints the reason once when it does not. */
export function postgresAvailable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch (err) {
      console.log(`# skipping PostgreSQL tests: ${PG_URL} unreachable (${(err as Error).message})`);
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return pgAvailable;
}

/** The databases to run store-backed tests on: SQLite always, PostgreSQL when reachable. */
export async function databases(): Promise<('sqlite' | 'postgres')[]> {
  return (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

export function freshSchema(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

export interface TestGateway {
  url: string;
  adminToken: string;
  gateway: Gateway;
  logs: string[];
  close(): Promise<void>;
  api(method: string, path: string, opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export async function startGateway(opts: { db?: 'sqlite' | 'postgres'; env?: Record<string, string>; schema?: string } = {}): Promise<TestGateway> {
  const db = opts.db ?? 'sqlite';
  const schema = db === 'postgres' ? (opts.schema ?? freshSchema()) : null;
  const env: Record<string, string> = {
    PORTICO_PORT: '0',
    PORTICO_DATABASE_URL: db === 'postgres' ? `${PG_URL}?schema=${schema}` : 'sqlite::memory:',
    PORTICO_ADMIN_TOKEN: ADMIN_TOKEN,
    PORTICO_MASTER_KEY: MASTER_KEY,
    PORTICO_LOG_LEVEL: 'info',
    ...opts.env,
  };
  const config = loadConfig(env);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const gateway = await createGateway(config, { logger: createLogger(config.logLevel, sink) });
  const url = await gateway.listen();
  const api: TestGateway['api'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const token = o.token === undefined ? ADMIN_TOKEN : o.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };
  return {
    url,
    adminToken: ADMIN_TOKEN,
    gateway,
    logs,
    api,
    async close() {
      await gateway.close();
      if (schema && !opts.schema) await dropSchema(schema);
    },
  };
}

/** Asserts a gateway error envelope exactly (SPEC §7). */
export function expectError(assert: typeof import('node:assert/strict'), res: ApiResponse, status: number, code: string, message: string): void {
  assert.equal(res.status, status, `status (body: ${res.text})`);
  assert.equal(res.body?.error?.code, code, `code (body: ${res.text})`);
  assert.equal(res.body.error.message, message);
  assert.equal(res.body.detail, message);
  const requestId = res.headers.get('x-request-id');
  assert.ok(requestId, 'x-request-id header');
  assert.equal(res.body.request_id, requestId);
  assert.equal(res.headers.get('x-error-source'), 'gateway');
  assert.equal(typeof res.body.error.type, 'string');
}
