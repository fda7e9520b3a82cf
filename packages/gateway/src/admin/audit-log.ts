// The audit log (SPEC §8): who changed what and when. Platform only; entries never hold secrets.
import type { FastifyInstance } from 'fastify';
import { requirePlatform } from '../auth/authenticate.ts';
import type { Context } from '../context.ts';
import { invalidRequest } from '../errors.ts';
import { parseRfc3339 } from '../ids.ts';
import type { AuditLogTable } from '../store/schema.ts';
import { ADMIN_PREFIX, decodeCursor, listQuery, page, principalOf } from './common.ts';

function entryObject(r: AuditLogTable) {
  return { id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, request_id: r.request_id };
}

function timeParam(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const d = parseRfc3339(raw);
  if (!d) throw invalidRequest(`Query parameter '${name}' must be an RFC 3339 date-time with a time zone, e.g. 2030-01-01T00:00:00Z.`);
  return d.toISOString(); // the stored form, so text comparison orders by time
}

export function registerAuditLogRoutes(app: FastifyInstance, ctx: Context): void {
  const db = ctx.store.db;

  // Filters: action, actor, target (exact), from (inclusive) and to (exclusive).
  app.get(`${ADMIN_PREFIX}/audit-log`, async (req) => {
    requirePlatform(principalOf(req));
    const q = listQuery(req, ['action', 'actor', 'target', 'from', 'to']);
    const f = q.filters;
    const from = timeParam('from', f.from);
    const to = timeParam('to', f.to);
    let query = db.selectFrom('audit_log').selectAll();
    if (f.action !== undefined) query = query.where('action', '=', f.action);
    if (f.actor !== undefined) query = query.where('actor', '=', f.actor);
    if (f.target !== undefined) query = query.where('target', '=', f.target);
    if (from !== undefined) query = query.where('at', '>=', from);
    if (to !== undefined) query = query.where('at', '<', to);
    if (q.cursor) {
      const [id] = decodeCursor(q.cursor, 'audit', 1) as [string];
      query = query.where('id', '<', id);
    }
    const rows = await query
      .orderBy('id', 'desc')
      .limit(q.limit + 1)
      .execute();
    const { items, next_cursor } = page(rows, q.limit, 'audit', (r) => [r.id], entryObject);
    return { entries: items, next_cursor };
  });
}
