// Stage 2: which service and endpoint the caller's organization is invoking.
import { GatewayError } from '../errors.ts';
import { accessibleServiceNow } from '../catalog/access.ts';
import type { CatalogEndpoint } from '../catalog/load.ts';
import type { OrgView, Registry, ServiceView } from '../registry.ts';

export interface Target {
  svc: ServiceView;
  endpoint: CatalogEndpoint;
  /** Time to first byte and longest idle gap (SPEC §7). */
  timeoutMs: number;
}

/** Synchronous from the registry's loaded views; throws Cold when they are not (run it through `warm`). */
export function resolveEndpoint(registry: Registry, org: OrgView, service: string, action: string): Target {
  const svc = accessibleServiceNow(registry, org, service);
  const endpoint = svc.endpoints.get(action);
  if (!endpoint) throw new GatewayError('endpoint_not_found', { params: { action, service } });
  // The endpoint's own catalog timeout wins; else the admin's service timeout; else the catalog's.
  const timeoutMs = endpoint.timeout_ms ?? svc.adminTimeoutMs ?? svc.def.timeout_ms;
  return { svc, endpoint, timeoutMs };
}
