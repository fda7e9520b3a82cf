import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/config.ts';

const KEY = Buffer.alloc(32, 1).toString('base64');
const base = { PORTICO_MASTER_KEY: KEY, PORTICO_ADMIN_TOKEN: 'a-long-enough-admin-token' };

function fails(env: Record<string, string>, variable: string, reason: RegExp): void {
  assert.throws(
    () => loadConfig({ ...base, ...env }, mkdtempSync(join(tmpdir(), 'portico-cfg-'))),
    (err: unknown) => err instanceof ConfigError && err.message.startsWith(`${variable}: `) && reason.test(err.message) && !err.message.includes('\n'),
  );
}

test('defaults follow SPEC §2', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'portico-cfg-'));
  const c = loadConfig({ ...base }, cwd);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 8080);
  assert.deepEqual(c.database, { kind: 'sqlite', filename: join(cwd, 'data', 'portico.db') });
  assert.equal(c.redisUrl, null);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.bodyLimit, 10 * 1024 * 1024);
  assert.equal(c.uploadLimit, 100 * 1024 * 1024);
  assert.equal(c.bodyTimeoutMs, 30_000);
});

test('every variable is honoured', () => {
  const c = loadConfig(
    {
      ...base,
      PORTICO_PORT: '9000',
      PORTICO_HOST: '0.0.0.0',
      PORTICO_DATABASE_URL: 'postgres://u@127.0.0.1:5432/db?schema=s1',
      PORTICO_REDIS_URL: 'redis://127.0.0.1:6379',
      PORTICO_BASE_URL_ELEVENLABS: 'http://127.0.0.1:9001/',
      PORTICO_BASE_URL_MY_SERVICE: 'https://example.test',
      PORTICO_LOG_LEVEL: 'debug',
      PORTICO_BODY_LIMIT: '2048',
      PORTICO_UPLOAD_LIMIT: '4096',
      PORTICO_BODY_TIMEOUT_MS: '5000',
    },
    '/tmp',
  );
  assert.equal(c.port, 9000);
  assert.equal(c.host, '0.0.0.0');
  assert.deepEqual(c.database, { kind: 'postgres', url: 'postgres://u@127.0.0.1:5432/db', schema: 's1' });
  assert.equal(c.redisUrl, 'redis://127.0.0.1:6379');
  assert.equal(c.baseUrlOverrides.get('elevenlabs'), 'http://127.0.0.1:9001');
  assert.equal(c.baseUrlOverrides.get('my-service'), 'https://example.test');
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.bodyLimit, 2048);
  assert.equal(c.uploadLimit, 4096);
  assert.equal(c.bodyTimeoutMs, 5000);
  assert.equal(c.masterKey.length, 32);
  assert.equal(loadConfig({ ...base, PORTICO_DATABASE_URL: 'sqlite::memory:' }).database.kind, 'sqlite');
});

test('bad values name the variable in one line', () => {
  fails({ PORTICO_PORT: '99999' }, 'PORTICO_PORT', /between 0 and 65535/);
  fails({ PORTICO_PORT: 'abc' }, 'PORTICO_PORT', /integer/);
  fails({ PORTICO_DATABASE_URL: 'mysql://x' }, 'PORTICO_DATABASE_URL', /unsupported URL scheme 'mysql'/);
  fails({ PORTICO_REDIS_URL: 'http://x' }, 'PORTICO_REDIS_URL', /scheme/);
  fails({ PORTICO_MASTER_KEY: 'short' }, 'PORTICO_MASTER_KEY', /32 bytes/);
  fails({ PORTICO_BASE_URL_ELEVENLABS: 'ftp://x' }, 'PORTICO_BASE_URL_ELEVENLABS', /unsupported URL scheme 'ftp'/);
  fails({ PORTICO_LOG_LEVEL: 'loud' }, 'PORTICO_LOG_LEVEL', /one of/);
  fails({ PORTICO_BODY_LIMIT: '-1' }, 'PORTICO_BODY_LIMIT', /integer/);
  fails({ PORTICO_BODY_TIMEOUT_MS: '10' }, 'PORTICO_BODY_TIMEOUT_MS', /between 100 and 3600000/);
  fails({ PORTICO_ADMIN_TOKEN: 'short' }, 'PORTICO_ADMIN_TOKEN', /16 characters/);
});

test('missing master key and admin token are generated once with mode 0600', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'portico-cfg-'));
  const first = loadConfig({}, cwd);
  assert.equal(first.notices.length, 2);
  assert.ok(first.notices.every((n) => n.includes('mode 0600')));
  assert.ok(!first.notices.some((n) => n.includes(first.adminToken)), 'notices never contain the token');
  for (const f of ['master.key', 'admin-token']) {
    assert.equal(statSync(join(cwd, 'data', f)).mode & 0o777, 0o600);
  }
  assert.equal(Buffer.from(readFileSync(join(cwd, 'data', 'master.key'), 'utf8').trim(), 'base64').length, 32);
  const second = loadConfig({}, cwd);
  assert.equal(second.notices.length, 0);
  assert.deepEqual(second.masterKey, first.masterKey);
  assert.equal(second.adminToken, first.adminToken);
});
