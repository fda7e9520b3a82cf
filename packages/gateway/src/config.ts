// Environment → typed Config. The one place that reads process.env (SPEC §2).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export type DatabaseConfig =
  | { kind: 'sqlite'; filename: string } // ':memory:' or an absolute path
  | { kind: 'postgres'; url: string; schema: string | null };

export interface Config {
  host: string;
  port: number;
  database: DatabaseConfig;
  redisUrl: string | null;
  /** Prefix of every Redis key and channel of this deployment (PORTICO_REDIS_PREFIX). */
  redisPrefix: string;
  /** Concurrency leases and in-flight idempotency records expire after this unless renewed (SPEC §13). */
  leaseMs: number;
  /** `portico serve` processes on this machine (PORTICO_WORKERS, `--workers N`; node:cluster). */
  workers: number;
  /** 32-byte master key and its id (first 8 hex chars of its SHA-256), for credential encryption. */
  masterKey: Buffer;
  adminToken: string;
  /** PORTICO_BASE_URL_<SERVICE> overrides, keyed by service slug form of the suffix (lower case, `_` → `-`). */
  baseUrlOverrides: Map<string, string>;
  logLevel: string;
  bodyLimit: number;
  uploadLimit: number;
  corsOrigins: string[];
  dataDir: string;
  catalogDir: string | null;
  /** Cool-down after an upstream 401/402/403 on a pooled key (SPEC §6.5: 10 minutes). */
  authCooldownMs: number;
  shutdownTimeoutMs: number;
  /** Longest pause while an invoke's body arrives before the client is answered 400 and disconnected. */
  bodyTimeoutMs: number;
  /** Human-readable notes for start-up (generated files); never contain secrets. */
  notices: string[];
}

export class ConfigError extends Error {
  constructor(variable: string, reason: string) {
    super(`${variable}: ${reason}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

function intVar(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer between ${min} and ${max} (got '${raw}')`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(name, `must be an integer between ${min} and ${max} (got ${n})`);
  return n;
}

function httpUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `unsupported URL scheme '${url.protocol.slice(0, -1)}' (use http or https)`);
  }
  return raw.replace(/\/+$/, '');
}

export function parseDatabaseUrl(raw: string, cwd: string): DatabaseConfig {
  const name = 'PORTICO_DATABASE_URL';
  if (raw === 'sqlite::memory:') return { kind: 'sqlite', filename: ':memory:' };
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new ConfigError(name, 'sqlite URL needs a path (sqlite:./data/portico.db or sqlite::memory:)');
    return { kind: 'sqlite', filename: resolve(cwd, path) };
  }
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(name, 'is not a valid postgres URL');
    }
    // `?schema=NAME` selects a schema (search_path); tests use one per run.
    const schema = url.searchParams.get('schema');
    if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new ConfigError(name, `schema must match [a-z_][a-z0-9_]* (got '${schema}')`);
    }
    url.searchParams.delete('schema');
    return { kind: 'postgres', url: url.toString(), schema };
  }
  const scheme = raw.includes(':') ? raw.slice(0, raw.indexOf(':')) : raw;
  throw new ConfigError(name, `unsupported URL scheme '${scheme}' (use sqlite:PATH, sqlite::memory: or postgres://)`);
}

/** Reads a secret from `file`, or creates it with `make()` and mode 0600. */
function secretFile(file: string, make: () => string, notices: string[], what: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const value = make();
  writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' });
  notices.push(`${what} was not set; generated one into ${file} (mode 0600)`);
  return value;
}

function parseMasterKey(name: string, raw: string): Buffer {
  const trimmed = raw.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new ConfigError(name, 'must be 32 bytes encoded as base64 (e.g. `openssl rand -base64 32`)');
  }
  return key;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): Config {
  const notices: string[] = [];
  const dataDir = resolve(cwd, env.PORTICO_DATA_DIR || 'data');
  const host = env.PORTICO_HOST || '127.0.0.1';
  const port = intVar(env, 'PORTICO_PORT', 8080, 0, 65535);
  const database = parseDatabaseUrl(env.PORTICO_DATABASE_URL || `sqlite:${resolve(dataDir, 'portico.db')}`, cwd);

  let redisUrl: string | null = null;
  if (env.PORTICO_REDIS_URL) {
    const raw = env.PORTICO_REDIS_URL;
    if (!/^rediss?:\/\//.test(raw)) throw new ConfigError('PORTICO_REDIS_URL', `unsupported URL scheme (use redis:// or rediss://)`);
    redisUrl = raw;
  }
  const redisPrefix = env.PORTICO_REDIS_PREFIX ?? 'portico:';
  if (!/^[\x21-\x7e]{0,64}$/.test(redisPrefix)) throw new ConfigError('PORTICO_REDIS_PREFIX', 'must be at most 64 visible ASCII characters');

  const logLevel = (env.PORTICO_LOG_LEVEL || 'info').toLowerCase();
  if (!LOG_LEVELS.has(logLevel)) throw new ConfigError('PORTICO_LOG_LEVEL', `must be one of ${[...LOG_LEVELS].join(', ')}`);

  const baseUrlOverrides = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('PORTICO_BASE_URL_') || !value) continue;
    const slug = name.slice('PORTICO_BASE_URL_'.length).toLowerCase().replace(/_/g, '-');
    baseUrlOverrides.set(slug, httpUrl(name, value));
  }

  const corsOrigins = (env.PORTICO_CORS_ORIGINS || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((o) => (o === '*' ? o : httpUrl('PORTICO_CORS_ORIGINS', o)));

  const masterKey = env.PORTICO_MASTER_KEY
    ? parseMasterKey('PORTICO_MASTER_KEY', env.PORTICO_MASTER_KEY)
    : parseMasterKey(
        resolve(dataDir, 'master.key'),
        secretFile(resolve(dataDir, 'master.key'), () => randomBytes(32).toString('base64'), notices, 'PORTICO_MASTER_KEY'),
      );

  let adminToken = env.PORTICO_ADMIN_TOKEN ?? '';
  if (adminToken === '') {
    adminToken = secretFile(resolve(dataDir, 'admin-token'), () => 'ptc_admin_' + randomBytes(24).toString('base64url'), notices, 'PORTICO_ADMIN_TOKEN');
  } else if (adminToken.length < 16) {
    throw new ConfigError('PORTICO_ADMIN_TOKEN', 'must be at least 16 characters');
  }

  return {
    host,
    port,
    database,
    redisUrl,
    redisPrefix,
    leaseMs: intVar(env, 'PORTICO_LEASE_MS', 30_000, 1000, 600_000),
    workers: intVar(env, 'PORTICO_WORKERS', 1, 1, 1024),
    masterKey,
    adminToken,
    baseUrlOverrides,
    logLevel,
    bodyLimit: intVar(env, 'PORTICO_BODY_LIMIT', 10 * 1024 * 1024, 1024, 2 ** 31),
    uploadLimit: intVar(env, 'PORTICO_UPLOAD_LIMIT', 100 * 1024 * 1024, 1024, 2 ** 40),
    corsOrigins,
    dataDir,
    catalogDir: env.PORTICO_CATALOG_DIR ? resolve(cwd, env.PORTICO_CATALOG_DIR) : null,
    authCooldownMs: intVar(env, 'PORTICO_AUTH_COOLDOWN_MS', 10 * 60 * 1000, 0, 2 ** 31),
    shutdownTimeoutMs: intVar(env, 'PORTICO_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    bodyTimeoutMs: intVar(env, 'PORTICO_BODY_TIMEOUT_MS', 30_000, 100, 3_600_000),
    notices,
  };
}
