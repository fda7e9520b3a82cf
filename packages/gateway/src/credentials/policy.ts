// Credential policies (SPEC §1, §6) and their validation.
import { invalidRequest } from '../errors.ts';
import type { CredentialPolicy } from '../catalog/load.ts';

export type { CredentialPolicy };
export type CredentialSource = 'tenant' | 'platform';

const FIELDS = ['allow_tenant_key', 'allow_platform_key', 'default_source', 'fallback_to_platform_key'] as const;

/** Validates an admin-supplied policy: all four fields, right types, nothing else. */
export function parsePolicy(body: unknown): CredentialPolicy {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('Request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (!(FIELDS as readonly string[]).includes(key)) throw invalidRequest(`Unknown field '${key}'.`);
  }
  for (const f of ['allow_tenant_key', 'allow_platform_key', 'fallback_to_platform_key'] as const) {
    if (typeof b[f] !== 'boolean') throw invalidRequest(`Field '${f}' is required and must be a boolean.`);
  }
  if (b.default_source !== 'tenant' && b.default_source !== 'platform') {
    throw invalidRequest(`Field 'default_source' is required and must be 'tenant' or 'platform'.`);
  }
  return {
    allow_tenant_key: b.allow_tenant_key as boolean,
    allow_platform_key: b.allow_platform_key as boolean,
    default_source: b.default_source,
    fallback_to_platform_key: b.fallback_to_platform_key as boolean,
  };
}

/** Plain-language resolution order, e.g. "tenant key, then platform key" (admin panel, CLI). */
export function describePolicy(p: CredentialPolicy): string {
  const order = sourceOrder(p, undefined);
  if (order.length === 0) return 'no credential source allowed: every call fails';
  return order.map((s) => `${s} key`).join(', then ');
}

// The possible orders, shared (every invoke asks for one).
const NONE: readonly CredentialSource[] = Object.freeze([]);
const TENANT: readonly CredentialSource[] = Object.freeze(['tenant']);
const PLATFORM: readonly CredentialSource[] = Object.freeze(['platform']);
const TENANT_THEN_PLATFORM: readonly CredentialSource[] = Object.freeze(['tenant', 'platform']);

/**
 * SPEC §6 step 2: the sources to try, in order. Returns [] when the policy allows nothing.
 * An explicit source must already be checked against the policy.
 */
export function sourceOrder(p: CredentialPolicy, explicit: CredentialSource | undefined): readonly CredentialSource[] {
  if (explicit) return explicit === 'tenant' ? TENANT : PLATFORM;
  if (!p.allow_tenant_key && !p.allow_platform_key) return NONE;
  const allowed = p.default_source === 'tenant' ? p.allow_tenant_key : p.allow_platform_key;
  const first: CredentialSource = allowed ? p.default_source : p.default_source === 'tenant' ? 'platform' : 'tenant';
  if (first === 'tenant' && p.fallback_to_platform_key && p.allow_platform_key) return TENANT_THEN_PLATFORM;
  return first === 'tenant' ? TENANT : PLATFORM;
}
