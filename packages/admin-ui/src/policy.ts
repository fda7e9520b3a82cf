// The credential resolution order a policy produces, in plain language. Mirrors
// `describePolicy`/`sourceOrder` in packages/gateway/src/credentials/policy.ts (SPEC §6 step 2);
// test/policy.test.ts checks that both agree on every policy.
import type { CredentialPolicy } from './types.ts';

export type CredentialSource = 'tenant' | 'platform';

export function sourceOrder(p: CredentialPolicy): CredentialSource[] {
  if (!p.allow_tenant_key && !p.allow_platform_key) return [];
  const allowed = (s: CredentialSource) => (s === 'tenant' ? p.allow_tenant_key : p.allow_platform_key);
  const first: CredentialSource = allowed(p.default_source) ? p.default_source : p.default_source === 'tenant' ? 'platform' : 'tenant';
  if (first === 'tenant' && p.fallback_to_platform_key && p.allow_platform_key) return ['tenant', 'platform'];
  return [first];
}

export function describePolicy(p: CredentialPolicy): string {
  const order = sourceOrder(p);
  if (order.length === 0) return 'no credential source allowed: every call fails';
  return order.map((s) => `${s} key`).join(', then ');
}

/** Notes on settings that the order makes irrelevant, so the editor can explain them. */
export function policyNotes(p: CredentialPolicy): string[] {
  const notes: string[] = [];
  const allowed = (s: CredentialSource) => (s === 'tenant' ? p.allow_tenant_key : p.allow_platform_key);
  if ((p.allow_tenant_key || p.allow_platform_key) && !allowed(p.default_source)) {
    notes.push(`The default source (${p.default_source}) is not allowed, so the allowed one is used.`);
  }
  if (p.fallback_to_platform_key && !p.allow_platform_key) notes.push('Fallback has no effect: the platform key is not allowed.');
  else if (p.fallback_to_platform_key && sourceOrder(p)[0] === 'platform') notes.push('Fallback has no effect: the platform key is already tried first.');
  return notes;
}
