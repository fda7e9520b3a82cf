// The things put in front of the upstream, each started as its own process on core 0:
// (a) nothing, (b) the undici proxy, (c) nginx, (d) Portico on SQLite, (e) Portico on
// PostgreSQL, (f) the Portkey gateway. Each start() either returns a running target or throws
// a Skip with the reason, which the report prints.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_KEY, type Dialect } from './scenarios.ts';
import { freePort, start, waitForHttp, type Proc } from './proc.ts';

export type TargetId = 'direct' | 'undici' | 'nginx' | 'portico-sqlite' | 'portico-pg' | 'portkey' | 'portico-limits';

export const TARGETS: { id: TargetId; letter: string; label: string }[] = [
  { id: 'direct', letter: 'a', label: 'no proxy (direct to upstream)' },
  { id: 'undici', letter: 'b', label: 'node:http + undici Pool.stream proxy' },
  { id: 'nginx', letter: 'c', label: 'nginx, 1 worker, proxy_pass + keepalive' },
  { id: 'portico-sqlite', letter: 'd', label: 'Portico (SQLite)' },
  { id: 'portico-pg', letter: 'e', label: 'Portico (PostgreSQL)' },
  { id: 'portkey', letter: 'f', label: 'Portkey gateway (peer)' },
  { id: 'portico-limits', letter: 'g', label: 'Portico (SQLite), limits enforced through Redis' },
];

export class Skip extends Error {}

export interface Env {
  root: string;
  tmp: string;
  node: string;
  upstream: string;
  pgUrl: string;
  /** Directory for --cpu-prof output when profiling Portico. */
  cpuProfDir?: string;
  /** Multiplies every target's start-up wait: bench:ir starts targets under valgrind, several times slower. */
  startFactor?: number;
  log(msg: string): void;
}

export interface Running {
  dialect: Dialect;
  /** The proxy process (null for the direct run). */
  proc: Proc | null;
  info: Record<string, string>;
  stop(): Promise<void>;
}

/** How long a target may take to start: its own bound, times `env.startFactor`. */
const startWait = (env: Env, ms: number): number => ms * (env.startFactor ?? 1);

export async function startTarget(id: TargetId, env: Env): Promise<Running> {
  switch (id) {
    case 'direct':
      return { dialect: { kind: 'raw', base: env.upstream, injectKey: true }, proc: null, info: {}, stop: async () => {} };
    case 'undici':
      return startUndici(env);
    case 'nginx':
      return startNginx(env);
    case 'portico-sqlite':
      return startPortico(env, 'sqlite');
    case 'portico-pg':
      return startPortico(env, 'postgres');
    case 'portkey':
      return startPortkey(env);
    case 'portico-limits':
      return startPortico(env, 'sqlite', true);
  }
}

async function startUndici(env: Env): Promise<Running> {
  const prof = env.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', env.cpuProfDir] : [];
  const proc = start('undici-proxy', env.node, [...prof, join(env.root, 'bench/baselines/undici-proxy.ts')], {
    core: 0,
    env: { ...process.env, BENCH_UPSTREAM: env.upstream, BENCH_KEY },
  });
  const m = await proc.waitForLine(/^listening (\d+)/, startWait(env, 15_000));
  let undiciVersion = '';
  try {
    undiciVersion = JSON.parse(readFileSync(join(env.root, 'node_modules/undici/package.json'), 'utf8')).version;
  } catch {
    /* unknown */
  }
  return { dialect: { kind: 'raw', base: `http://127.0.0.1:${m[1]}`, injectKey: false }, proc, info: { undici: undiciVersion }, stop: () => proc.stop() };
}

// ---- nginx -------------------------------------------------------------------------------

function nginxBinary(): string | null {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/usr/bin/nginx']) if (existsSync(p)) return p;
  const w = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  return w.status === 0 && w.stdout.trim() ? w.stdout.trim() : null;
}

