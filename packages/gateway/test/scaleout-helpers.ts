// Shared pieces of the traffic-control and scale-out tests (limits-*, state-*, scaleout-*):
// a scriptable ElevenLabs-shaped upstream, an organization with a key and a platform credential,
// Redis key prefixes per run, and gateway child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { ADMIN_TOKEN, MASTER_KEY, REDIS_URL, startGateway, type ApiResponse, type TestGateway } from './helpers.ts';
import { seedCredential, seedKey, seedOrg, startStub, type StubRequest } from './fixtures.ts';
import type { Limits } from '../src/registry.ts';

export const INVOKE = '/api/v1/external-proxy/elevenlabs';

let redisUp: Promise<boolean> | null = null;

export function redisAvailable(): Promise<boolean> {
  redisUp ??= (async () => {
    const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.ping();
      return true;
    } catch (err) {
      console.log(`# skipping Redis tests: ${REDIS_URL} unreachable (${(err as Error).message})`);
      return false;
    } finally {
      r.disconnect();
    }
  })();
  return redisUp;
}

export function redisPrefix(): string {
  return `portico-test:${randomBytes(5).toString('hex')}:`;
}

/** Deletes every key of a test's prefix. */
export async function dropRedisPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The scriptable upstream. The JSON body Portico forwards drives it: `delay_ms` before the
 * answer, `status`, `cost` (the `character-cost` header), `size` (bytes of padding in the JSON),
 * `hold` (the stream endpoint waits for `release()` before its last chunk).
 */
export async function upstream() {
  const holds: (() => void)[] = [];
  let waiting: (() => void)[] = [];
  /** Upstream keys (xi-api-key) answered 429 with Retry-After: 60. */
  const exhaustedKeys = new Set<string>();
  const stub = await startStub(async (req: StubRequest, res) => {
    if (exhaustedKeys.has(String(req.headers['xi-api-key']))) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '60' });
      res.end(JSON.stringify({ detail: { status: 'too_many_concurrent_requests' } }));
      return;
    }
    let ctl: Record<string, any> = {};
    try {
      ctl = req.body.length ? JSON.parse(req.body.toString('utf8')) : {};
    } catch {
      ctl = {};
    }
    if (ctl.delay_ms) await sleep(ctl.delay_ms);
    const status = ctl.status ?? 200;
    const headers: Record<string, string> = {};
    if (ctl.cost !== undefined) headers['character-cost'] = String(ctl.cost);
    if (req.url.includes('/stream')) {
      res.writeHead(status, { 'content-type': 'audio/mpeg', ...headers });
      res.write(Buffer.alloc(1000, 1));
      if (ctl.hold) {
        await new Promise<void>((resolve) => {
          holds.push(resolve);
          for (const w of waiting) w();
          waiting = [];
          res.on('close', () => resolve());
        });
      }
      res.end(Buffer.alloc(1000, 2));
      return;
    }
    if (req.url.startsWith('/v1/text-to-speech/') && !req.url.includes('with-timestamps')) {
      res.writeHead(status, { 'content-type': status < 400 ? 'audio/mpeg' : 'application/json', ...headers });
      res.end(status < 400 ? Buffer.alloc(5000, 3) : JSON.stringify({ detail: { status: 'error' } }));
      return;
    }
    const body = { ok: status < 400, n: stub.requests.length, path: req.url, pad: ctl.size ? 'x'.repeat(ctl.size) : undefined };
    res.writeHead(status, { 'content-type': 'application/json', 'x-stub': 'yes', ...headers });
    res.end(JSON.stringify(body));
  });
  return {
    ...stub,
    exhaustedKeys,
    /** Requests that carried this upstream key. */
    withKey(key: string): number {
      return stub.requests.filter((r) => r.headers['xi-api-key'] === key).length;
    },
    /** Lets every held stream finish. */
    release() {
      for (const h of holds.splice(0)) h();
    },
    /** Resolves once a stream is being held. */
    held(): Promise<void> {
      if (holds.length > 0) return Promise.resolve();
      return new Promise((r) => waiting.push(r));
    },
    count(pathPart: string): number {
      return stub.requests.filter((r) => r.url.includes(pathPart)).length;
    },
  };
}

