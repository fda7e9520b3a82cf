// Credentials (SPEC §6, §8): provider secrets, encrypted at rest, never returned (only `masked`).
// The platform manages `platform` and every `tenant` credential; an organization admin manages
// only its own organization's `tenant` credentials, and everything else answers 404 `not_found`.
import type { FastifyInstance } from 'fastify';
import type { Principal } from '../auth/authenticate.ts';
import { requireAnyAdmin } from '../auth/authenticate.ts';
import { audit, type Context } from '../context.ts';
import { encryptPayload, masterKeyId } from '../credentials/crypto.ts';
import { maskPayload, payloadLooksMasked } from '../credentials/mask.ts';
import { renderAuthValue, sendableAuthValue } from '../credentials/auth-header.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import { nowIso, ulid } from '../ids.ts';
import type { ServiceView } from '../registry.ts';
import type { CredentialsTable } from '../store/schema.ts';
import { testCredential } from '../proxy/test-credential.ts';
import { ADMIN_PREFIX, bodyObject, decodeCursor, has, listQuery, optionalExpiry, optionalNullableString, page, principalOf } from './common.ts';
import { loadOrganization } from './organizations.ts';

function credentialObject(r: CredentialsTable, svc: ServiceView | undefined) {
  return {
    id: r.id,
    service: r.service,
    credential_name: svc?.def.credential_name ?? null,
    scope: r.scope,
    organization: r.organization,
    label: r.label,
    status: r.status,
    masked: r.masked,
    expires_at: r.expires_at,
    created_at: r.created_at,
    updated_at: r.updated_at,
    last_used_at: r.last_used_at,
  };
}

/** Whether the caller may see and manage this credential. */
function visible(p: Principal, r: Pick<CredentialsTable, 'scope' | 'organization'>): boolean {
  return p.kind === 'platform' || (r.scope === 'tenant' && r.organization === p.organization);
}

/**
 * `secret`: an object valid against the service's credential schema, or a string meaning
 * `{"key": string}`. A masked display value is refused before the schema (SPEC §6, §8), and no
 * message ever quotes the value.
 */
function parseSecret(v: unknown, svc: ServiceView): Record<string, unknown> {
  let payload: Record<string, unknown>;
  if (typeof v === 'string') payload = { key: v };
  else if (typeof v === 'object' && v !== null && !Array.isArray(v)) payload = v as Record<string, unknown>;
  else throw invalidRequest(`Field 'secret' must be an object or a string.`);
  if (payloadLooksMasked(payload)) throw new GatewayError('masked_credential_value');
  const validate = svc.validatePayload;
  if (!validate(payload)) {
    const e = validate.errors?.[0];
    if (!e) throw invalidRequest('Invalid secret.');
    const params = e.params as Record<string, unknown>;
    let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required' && typeof params.missingProperty === 'string') {
      field = field ? `${field}.${params.missingProperty}` : params.missingProperty;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      field = field ? `${field}.${params.additionalProperty}` : params.additionalProperty;
      message = 'is not allowed';
    }
    throw invalidRequest(field ? `Invalid secret: field '${field}' ${message}` : `Invalid secret: ${message}`);
  }
  if (!sendableAuthValue(renderAuthValue(svc.def.auth, payload))) {
    throw invalidRequest('Invalid secret: it holds characters that cannot be sent in an HTTP header (a stray newline?).');
  }
  return payload;
}

async function serviceFromBody(ctx: Context, v: unknown): Promise<ServiceView> {
  if (typeof v !== 'string') throw invalidRequest(`Field 'service' must be a string.`);
  const svc = await ctx.registry.service(v);
  if (!svc) throw invalidRequest(`Field 'service' must name a service of the catalog.`);
  return svc;
}

