// Integration harness for the SDK: a real gateway (packages/gateway/test/helpers.ts) pointed at the
// sandbox upstreams (packages/sandbox) or at scriptable stubs, plus a fetch that records every
// request the client makes, so that tests can count attempts and compare request ids.
import { startGateway, type TestGateway } from '../../../gateway/test/helpers.ts';
import { seedCredential, seedKey, seedOrg, startStub, type StubRequest } from '../../../gateway/test/fixtures.ts';
import { startSandbox, FIXTURE_IDS, type Sandbox } from '../../../sandbox/src/index.ts';
import type { FetchLike } from '../../src/index.ts';

export { seedCredential, seedKey, seedOrg, startStub, FIXTURE_IDS };
export type { TestGateway, StubRequest };

/** A voice the ElevenLabs sandbox knows. */
export const VOICE_ID: string = FIXTURE_IDS.elevenlabs.voice_id;

export interface Stack {
  gw: TestGateway;
  sandbox: Sandbox | null;
  /** Upstream base URLs the gateway uses, by service slug. */
  upstreams: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A gateway whose ElevenLabs and HeyGen upstreams are the sandbox, unless `upstreams` names
 * another base URL (e.g. a `startStub`) for a service. The sandbox is started only when needed.
 */
export async function startStack(opts: { upstreams?: Record<string, string>; env?: Record<string, string>; paceMs?: number } = {}): Promise<Stack> {
  const upstreams: Record<string, string> = { ...opts.upstreams };
  let sandbox: Sandbox | null = null;
  if (!upstreams.elevenlabs || !upstreams.heygen) {
    sandbox = await startSandbox({ port: 0, videoJobMs: 500, paceMs: opts.paceMs });
    for (const s of sandbox.services) upstreams[s.slug] ??= s.url;
  }
  const env: Record<string, string> = { PORTICO_LOG_LEVEL: 'info', ...opts.env };
  for (const [slug, url] of Object.entries(upstreams)) env[`PORTICO_BASE_URL_${slug.toUpperCase().replace(/-/g, '_')}`] = url;
  let gw: TestGateway;
  try {
    gw = await startGateway({ env });
  } catch (err) {
    await sandbox?.close();
    throw err;
  }
  return {
    gw,
    sandbox,
    upstreams,
    async close() {
      await gw.close();
      await sandbox?.close();
    },
  };
}

/** An organization with an `admin` API key and, optionally, tenant credentials per service. */
export async function seedTenant(gw: TestGateway, slug: string, credentials: Record<string, string> = {}): Promise<string> {
  await seedOrg(gw, slug);
  const key = await seedKey(gw, slug);
  for (const [service, secret] of Object.entries(credentials)) {
    await seedCredential(gw, { service, scope: 'tenant', organization: slug, key: secret });
  }
  return key;
}

export interface Recorded {
  method: string;
  url: string;
  path: string;
  headers: Record<string, string>;
  /** Response status, or null when fetch itself failed (network error, abort). */
  status: number | null;
  requestId: string | null;
  errorSource: string | null;
  /** The answer's headers (null until it arrives). */
  response: Headers | null;
}

/** A fetch that records each request and its answer's status and X-Request-Id. */
export function recordingFetch(): { fetch: FetchLike; calls: Recorded[]; invokes(action?: string): Recorded[] } {
  const calls: Recorded[] = [];
  const fetchImpl: FetchLike = async (input, init) => {
    const url = String(input);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const rec: Recorded = {
      method: init?.method ?? 'GET',
      url,
      path: new URL(url).pathname,
      headers,
      status: null,
      requestId: null,
      errorSource: null,
      response: null,
    };
    calls.push(rec);
    const res = await globalThis.fetch(input, init);
    rec.status = res.status;
    rec.requestId = res.headers.get('x-request-id');
    rec.errorSource = res.headers.get('x-error-source');
    rec.response = res.headers;
    return res;
  };
  return {
    fetch: fetchImpl,
    calls,
    invokes: (action) => calls.filter((c) => c.method === 'POST' && c.path.startsWith('/api/v1/external-proxy/') && (!action || c.path.endsWith(`/${action}`))),
  };
}

/** Whether `bytes` start like an MP3 file: an ID3v2 tag, or an MPEG audio frame sync (11 set bits). */
export function looksLikeMp3(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  if (bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33) return true; // "ID3"
  return bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0;
}

/** Sets an organization's own limits (SPEC §13) straight in the database. */
export async function setOrgLimits(gw: TestGateway, org: string, limits: Record<string, number | null>): Promise<void> {
  await gw.gateway.ctx.store.db
    .updateTable('organizations')
    .set({ limits: JSON.stringify(limits) })
    .where('slug', '=', org)
    .execute();
  gw.gateway.ctx.registry.changed();
}

/** Polls `check` until it holds or `ms` pass. */
export async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
