// Credential policies in plain language (SPEC §6 step 2), mirroring the gateway's resolution.

export interface CredentialPolicy {
  allow_tenant_key: boolean;
  allow_platform_key: boolean;
  default_source: 'tenant' | 'platform';
  fallback_to_platform_key: boolean;
}

export function sourceOrder(p: CredentialPolicy): ('tenant' | 'platform')[] {
  if (!p.allow_tenant_key && !p.allow_platform_key) return [];
  const allowed = (s: 'tenant' | 'platform') => (s === 'tenant' ? p.allow_tenant_key : p.allow_platform_key);
  const first = allowed(p.default_source) ? p.default_source : p.default_source === 'tenant' ? 'platform' : 'tenant';
  if (first === 'tenant' && p.fallback_to_platform_key && p.allow_platform_key) return ['tenant', 'platform'];
  return [first];
}

/** "tenant key, then platform key" */
export function describeOrder(p: CredentialPolicy): string {
  const order = sourceOrder(p);
  if (order.length === 0) return 'no credential source allowed: every call fails (invalid_credential_policy)';
  return order.map((s) => `${s} key`).join(', then ');
}
