// GET /api/v1/admin/usage (SPEC §13): metered invokes aggregated by day, service, action or API
// key, for the platform (any or every organization) or an organization admin (its own only).
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.ts';
import { requireOrgAdmin } from '../auth/authenticate.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import { parseRfc3339 } from '../ids.ts';
import { flushUsage } from '../limits/index.ts';
import { queryUsage, usageCsv, type GroupBy } from '../limits/usage.ts';
import { ADMIN_PREFIX, SLUG_RE, principalOf } from './common.ts';

const PARAMS = ['organization', 'service', 'from', 'to', 'group_by'];
const GROUPS: GroupBy[] = ['day', 'service', 'action', 'key'];

/** An RFC 3339 time, or a date `YYYY-MM-DD` (its start for `from`, its end for `to`). */
function timeParam(name: 'from' | 'to', raw: string | undefined): string | null {
  if (raw === undefined) return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const d = new Date(`${raw}T00:00:00Z`);
    if (!Number.isNaN(d.getTime()) && d.toISOString().startsWith(raw)) {
      if (name === 'to') d.setUTCDate(d.getUTCDate() + 1);
      return d.toISOString();
    }
  }
  const d = parseRfc3339(raw);
  if (!d) throw invalidRequest(`Query parameter '${name}' must be an RFC 3339 date-time or a date (YYYY-MM-DD).`);
  return d.toISOString();
}

export function registerUsageRoutes(app: FastifyInstance, ctx: Context): void {
  app.get(`${ADMIN_PREFIX}/usage`, async (req, reply) => {
    const p = principalOf(req);
    const q: Record<string, string> = {};
    for (const [name, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
      if (!PARAMS.includes(name)) throw invalidRequest(`Unknown query parameter '${name}'.`);
      if (typeof v !== 'string') throw invalidRequest(`Query parameter '${name}' must be given once.`);
      q[name] = v;
    }
    // An organization admin sees its own organization; another one is 404 like a missing one.
    const organization = q.organization ?? (p.kind === 'apikey' ? p.organization : null);
    if (organization !== null) {
      requireOrgAdmin(p, organization);
      const exists =
        SLUG_RE.test(organization) && (await ctx.store.db.selectFrom('organizations').select('slug').where('slug', '=', organization).executeTakeFirst());
      if (!exists) throw new GatewayError('not_found');
    }
    const groupBy = (q.group_by ?? 'day') as GroupBy;
    if (!GROUPS.includes(groupBy)) throw invalidRequest(`Query parameter 'group_by' must be one of ${GROUPS.join(', ')}.`);
    const from = timeParam('from', q.from);
    const to = timeParam('to', q.to);
    if (from !== null && to !== null && from >= to) throw invalidRequest(`Query parameter 'from' must be before 'to'.`);

    await flushUsage(ctx);
    const usage = await queryUsage(ctx.store, { organization, service: q.service ?? null, from, to }, groupBy);
    if (/\btext\/csv\b/i.test(req.headers.accept ?? '')) return reply.type('text/csv; charset=utf-8').send(usageCsv(usage));
    return { usage };
  });
}