export type Upstream = Awaited<ReturnType<typeof upstream>>;

export interface World {
  gw: TestGateway;
  up: Upstream;
  key: string;
  org: string;
  /** POST an invoke of `action` with this invoke body. */
  invoke(action: string, body?: Record<string, unknown>, headers?: Record<string, string>, token?: string): Promise<ApiResponse>;
  setLimits(limits: Partial<Limits>, org?: string): Promise<void>;
  close(): Promise<void>;
}

export type StateKind = 'memory' | 'redis';

/** A gateway (SQLite in memory unless `db` says otherwise) with an organization, its admin key and a platform credential. */
export async function world(opts: { state?: StateKind; db?: 'sqlite' | 'postgres'; env?: Record<string, string>; org?: string } = {}): Promise<World> {
  const up = await upstream();
  const prefix = redisPrefix();
  const env: Record<string, string> = { PORTICO_BASE_URL_ELEVENLABS: up.url, PORTICO_LOG_LEVEL: 'info', ...opts.env };
  if (opts.state === 'redis') Object.assign(env, { PORTICO_REDIS_URL: REDIS_URL, PORTICO_REDIS_PREFIX: prefix });
  let gw: TestGateway;
  try {
    gw = await startGateway({ db: opts.db ?? 'sqlite', env });
  } catch (err) {
    await up.close();
    throw err;
  }
  const org = opts.org ?? 'acme';
  await seedOrg(gw, org);
  const key = await seedKey(gw, org, 'admin');
  await seedCredential(gw, { service: 'elevenlabs', scope: 'platform', key: 'sk_platform_key_0001' });
  return {
    gw,
    up,
    key,
    org,
    invoke: (action, body = {}, headers = {}, token = key) => gw.api('POST', `${INVOKE}/${action}`, { token, body, headers }),
    async setLimits(limits, o = org) {
      const r = await gw.api('PATCH', `/api/v1/admin/organizations/${o}`, { body: { limits } });
      if (r.status !== 200) throw new Error(`set limits: ${r.status} ${r.text}`);
    },
    async close() {
      await gw.close();
      await up.close();
      if (opts.state === 'redis') await dropRedisPrefix(prefix);
    },
  };
}

/** Body of a json invoke that the stub answers after `delayMs`. */
export const tts = (extra: Record<string, unknown> = {}) => ({ path_params: { voice_id: 'v1' }, body: { text: 'hi', ...extra } });

export interface Child {
  proc: ChildProcess;
  url: string;
  pid: number;
  output: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const CLI = join(import.meta.dirname, '../../cli/src/main.ts');

/** Runs `portico serve ARGS` as its own process (or `serve(process.env)` without the CLI) and waits until it answers. */
export async function spawnGateway(env: Record<string, string>, args: string[] = []): Promise<Child> {
  const port = env.PORTICO_PORT ?? String(await freePort());
  const entry = existsSync(CLI) ? [CLI, 'serve', ...args] : [join(import.meta.dirname, 'serve-entry.ts')];
  const proc = spawn(process.execPath, entry, {
    env: { ...process.env, PORTICO_ADMIN_TOKEN: ADMIN_TOKEN, PORTICO_MASTER_KEY: MASTER_KEY, PORTICO_LOG_LEVEL: 'info', ...env, PORTICO_PORT: port },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let partial = '';
  const take = (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop()!;
    output.push(...lines);
  };
  proc.stdout!.on('data', take);
  proc.stderr!.on('data', take);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(url + '/readyz').then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (proc.exitCode !== null || i > 150) {
      proc.kill('SIGKILL');
      throw new Error(`gateway process did not start:\n${output.join('\n')}`);
    }
    await sleep(100);
  }
  return {
    proc,
    url,
    pid: proc.pid!,
    output,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
  };
}

/** One HTTP call to a gateway URL with an API key. */
export async function call(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const h: Record<string, string> = { authorization: `Bearer ${token}`, ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(url + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Warning lines (pino level 40) whose message mentions `word`. */
export function warnings(lines: string[], word: string): string[] {
  return lines.filter((l) => {
    try {
      const j = JSON.parse(l) as { level?: number; msg?: string };
      return j.level === 40 && String(j.msg).includes(word);
    } catch {
      return false;
    }
  });
}
