// Organizations (tenants): platform-only CRUD (SPEC §8, §13 limits, CORS origins for browsers).
import type { FastifyInstance } from 'fastify';
import { audit, type Context } from '../context.ts';
import { requirePlatform } from '../auth/authenticate.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import { nowIso } from '../ids.ts';
import { NO_LIMITS } from '../registry.ts';
import type { OrganizationsTable } from '../store/schema.ts';
import {
  ADMIN_PREFIX,
  SLUG_RE,
  SLUG_TEXT,
  bodyObject,
  afterCreatedCursor,
  has,
  isUniqueViolation,
  limitsColumn,
  limitsFromColumn,
  listQuery,
  optionalBoolean,
  page,
  parseCorsOrigins,
  parseLimits,
  principalOf,
  requiredString,
  checkString,
  type Body,
} from './common.ts';

export function organizationObject(r: OrganizationsTable) {
  return {
    slug: r.slug,
    name: r.name,
    plan: r.plan,
    disabled: r.disabled === 1,
    limits: limitsFromColumn(r.limits),
    cors_origins: r.cors_origins ? (JSON.parse(r.cors_origins) as string[]) : [],
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** The organization row, or 404 `not_found`. */
export async function loadOrganization(ctx: Context, slug: string): Promise<OrganizationsTable> {
  const row = SLUG_RE.test(slug) ? await ctx.store.db.selectFrom('organizations').selectAll().where('slug', '=', slug).executeTakeFirst() : undefined;
  if (!row) throw new GatewayError('not_found');
  return row;
}

/** `plan`: null, or the name of an existing plan. */
async function parsePlan(ctx: Context, b: Body): Promise<string | null | undefined> {
  if (!has(b, 'plan')) return undefined;
  const v = b.plan;
  if (v === null) return null;
  const bad = invalidRequest(`Field 'plan' must be null or the name of an existing plan.`);
  if (typeof v !== 'string' || !SLUG_RE.test(v)) throw bad;
  const plan = await ctx.store.db.selectFrom('plans').select('name').where('name', '=', v).executeTakeFirst();
  if (!plan) throw bad;
  return v;
}

function parseOrigins(b: Body): string | null | undefined {
  if (!has(b, 'cors_origins')) return undefined;
  if (b.cors_origins === null) return null;
  const list = parseCorsOrigins(b.cors_origins);
  return list.length ? JSON.stringify(list) : null;
}

export function registerOrganizationRoutes(app: FastifyInstance, ctx: Context): void {
  const db = ctx.store.db;

  app.post(`${ADMIN_PREFIX}/organizations`, async (req, reply) => {
    const p = principalOf(req);
    requirePlatform(p);
    const b = bodyObject(req.body, ['slug', 'name', 'plan', 'limits', 'cors_origins']);
    const slug = requiredString(b, 'slug', { pattern: SLUG_RE, patternText: SLUG_TEXT });
    const name = requiredString(b, 'name');
    const limits = has(b, 'limits') ? parseLimits(b.limits, 'limits') : NO_LIMITS;
    const cors = parseOrigins(b) ?? null;
    const plan = (await parsePlan(ctx, b)) ?? null;
    const existing = await db.selectFrom('organizations').select('slug').where('slug', '=', slug).executeTakeFirst();
    if (existing) throw new GatewayError('conflict');
    const now = nowIso();
    const row: OrganizationsTable = { slug, name, plan, disabled: 0, limits: limitsColumn(limits), cors_origins: cors, created_at: now, updated_at: now };
    try {
      await db.insertInto('organizations').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new GatewayError('conflict');
      throw err;
    }
    await audit(ctx, { principal: p, action: 'organization.create', target: `organization:${slug}`, requestId: req.id });
    ctx.registry.changed();
    return reply.code(201).send(organizationObject(row));
  });

  app.get(`${ADMIN_PREFIX}/organizations`, async (req) => {
    requirePlatform(principalOf(req));
    const q = listQuery(req);
    let query = db.selectFrom('organizations').selectAll();
    if (q.cursor) query = query.where(afterCreatedCursor(q.cursor, 'org', 'slug'));
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('slug', 'asc')
      .limit(q.limit + 1)
      .execute();
    const { items, next_cursor } = page(rows, q.limit, 'org', (r) => [r.created_at, r.slug], organizationObject);
    return { organizations: items, next_cursor };
  });

  app.get<{ Params: { org: string } }>(`${ADMIN_PREFIX}/organizations/:org`, async (req) => {
    requirePlatform(principalOf(req));
    return organizationObject(await loadOrganization(ctx, req.params.org));
  });

  app.patch<{ Params: { org: string } }>(`${ADMIN_PREFIX}/organizations/:org`, async (req) => {
    const p = principalOf(req);
    requirePlatform(p);
    const row = await loadOrganization(ctx, req.params.org);
    const b = bodyObject(req.body, ['name', 'plan', 'disabled', 'limits', 'cors_origins']);
    const set: Partial<OrganizationsTable> = {};
    if (has(b, 'name')) set.name = checkString(b.name, 'name');
    const disabled = optionalBoolean(b, 'disabled');
    if (disabled !== undefined) set.disabled = disabled ? 1 : 0;
    if (has(b, 'limits')) set.limits = limitsColumn(parseLimits(b.limits, 'limits', limitsFromColumn(row.limits)));
    const cors = parseOrigins(b);
    if (cors !== undefined) set.cors_origins = cors;
    const plan = await parsePlan(ctx, b);
    if (plan !== undefined) set.plan = plan;
    if (Object.keys(set).length === 0) return organizationObject(row);
    set.updated_at = nowIso();
    await db.updateTable('organizations').set(set).where('slug', '=', row.slug).execute();
    await audit(ctx, { principal: p, action: 'organization.update', target: `organization:${row.slug}`, requestId: req.id });
    ctx.registry.changed();
    return organizationObject({ ...row, ...set });
  });

  app.delete<{ Params: { org: string } }>(`${ADMIN_PREFIX}/organizations/:org`, async (req, reply) => {
    const p = principalOf(req);
    requirePlatform(p);
    const row = await loadOrganization(ctx, req.params.org);
    // Explicit deletes (not only ON DELETE CASCADE) so the result never depends on FK settings.
    const creds = await db.transaction().execute(async (trx) => {
      const ids = await trx.selectFrom('credentials').select('id').where('organization', '=', row.slug).execute();
      await trx.deleteFrom('credentials').where('organization', '=', row.slug).execute();
      await trx.deleteFrom('api_keys').where('organization', '=', row.slug).execute();
      await trx.deleteFrom('organization_services').where('organization', '=', row.slug).execute();
      await trx.deleteFrom('organizations').where('slug', '=', row.slug).execute();
      return ids.map((r) => r.id);
    });
    for (const id of creds) ctx.state.cooldowns.clear(id);
    await audit(ctx, { principal: p, action: 'organization.delete', target: `organization:${row.slug}`, requestId: req.id });
    ctx.registry.changed();
    return reply.code(204).send();
  });
}