export function registerCredentialRoutes(app: FastifyInstance, ctx: Context): void {
  const db = ctx.store.db;
  const base = `${ADMIN_PREFIX}/credentials`;

  /** The credential row when the caller may manage it, else 404 `not_found`. */
  async function loadCredential(p: Principal, id: string): Promise<CredentialsTable> {
    const row = await db.selectFrom('credentials').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || !visible(p, row)) throw new GatewayError('not_found');
    return row;
  }

  app.post(base, async (req, reply) => {
    const p = principalOf(req);
    requireAnyAdmin(p);
    const b = bodyObject(req.body, ['service', 'scope', 'organization', 'label', 'secret', 'expires_at']);
    if (!has(b, 'service')) throw invalidRequest(`Field 'service' is required.`);
    if (!has(b, 'scope')) throw invalidRequest(`Field 'scope' is required.`);
    if (b.scope !== 'platform' && b.scope !== 'tenant') throw invalidRequest(`Field 'scope' must be 'platform' or 'tenant'.`);
    const scope = b.scope;
    // Platform credentials are the platform's alone, whatever else the body says.
    if (scope === 'platform' && p.kind !== 'platform') throw new GatewayError('permission_denied');
    const svc = await serviceFromBody(ctx, b.service);
    let organization: string | null = null;
    if (scope === 'platform') {
      if (has(b, 'organization') && b.organization !== null) throw invalidRequest(`Field 'organization' must be null or absent for scope 'platform'.`);
    } else {
      let slug: unknown = has(b, 'organization') ? b.organization : null;
      if (slug === null && p.kind === 'apikey') slug = p.organization;
      if (slug === null) throw invalidRequest(`Field 'organization' is required for scope 'tenant'.`);
      if (typeof slug !== 'string') throw invalidRequest(`Field 'organization' must be a string.`);
      // Another organization answers exactly like one that does not exist.
      if (p.kind === 'apikey' && slug !== p.organization) throw new GatewayError('not_found');
      organization = (await loadOrganization(ctx, slug)).slug;
    }
    const label = optionalNullableString(b, 'label') ?? null;
    const expires = optionalExpiry(b) ?? null;
    if (!has(b, 'secret')) throw invalidRequest(`Field 'secret' is required.`);
    const payload = parseSecret(b.secret, svc);

    const id = ulid();
    const now = nowIso();
    const row: CredentialsTable = {
      id,
      service: svc.slug,
      scope,
      organization,
      label,
      status: 'active',
      masked: maskPayload(payload),
      ciphertext: encryptPayload(ctx.config.masterKey, { id, service: svc.slug, scope, organization }, payload),
      key_id: masterKeyId(ctx.config.masterKey),
      expires_at: expires,
      created_at: now,
      updated_at: now,
      last_used_at: null,
    };
    await db.insertInto('credentials').values(row).execute();
    await audit(ctx, { principal: p, action: 'credential.create', target: `credential:${id}`, requestId: req.id });
    ctx.registry.changed();
    return reply.code(201).send(credentialObject(row, svc));
  });

  app.get(base, async (req) => {
    const p = principalOf(req);
    requireAnyAdmin(p);
    const q = listQuery(req, ['service', 'scope', 'organization']);
    const f = q.filters;
    if (f.scope !== undefined && f.scope !== 'platform' && f.scope !== 'tenant') {
      throw invalidRequest(`Query parameter 'scope' must be 'platform' or 'tenant'.`);
    }
    await ctx.registry.flushTouches(); // fresh last_used_at
    let query = db.selectFrom('credentials').selectAll();
    if (f.service !== undefined) query = query.where('service', '=', f.service);
    if (f.scope !== undefined) query = query.where('scope', '=', f.scope);
    if (f.organization !== undefined) query = query.where('organization', '=', f.organization);
    if (p.kind === 'apikey') query = query.where('scope', '=', 'tenant').where('organization', '=', p.organization);
    if (q.cursor) {
      const [id] = decodeCursor(q.cursor, 'cred', 1) as [string];
      query = query.where('id', '<', id);
    }
    const rows = await query
      .orderBy('id', 'desc')
      .limit(q.limit + 1)
      .execute();
    const services = await ctx.registry.services();
    const { items, next_cursor } = page(
      rows,
      q.limit,
      'cred',
      (r) => [r.id],
      (r) => credentialObject(r, services.get(r.service)),
    );
    return { credentials: items, next_cursor };
  });

  app.get<{ Params: { id: string } }>(`${base}/:id`, async (req) => {
    const p = principalOf(req);
    requireAnyAdmin(p);
    await ctx.registry.flushTouches();
    const row = await loadCredential(p, req.params.id);
    return credentialObject(row, await ctx.registry.service(row.service));
  });

  app.patch<{ Params: { id: string } }>(`${base}/:id`, async (req) => {
    const p = principalOf(req);
    requireAnyAdmin(p);
    const row = await loadCredential(p, req.params.id);
    const b = bodyObject(req.body, ['label', 'status', 'secret', 'expires_at']);
    const set: Partial<CredentialsTable> = {};
    const label = optionalNullableString(b, 'label');
    if (label !== undefined) set.label = label;
    if (has(b, 'status')) {
      if (b.status !== 'active' && b.status !== 'disabled') throw invalidRequest(`Field 'status' must be 'active' or 'disabled'.`);
      set.status = b.status;
    }
    const expires = optionalExpiry(b);
    if (expires !== undefined) set.expires_at = expires;
    const svc = await ctx.registry.service(row.service);
    if (has(b, 'secret')) {
      if (!svc) throw invalidRequest(`Field 'secret' cannot be set: service '${row.service}' is no longer in the catalog.`);
      const payload = parseSecret(b.secret, svc);
      set.masked = maskPayload(payload);
      set.ciphertext = encryptPayload(ctx.config.masterKey, row, payload); // fresh nonce
      set.key_id = masterKeyId(ctx.config.masterKey);
    }
    if (Object.keys(set).length === 0) return credentialObject(row, svc);
    set.updated_at = nowIso();
    await db.updateTable('credentials').set(set).where('id', '=', row.id).execute();
    // An admin re-enabling a key or giving it a new secret ends its cool-down at once (SPEC §8).
    if (set.status === 'active' || set.ciphertext !== undefined) ctx.state.cooldowns.clear(row.id);
    await audit(ctx, { principal: p, action: 'credential.update', target: `credential:${row.id}`, requestId: req.id });
    ctx.registry.changed();
    return credentialObject({ ...row, ...set }, svc);
  });

  app.delete<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
    const p = principalOf(req);
    requireAnyAdmin(p);
    const row = await loadCredential(p, req.params.id);
    await db.deleteFrom('credentials').where('id', '=', row.id).execute();
    ctx.state.cooldowns.clear(row.id);
    await audit(ctx, { principal: p, action: 'credential.delete', target: `credential:${row.id}`, requestId: req.id });
    ctx.registry.changed();
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>(`${base}/:id/test`, async (req) => {
    const p = principalOf(req);
    requireAnyAdmin(p);
    const row = await loadCredential(p, req.params.id);
    const result = await testCredential(ctx, row.id, req.id);
    await audit(ctx, { principal: p, action: 'credential.test', target: `credential:${row.id}`, requestId: req.id });
    return { ok: result.ok, status: result.status, latency_ms: result.latency_ms };
  });
}
