// Service discovery (SPEC §4): what the caller's organization may call, and how.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Context } from '../context.ts';
import { GatewayError } from '../errors.ts';
import { actingOrganization } from '../auth/authenticate.ts';
import type { OrgView, ServiceView } from '../registry.ts';
import type { CatalogEndpoint } from './load.ts';
import { accessibleService, effectivePolicy, visibleTo } from './access.ts';

function summary(svc: ServiceView) {
  return {
    slug: svc.slug,
    name: svc.def.name,
    description: svc.def.description,
    credential_name: svc.def.credential_name,
    endpoint_count: svc.def.endpoints.length,
    docs_url: svc.def.docs_url,
  };
}

export function endpointView(e: CatalogEndpoint) {
  return {
    slug: e.slug,
    name: e.name,
    description: e.description,
    method: e.method,
    path_template: e.path_template,
    path_params: e.path_params,
    query_params: e.query_params,
    request_mode: e.request_mode,
    response_mode: e.response_mode,
    content_type: e.content_type,
    ...(e.deprecated ? { deprecated: true, sunset: e.sunset } : {}),
  };
}

export function registerDiscoveryRoutes(app: FastifyInstance, ctx: Context): void {
  const { registry } = ctx;
  const org = (req: FastifyRequest): Promise<OrgView> =>
    actingOrganization(registry, req.principal!, req.headers['x-portico-organization'] as string | undefined);

  app.get('/api/v1/external-proxy/services', async (req) => {
    const o = await org(req);
    const services = [...(await registry.services()).values()].filter((s) => visibleTo(o, s));
    return { services: services.map(summary) };
  });

  app.get<{ Params: { service: string } }>('/api/v1/external-proxy/services/:service', async (req) => {
    const o = await org(req);
    const svc = await accessibleService(registry, o, req.params.service);
    const creds = await registry.credentials(svc.slug, o.slug);
    const now = Date.now();
    const live = (list: { status: string; expiresAt: number | null }[]) =>
      list.some((c) => c.status === 'active' && (c.expiresAt === null || c.expiresAt > now));
    return {
      ...summary(svc),
      credential_policy: effectivePolicy(o, svc),
      credentials_configured: { tenant: live(creds.tenant), platform: live(creds.platform) },
      endpoints: svc.def.endpoints.map(endpointView),
    };
  });

  app.get<{ Params: { service: string; action: string } }>('/api/v1/external-proxy/services/:service/endpoints/:action', async (req) => {
    const o = await org(req);
    const svc = await accessibleService(registry, o, req.params.service);
    const e = svc.endpoints.get(req.params.action);
    if (!e) throw new GatewayError('endpoint_not_found', { params: { action: req.params.action, service: svc.slug } });
    return endpointView(e);
  });
}
