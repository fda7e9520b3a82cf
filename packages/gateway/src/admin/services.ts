// Services as the platform admin sees them (SPEC §8): every catalog service, enabled or not,
// with the admin overrides (enabled, base URL, timeout, credential policy), and the
// per-organization switches (enabled, credential policy override).
import type { FastifyInstance } from 'fastify';
import { audit, type Context } from '../context.ts';
import { requireOrgAdmin, requirePlatform } from '../auth/authenticate.ts';
import { parsePolicy, type CredentialPolicy } from '../credentials/policy.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import { nowIso } from '../ids.ts';
import type { ServiceView } from '../registry.ts';
import type { ServicesTable } from '../store/schema.ts';
import { ADMIN_PREFIX, bodyObject, decodeCursor, has, listQuery, optionalBoolean, page, parseBaseUrl, principalOf, requiredBoolean } from './common.ts';
import { loadOrganization } from './organizations.ts';

export function serviceObject(svc: ServiceView) {
  return {
    slug: svc.slug,
    name: svc.def.name,
    enabled: svc.enabled,
    base_url: svc.baseUrl,
    timeout_ms: svc.adminTimeoutMs ?? svc.def.timeout_ms,
    credential_name: svc.def.credential_name,
    credential_schema: svc.def.credential_schema,
    credential_policy: svc.policy,
    endpoint_count: svc.def.endpoints.length,
  };
}

/** The service, or 404 `service_not_found` with the SPEC message. */
export async function loadService(ctx: Context, slug: string): Promise<ServiceView> {
  const svc = await ctx.registry.service(slug);
  if (!svc) throw new GatewayError('service_not_found', { params: { service: printable(slug) } });
  return svc;
}

/** A path value echoed in a message: printable ASCII only, bounded. */
function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
}

function orgServiceObject(org: string, service: string, row: { enabled: number; credential_policy: string | null } | undefined) {
  return {
    organization: org,
    service,
    enabled: row ? row.enabled === 1 : true,
    credential_policy: row?.credential_policy ? (JSON.parse(row.credential_policy) as CredentialPolicy) : null,
  };
}

