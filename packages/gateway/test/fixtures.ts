// Direct-to-database seeding for pipeline tests (the admin API has its own tests). Uses the
// same encryption and hashing as the admin routes, then invalidates the gateway's cache.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateApiKey } from '../src/auth/tokens.ts';
import { encryptPayload, masterKeyId } from '../src/credentials/crypto.ts';
import { maskPayload } from '../src/credentials/mask.ts';
import { ulid } from '../src/ids.ts';
import type { TestGateway } from './helpers.ts';

export async function seedOrg(gw: TestGateway, slug: string, opts: { plan?: string | null; disabled?: boolean } = {}): Promise<void> {
  const now = new Date().toISOString();
  await gw.gateway.ctx.store.db
    .insertInto('organizations')
    .values({ slug, name: slug, plan: opts.plan ?? null, disabled: opts.disabled ? 1 : 0, limits: null, cors_origins: null, created_at: now, updated_at: now })
    .execute();
  gw.gateway.ctx.registry.changed();
}

export async function seedKey(gw: TestGateway, org: string, role: 'admin' | 'member' = 'admin'): Promise<string> {
  const { key, prefix, hash } = generateApiKey();
  await gw.gateway.ctx.store.db
    .insertInto('api_keys')
    .values({
      id: ulid(),
      organization: org,
      name: 'test',
      role,
      prefix,
      hash,
      expires_at: null,
      created_at: new Date().toISOString(),
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
  gw.gateway.ctx.registry.changed();
  return key;
}

export interface SeedCredential {
  service: string;
  scope: 'platform' | 'tenant';
  organization?: string | null;
  key: string;
  status?: 'active' | 'disabled';
  expiresAt?: string | null;
  /** Store a payload that is not `{key}` (schema-invalid). */
  payload?: unknown;
}

export async function seedCredential(gw: TestGateway, c: SeedCredential): Promise<string> {
  const { config, store, registry } = gw.gateway.ctx;
  const id = ulid();
  const organization = c.scope === 'tenant' ? (c.organization ?? null) : null;
  const payload = c.payload ?? { key: c.key };
  const now = new Date().toISOString();
  await store.db
    .insertInto('credentials')
    .values({
      id,
      service: c.service,
      scope: c.scope,
      organization,
      label: null,
      status: c.status ?? 'active',
      masked: maskPayload(payload),
      ciphertext: encryptPayload(config.masterKey, { id, service: c.service, scope: c.scope, organization }, payload),
      key_id: masterKeyId(config.masterKey),
      expires_at: c.expiresAt ?? null,
      created_at: now,
      updated_at: now,
      last_used_at: null,
    })
    .execute();
  registry.changed();
  return id;
}

export interface StubRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A local upstream whose answers each test scripts; it records every request it gets. */
export async function startStub(
  handler: (req: StubRequest, res: ServerResponse) => void | Promise<void>,
): Promise<{ url: string; requests: StubRequest[]; server: Server; close(): Promise<void> }> {
  const requests: StubRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const r = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
    requests.push(r);
    try {
      await handler(r, res);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