/** Finds nginx, or installs Debian's nginx-light (bench time only, as root). */
export function ensureNginx(log: (m: string) => void): { bin: string; version: string } {
  let bin = nginxBinary();
  if (!bin) {
    if (process.getuid?.() !== 0) throw new Skip('nginx is not installed and the harness is not root (install nginx-light or nginx with apt-get)');
    if (spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).status !== 0) throw new Skip('nginx is not installed and apt-get is not available');
    const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = (): ReturnType<typeof spawnSync> =>
      spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'nginx-light'], { encoding: 'utf8', env: aptEnv, timeout: 180_000 });
    log('nginx not found: apt-get install -y nginx-light');
    let r = install();
    if (r.status !== 0) {
      log('apt-get install failed; apt-get update and retry');
      spawnSync('apt-get', ['update'], { encoding: 'utf8', env: aptEnv, timeout: 180_000 });
      r = install();
    }
    bin = nginxBinary();
    if (r.status !== 0 || !bin) {
      const tail = String(r.stderr ?? '')
        .trim()
        .split('\n')
        .slice(-2)
        .join(' ');
      throw new Skip(`nginx could not be installed with apt-get (exit ${r.status}${tail ? `: ${tail}` : ''})`);
    }
  }
  const v = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  const version = /nginx\/(\S+)/.exec(`${v.stderr}${v.stdout}`)?.[1] ?? 'unknown';
  return { bin, version };
}

async function startNginx(env: Env): Promise<Running> {
  const { bin, version } = ensureNginx(env.log);
  const dir = join(env.tmp, 'nginx');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const port = await freePort();
  const up = new URL(env.upstream);
  const conf = `# generated by bench/lib/targets.ts
worker_processes 1;
daemon off;
master_process on;
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  upstream bench_upstream {
    server ${up.hostname}:${up.port};
    keepalive 128;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location = /__bench_ready { return 200 "ok"; }
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header xi-api-key "${BENCH_KEY}";
      proxy_buffering off;
      proxy_request_buffering on;
    }
  }
}
`;
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const proc = start('nginx', bin, ['-p', dir, '-c', confPath, '-e', `${dir}/logs/error.log`], { core: 0 });
  await waitForHttp(`http://127.0.0.1:${port}/__bench_ready`, startWait(env, 10_000), proc);
  return {
    dialect: { kind: 'raw', base: `http://127.0.0.1:${port}`, injectKey: false },
    proc,
    info: { nginx: version, config: confPath },
    stop: () => proc.stop(),
  };
}

// ---- Portico -----------------------------------------------------------------------------

async function api(base: string, token: string, method: string, path: string, body: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text };
}

/** SPEC §8 bootstrap: organization, admin API key, platform ElevenLabs credential. */
async function bootstrap(base: string, adminToken: string): Promise<string | { missing: string }> {
  const org = await api(base, adminToken, 'POST', '/api/v1/admin/organizations', { slug: 'bench', name: 'Benchmark' });
  if (org.status === 404 || org.status === 405) return { missing: `POST /api/v1/admin/organizations answered ${org.status}` };
  if (org.status !== 201) throw new Error(`create organization: ${org.status} ${org.text}`);
  const key = await api(base, adminToken, 'POST', '/api/v1/admin/organizations/bench/api-keys', { name: 'bench', role: 'admin' });
  if (key.status !== 201 || typeof key.json?.key !== 'string') throw new Error(`create API key: ${key.status} ${key.text}`);
  const cred = await api(base, adminToken, 'POST', '/api/v1/admin/credentials', {
    service: 'elevenlabs',
    scope: 'platform',
    label: 'bench',
    secret: { key: BENCH_KEY },
  });
  if (cred.status !== 201) throw new Error(`create credential: ${cred.status} ${cred.text}`);
  return key.json.key as string;
}

