// Plans (SPEC §1, §8, §13): which services an organization may use and its default limits.
import type { FastifyInstance } from 'fastify';
import { audit, type Context } from '../context.ts';
import { requirePlatform } from '../auth/authenticate.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import { nowIso } from '../ids.ts';
import { NO_LIMITS } from '../registry.ts';
import type { PlansTable } from '../store/schema.ts';
import {
  ADMIN_PREFIX,
  SLUG_RE,
  SLUG_TEXT,
  bodyObject,
  afterCreatedCursor,
  has,
  limitsColumn,
  limitsFromColumn,
  listQuery,
  page,
  parseLimits,
  principalOf,
} from './common.ts';

function planObject(r: PlansTable) {
  return { name: r.name, services: r.services ? (JSON.parse(r.services) as string[]) : null, limits: limitsFromColumn(r.limits) };
}

export function registerPlanRoutes(app: FastifyInstance, ctx: Context): void {
  const db = ctx.store.db;

  app.get(`${ADMIN_PREFIX}/plans`, async (req) => {
    requirePlatform(principalOf(req));
    const q = listQuery(req);
    let query = db.selectFrom('plans').selectAll();
    if (q.cursor) query = query.where(afterCreatedCursor(q.cursor, 'plan', 'name'));
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('name', 'asc')
      .limit(q.limit + 1)
      .execute();
    const { items, next_cursor } = page(rows, q.limit, 'plan', (r) => [r.created_at, r.name], planObject);
    return { plans: items, next_cursor };
  });

  app.get<{ Params: { plan: string } }>(`${ADMIN_PREFIX}/plans/:plan`, async (req) => {
    requirePlatform(principalOf(req));
    const row = SLUG_RE.test(req.params.plan) ? await db.selectFrom('plans').selectAll().where('name', '=', req.params.plan).executeTakeFirst() : undefined;
    if (!row) throw new GatewayError('not_found');
    return planObject(row);
  });

  // Upsert with PUT semantics: the body is the whole plan (`limits` left out = every limit null).
  app.put<{ Params: { plan: string } }>(`${ADMIN_PREFIX}/plans/:plan`, async (req, reply) => {
    const p = principalOf(req);
    requirePlatform(p);
    const name = req.params.plan;
    if (!SLUG_RE.test(name)) throw invalidRequest(`Plan name must be ${SLUG_TEXT}.`);
    const b = bodyObject(req.body, ['services', 'limits']);
    if (!has(b, 'services')) throw invalidRequest(`Field 'services' is required (an array of service slugs, or null for every service).`);
    let services: string[] | null = null;
    if (b.services !== null) {
      if (!Array.isArray(b.services)) throw invalidRequest(`Field 'services' must be an array of service slugs or null.`);
      const known = await ctx.registry.services();
      services = [];
      b.services.forEach((s, i) => {
        if (typeof s !== 'string') throw invalidRequest(`Field 'services[${i}]' must be a string.`);
        if (!known.has(s)) throw invalidRequest(`Field 'services[${i}]' names an unknown service${SLUG_RE.test(s) ? ` '${s}'` : ''}.`);
        if (!services!.includes(s)) services!.push(s);
      });
    }
    const limits = has(b, 'limits') ? parseLimits(b.limits, 'limits') : NO_LIMITS;
    const now = nowIso();
    const values = { services: services ? JSON.stringify(services) : null, limits: limitsColumn(limits), updated_at: now };
    const existing = await db.selectFrom('plans').selectAll().where('name', '=', name).executeTakeFirst();
    let row: PlansTable;
    if (existing) {
      await db.updateTable('plans').set(values).where('name', '=', name).execute();
      row = { ...existing, ...values };
    } else {
      row = { name, ...values, created_at: now };
      await db
        .insertInto('plans')
        .values(row)
        .onConflict((oc) => oc.column('name').doUpdateSet(values))
        .execute();
    }
    await audit(ctx, { principal: p, action: 'plan.upsert', target: `plan:${name}`, requestId: req.id });
    ctx.registry.changed();
    return reply.code(existing ? 200 : 201).send(planObject(row));
  });
}
