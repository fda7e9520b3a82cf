// Which services an organization may see and call (SPEC §3, §4): enabled platform-wide,
// enabled for the organization, and in its plan.
import { GatewayError } from '../errors.ts';
import type { CredentialPolicy } from './load.ts';
import { warm, type OrgView, type Registry, type ServiceView } from '../registry.ts';

export function visibleTo(org: OrgView, svc: ServiceView): boolean {
  return svc.enabled && (org.services.get(svc.slug)?.enabled ?? true) && (org.planServices === null || org.planServices.has(svc.slug));
}

/** The service for this organization, or 404 service_not_found / 403 service_not_in_plan. */
export async function accessibleService(registry: Registry, org: OrgView, slug: string): Promise<ServiceView> {
  return warm(() => accessibleServiceNow(registry, org, slug));
}

/** `accessibleService` from the registry's loaded views; throws Cold when they are not (see `warm`). */
export function accessibleServiceNow(registry: Registry, org: OrgView, slug: string): ServiceView {
  const svc = registry.serviceNow(slug);
  if (!svc || !svc.enabled || org.services.get(slug)?.enabled === false) {
    throw new GatewayError('service_not_found', { params: { service: slug } });
  }
  if (org.planServices !== null && !org.planServices.has(slug)) throw new GatewayError('service_not_in_plan');
  return svc;
}

/** The organization's override, else the service's policy. */
export function effectivePolicy(org: OrgView, svc: ServiceView): CredentialPolicy {
  return org.services.get(svc.slug)?.policy ?? svc.policy;
}
