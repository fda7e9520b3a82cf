// API keys of an organization (SPEC §8): created by its admins or the platform, shown once,
// stored as a hash, revoked by setting revoked_at (effective on the very next request).
import type { FastifyInstance } from 'fastify';
import { audit, type Context } from '../context.ts';
import { requireOrgAdmin } from '../auth/authenticate.ts';
import { generateApiKey } from '../auth/tokens.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import { nowIso, ulid } from '../ids.ts';
import type { ApiKeysTable } from '../store/schema.ts';
import { ADMIN_PREFIX, bodyObject, decodeCursor, has, listQuery, optionalExpiry, page, principalOf, requiredString } from './common.ts';
import { loadOrganization } from './organizations.ts';

function apiKeyObject(r: ApiKeysTable) {
  return { id: r.id, name: r.name, role: r.role, prefix: r.prefix, expires_at: r.expires_at, created_at: r.created_at, last_used_at: r.last_used_at };
}

export function registerApiKeyRoutes(app: FastifyInstance, ctx: Context): void {
  const db = ctx.store.db;
  const base = `${ADMIN_PREFIX}/organizations/:org/api-keys`;

  app.post<{ Params: { org: string } }>(base, async (req, reply) => {
    const p = principalOf(req);
    requireOrgAdmin(p, req.params.org);
    const org = await loadOrganization(ctx, req.params.org);
    const b = bodyObject(req.body, ['name', 'role', 'expires_at']);
    const name = requiredString(b, 'name');
    let role: 'admin' | 'member' = 'member';
    if (has(b, 'role')) {
      if (b.role !== 'admin' && b.role !== 'member') throw invalidRequest(`Field 'role' must be 'admin' or 'member'.`);
      role = b.role;
    }
    const expires = optionalExpiry(b) ?? null;
    const { key, prefix, hash } = generateApiKey();
    const row: ApiKeysTable = {
      id: ulid(),
      organization: org.slug,
      name,
      role,
      prefix,
      hash,
      expires_at: expires,
      created_at: nowIso(),
      last_used_at: null,
      revoked_at: null,
    };
    await db.insertInto('api_keys').values(row).execute();
    await audit(ctx, { principal: p, action: 'api_key.create', target: `api_key:${row.id}`, requestId: req.id });
    ctx.registry.changed();
    return reply.code(201).send({ id: row.id, name, role, prefix, expires_at: expires, created_at: row.created_at, key });
  });

  app.get<{ Params: { org: string } }>(base, async (req) => {
    requireOrgAdmin(principalOf(req), req.params.org);
    const org = await loadOrganization(ctx, req.params.org);
    const q = listQuery(req);
    await ctx.registry.flushTouches(); // fresh last_used_at
    let query = db.selectFrom('api_keys').selectAll().where('organization', '=', org.slug).where('revoked_at', 'is', null);
    if (q.cursor) {
      const [id] = decodeCursor(q.cursor, 'key', 1) as [string];
      query = query.where('id', '<', id);
    }
    const rows = await query
      .orderBy('id', 'desc')
      .limit(q.limit + 1)
      .execute();
    const { items, next_cursor } = page(rows, q.limit, 'key', (r) => [r.id], apiKeyObject);
    return { api_keys: items, next_cursor };
  });

  app.delete<{ Params: { org: string; id: string } }>(`${base}/:id`, async (req, reply) => {
    const p = principalOf(req);
    requireOrgAdmin(p, req.params.org);
    const org = await loadOrganization(ctx, req.params.org);
    const row = await db
      .selectFrom('api_keys')
      .select('id')
      .where('id', '=', req.params.id)
      .where('organization', '=', org.slug)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) throw new GatewayError('not_found');
    await db.updateTable('api_keys').set({ revoked_at: nowIso() }).where('id', '=', row.id).execute();
    await audit(ctx, { principal: p, action: 'api_key.revoke', target: `api_key:${row.id}`, requestId: req.id });
    ctx.registry.changed();
    return reply.code(204).send();
  });
}