export function registerServiceRoutes(app: FastifyInstance, ctx: Context): void {
  const db = ctx.store.db;

  app.get(`${ADMIN_PREFIX}/services`, async (req) => {
    requirePlatform(principalOf(req));
    const q = listQuery(req);
    let query = db.selectFrom('services').select(['slug', 'created_at']);
    if (q.cursor) {
      const [at, slug] = decodeCursor(q.cursor, 'svc', 2) as [string, string];
      query = query.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('slug', '>', slug)])]));
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('slug', 'asc')
      .limit(q.limit + 1)
      .execute();
    const all = await ctx.registry.services();
    const { items, next_cursor } = page(
      rows,
      q.limit,
      'svc',
      (r) => [r.created_at, r.slug],
      (r) => all.get(r.slug),
    );
    return { services: items.filter((s) => s !== undefined).map(serviceObject), next_cursor };
  });

  app.get<{ Params: { service: string } }>(`${ADMIN_PREFIX}/services/:service`, async (req) => {
    requirePlatform(principalOf(req));
    return serviceObject(await loadService(ctx, req.params.service));
  });

  app.patch<{ Params: { service: string } }>(`${ADMIN_PREFIX}/services/:service`, async (req) => {
    const p = principalOf(req);
    requirePlatform(p);
    const svc = await loadService(ctx, req.params.service);
    const b = bodyObject(req.body, ['enabled', 'base_url', 'timeout_ms']);
    const set: Partial<ServicesTable> = {};
    const enabled = optionalBoolean(b, 'enabled');
    if (enabled !== undefined) set.enabled = enabled ? 1 : 0;
    if (has(b, 'base_url')) set.base_url = b.base_url === null ? null : parseBaseUrl(b.base_url);
    if (has(b, 'timeout_ms')) {
      const t = b.timeout_ms;
      if (t !== null && !(typeof t === 'number' && Number.isInteger(t) && t >= 100 && t <= 600_000)) {
        throw invalidRequest(`Field 'timeout_ms' must be an integer between 100 and 600000 (milliseconds), or null.`);
      }
      set.timeout_ms = t as number | null;
    }
    if (Object.keys(set).length === 0) return serviceObject(svc);
    set.updated_at = nowIso();
    await db.updateTable('services').set(set).where('slug', '=', svc.slug).execute();
    await audit(ctx, { principal: p, action: 'service.update', target: `service:${svc.slug}`, requestId: req.id });
    ctx.registry.changed();
    return serviceObject(await loadService(ctx, svc.slug));
  });

  app.put<{ Params: { service: string } }>(`${ADMIN_PREFIX}/services/:service/credential-policy`, async (req) => {
    const p = principalOf(req);
    requirePlatform(p);
    const svc = await loadService(ctx, req.params.service);
    const policy = parsePolicy(req.body);
    await db
      .updateTable('services')
      .set({ credential_policy: JSON.stringify(policy), updated_at: nowIso() })
      .where('slug', '=', svc.slug)
      .execute();
    await audit(ctx, { principal: p, action: 'service.policy.update', target: `service:${svc.slug}`, requestId: req.id });
    ctx.registry.changed();
    return policy;
  });

  const orgService = `${ADMIN_PREFIX}/organizations/:org/services/:service`;

  app.patch<{ Params: { org: string; service: string } }>(orgService, async (req) => {
    const p = principalOf(req);
    requireOrgAdmin(p, req.params.org);
    const org = await loadOrganization(ctx, req.params.org);
    const svc = await loadService(ctx, req.params.service);
    const b = bodyObject(req.body, ['enabled']);
    const enabled = requiredBoolean(b, 'enabled') ? 1 : 0;
    const now = nowIso();
    await db
      .insertInto('organization_services')
      .values({ organization: org.slug, service: svc.slug, enabled, credential_policy: null, updated_at: now })
      .onConflict((oc) => oc.columns(['organization', 'service']).doUpdateSet({ enabled, updated_at: now }))
      .execute();
    await audit(ctx, { principal: p, action: 'organization.service.update', target: `organization:${org.slug}/service:${svc.slug}`, requestId: req.id });
    ctx.registry.changed();
    const row = await db
      .selectFrom('organization_services')
      .selectAll()
      .where('organization', '=', org.slug)
      .where('service', '=', svc.slug)
      .executeTakeFirst();
    return orgServiceObject(org.slug, svc.slug, row);
  });

  app.put<{ Params: { org: string; service: string } }>(`${orgService}/credential-policy`, async (req) => {
    const p = principalOf(req);
    requirePlatform(p);
    const org = await loadOrganization(ctx, req.params.org);
    const svc = await loadService(ctx, req.params.service);
    const policy = parsePolicy(req.body);
    const json = JSON.stringify(policy);
    const now = nowIso();
    await db
      .insertInto('organization_services')
      .values({ organization: org.slug, service: svc.slug, enabled: 1, credential_policy: json, updated_at: now })
      .onConflict((oc) => oc.columns(['organization', 'service']).doUpdateSet({ credential_policy: json, updated_at: now }))
      .execute();
    await audit(ctx, { principal: p, action: 'organization.policy.update', target: `organization:${org.slug}/service:${svc.slug}`, requestId: req.id });
    ctx.registry.changed();
    return policy;
  });

  app.delete<{ Params: { org: string; service: string } }>(`${orgService}/credential-policy`, async (req, reply) => {
    const p = principalOf(req);
    requirePlatform(p);
    const org = await loadOrganization(ctx, req.params.org);
    const svc = await loadService(ctx, req.params.service);
    await db
      .updateTable('organization_services')
      .set({ credential_policy: null, updated_at: nowIso() })
      .where('organization', '=', org.slug)
      .where('service', '=', svc.slug)
      .execute();
    await audit(ctx, { principal: p, action: 'organization.policy.delete', target: `organization:${org.slug}/service:${svc.slug}`, requestId: req.id });
    ctx.registry.changed();
    return reply.code(204).send();
  });
}
