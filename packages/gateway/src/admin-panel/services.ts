// `GET /admin/session/services?organization=SLUG`: the services as one organization sees them,
// for the panel's per-organization pages. The admin API's service routes are platform-only, so an
// organization admin could not otherwise see the credential schema (for the credential form), its
// own per-service switch (to turn a service back on) or the policy in effect. Read-only, no
// secrets; the session decides which organizations may be named (an organization admin: its own;
// another answers 404 `not_found`, like one that does not exist).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/authenticate.ts';
import type { Context } from '../context.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import { requireSession } from './session.ts';

function organizationParam(req: FastifyRequest, p: Principal): string {
  const q = (req.query ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(q)) if (k !== 'organization') throw invalidRequest(`Unknown query parameter '${k}'.`);
  const raw = q.organization;
  if (raw !== undefined && typeof raw !== 'string') throw invalidRequest(`Query parameter 'organization' must be given once.`);
  if (p.kind === 'apikey') {
    if (raw !== undefined && raw !== p.organization) throw new GatewayError('not_found');
    return p.organization;
  }
  if (raw === undefined || raw === '') throw invalidRequest(`Query parameter 'organization' is required.`);
  return raw;
}

export function registerPanelServiceRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/admin/session/services', async (req, reply) => {
    const s = await requireSession(ctx, req, reply);
    const slug = organizationParam(req, s.principal);
    const org = await ctx.registry.org(slug);
    if (!org) throw new GatewayError('not_found');
    const services = [...(await ctx.registry.services()).values()];
    const list = services
      // An organization admin sees what its organization could use; the platform sees everything.
      .filter((svc) => s.principal.kind === 'platform' || (svc.enabled && (org.planServices === null || org.planServices.has(svc.slug))))
      .map((svc) => {
        const own = org.services.get(svc.slug);
        return {
          slug: svc.slug,
          name: svc.def.name,
          description: svc.def.description,
          enabled: svc.enabled,
          in_plan: org.planServices === null || org.planServices.has(svc.slug),
          organization_enabled: own?.enabled ?? true,
          credential_name: svc.def.credential_name,
          credential_schema: svc.def.credential_schema,
          credential_policy: own?.policy ?? svc.policy,
          policy_override: own?.policy ?? null,
        };
      });
    return reply.header('cache-control', 'no-store').send({ organization: org.slug, services: list });
  });
}