export function porticoLauncher(root: string): { args: string[]; how: string } {
  const cli = join(root, 'packages/cli/src/main.ts');
  // As `npm start` runs it; BENCH_PORTICO_FLAGS adds Node/V8 flags for experiments.
  const flags = (process.env.BENCH_PORTICO_FLAGS ?? '').split(' ').filter(Boolean);
  if (existsSync(cli)) return { args: [...flags, cli, 'serve'], how: `node ${flags.map((f) => f + ' ').join('')}packages/cli/src/main.ts serve` };
  return {
    args: [join(root, 'bench/portico-server.ts')],
    how: 'node bench/portico-server.ts (serve(process.env); the CLI entry packages/cli/src/main.ts does not exist yet)',
  };
}

async function pgDropSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

async function pgReachable(url: string): Promise<string | null> {
  try {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    await client.connect();
    await client.query('select 1');
    await client.end();
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  }
}

async function startPortico(env: Env, db: 'sqlite' | 'postgres', limits = false): Promise<Running> {
  const dataDir = join(env.tmp, `portico-${db}${limits ? '-limits' : ''}`);
  mkdirSync(dataDir, { recursive: true });
  let schema: string | null = null;
  let databaseUrl = `sqlite:${join(dataDir, 'portico.db')}`;
  if (db === 'postgres') {
    const why = await pgReachable(env.pgUrl);
    if (why) throw new Skip(`PostgreSQL at ${env.pgUrl} unreachable (${why})`);
    schema = `bench_${randomBytes(5).toString('hex')}`;
    databaseUrl = `${env.pgUrl}${env.pgUrl.includes('?') ? '&' : '?'}schema=${schema}`;
  }
  const adminToken = `bench_admin_${randomBytes(16).toString('hex')}`;
  const porticoEnv: NodeJS.ProcessEnv = {
    ...process.env,
    PORTICO_HOST: '127.0.0.1',
    PORTICO_DATABASE_URL: databaseUrl,
    PORTICO_DATA_DIR: dataDir,
    PORTICO_ADMIN_TOKEN: adminToken,
    PORTICO_MASTER_KEY: randomBytes(32).toString('base64'),
    PORTICO_BASE_URL_ELEVENLABS: env.upstream,
    PORTICO_LOG_LEVEL: 'warn',
    // (g): every invoke checks a per-minute and a concurrency limit in Redis (one round trip).
    ...(limits
      ? { PORTICO_REDIS_URL: process.env.PORTICO_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', PORTICO_REDIS_PREFIX: `bench:${randomBytes(4).toString('hex')}:` }
      : {}),
  };
  const nodeArgs = env.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', env.cpuProfDir] : [];
  const launcher = porticoLauncher(env.root);
  const info: Record<string, string> = { started_with: launcher.how, database: db === 'sqlite' ? 'SQLite file' : `PostgreSQL schema ${schema}` };
  const dropSchema = async (): Promise<void> => {
    if (schema) await pgDropSchema(env.pgUrl, schema).catch((err: Error) => env.log(`could not drop schema ${schema}: ${err.message}`));
  };

  const launch = async (seed: boolean): Promise<{ proc: Proc; base: string; key: string | { missing: string } }> => {
    const port = await freePort();
    const args = seed ? [join(env.root, 'bench/portico-server.ts')] : launcher.args;
    const proc = start(`portico-${db}`, env.node, [...nodeArgs, ...args], {
      core: 0,
      cwd: env.root,
      env: { ...porticoEnv, PORTICO_PORT: String(port), ...(seed ? { BENCH_PORTICO_SEED: '1' } : {}) },
    });
    const base = `http://127.0.0.1:${port}`;
    try {
      if (seed) {
        const m = await proc.waitForLine(/^seeded (.*)$/, startWait(env, 60_000));
        return { proc, base, key: (JSON.parse(m[1]!) as { key: string }).key };
      }
      await waitForHttp(`${base}/healthz`, startWait(env, 60_000), proc);
      return { proc, base, key: await bootstrap(base, adminToken) };
    } catch (err) {
      await proc.stop();
      throw err;
    }
  };

  try {
    let r = await launch(false);
    if (typeof r.key !== 'string') {
      env.log(`Portico admin API not available (${r.key.missing}); falling back to the test fixtures' direct seeding`);
      await r.proc.stop();
      info.bootstrap = `test fixtures (packages/gateway/test/fixtures.ts) — ${r.key.missing}`;
      r = await launch(true);
    } else info.bootstrap = 'admin API (organization, admin API key, platform credential)';
    if (limits) {
      // Limits high enough never to refuse, so every request pays the full check.
      const set = await api(r.base, adminToken, 'PATCH', '/api/v1/admin/organizations/bench', {
        limits: { requests_per_minute: 1_000_000_000, concurrent_requests: 100_000 },
      });
      if (set.status !== 200) throw new Error(`set limits: ${set.status} ${set.text}`);
      info.limits = 'requests_per_minute and concurrent_requests through Redis';
    }
    const { proc, base } = r;
    const key = r.key as string;
    // One real invoke before any load: fails fast with the gateway's own error if the setup is wrong.
    const probe = await fetch(`${base}/api/v1/external-proxy/elevenlabs/list-voices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const text = await probe.text();
    if (probe.status !== 200) {
      await proc.stop();
      throw new Error(`probe invoke list-voices answered ${probe.status}: ${text.slice(0, 300)}`);
    }
    return {
      dialect: { kind: 'portico', base, apiKey: key },
      proc,
      info,
      async stop() {
        await proc.stop(15_000);
        await dropSchema();
      },
    };
  } catch (err) {
    await dropSchema();
    throw err;
  }
}

// ---- Portkey -----------------------------------------------------------------------------

const PORTKEY_PINS = { '@portkey-ai/gateway': '1.15.2', '@hono/node-server': '1.14.1', '@hono/node-ws': '1.2.0' };

/** Installs the Portkey gateway into a scratch dir outside the repo's dependencies (bench time only). */
export function ensurePortkey(root: string, log: (m: string) => void): { dir: string; version: string } {
  const dir = join(root, '.bench-tmp/portkey');
  const pkgFile = join(dir, 'node_modules/@portkey-ai/gateway/package.json');
  const installed = (): string | null => {
    try {
      const v = JSON.parse(readFileSync(pkgFile, 'utf8')).version as string;
      const hono = JSON.parse(readFileSync(join(dir, 'node_modules/@hono/node-server/package.json'), 'utf8')).version as string;
      return hono === PORTKEY_PINS['@hono/node-server'] ? v : null;
    } catch {
      return null;
    }
  };
  let version = installed();
  if (!version) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify(
        {
          name: 'portkey-bench-scratch',
          private: true,
          dependencies: PORTKEY_PINS,
          overrides: { '@hono/node-server': PORTKEY_PINS['@hono/node-server'], '@hono/node-ws': PORTKEY_PINS['@hono/node-ws'] },
        },
        null,
        2,
      ),
    );
    log(
      `installing ${Object.entries(PORTKEY_PINS)
        .map(([n, v]) => `${n}@${v}`)
        .join(' ')} into .bench-tmp/portkey`,
    );
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 240_000,
    });
    version = installed();
    if (r.status !== 0 || !version) {
      const tail = `${r.stderr ?? ''}`.trim().split('\n').slice(-2).join(' ');
      throw new Skip(`npm install of @portkey-ai/gateway failed (exit ${r.status}${tail ? `: ${tail}` : ''})`);
    }
  }
  return { dir, version };
}

async function startPortkey(env: Env): Promise<Running> {
  const { dir, version } = ensurePortkey(env.root, env.log);
  const port = await freePort();
  const proc = start('portkey', env.node, [join(dir, 'node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${port}`, '--headless'], {
    core: 0,
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  await waitForHttp(`http://127.0.0.1:${port}/`, startWait(env, 30_000), proc);
  return {
    dialect: { kind: 'portkey', base: `http://127.0.0.1:${port}`, upstream: env.upstream },
    proc,
    info: { portkey: version, '@hono/node-server': PORTKEY_PINS['@hono/node-server'] },
    stop: () => proc.stop(),
  };
}
