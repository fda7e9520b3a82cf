// SPEC §6 as one pure function: given the policy, the request's explicit source and the
// credentials on hand, pick the credential to use or the error to answer. No I/O here;
// resolve-credential.ts (proxy) feeds it from the cache.
import { GatewayError } from '../errors.ts';
import { sourceOrder, type CredentialPolicy, type CredentialSource } from './policy.ts';

export interface CandidateInfo {
  id: string;
  source: CredentialSource;
  status: 'active' | 'disabled';
  /** Epoch ms, or null for no expiry. */
  expiresAt: number | null;
}

/** Why a stored credential cannot be used even though it is active. */
export type PayloadCheck = 'ok' | 'masked' | 'invalid';

export interface ResolveInput<C extends CandidateInfo> {
  service: string;
  policy: CredentialPolicy;
  explicit: CredentialSource | undefined;
  /** Credentials per source, in stored pool order. */
  credentials: Record<CredentialSource, readonly C[]>;
  now: number;
  isCoolingDown(id: string): boolean;
  /** Decrypts and validates the payload (cached by the caller). */
  check(c: C): PayloadCheck;
  /** Round-robin start position for a source's pool of `size` candidates. */
  poolStart(source: CredentialSource, size: number): number;
}

export interface Resolved<C> {
  credential: C;
  source: CredentialSource;
  /** The remaining usable-looking candidates of the same source, in pool order (retry targets). */
  rest: readonly C[];
}

const NO_REST: readonly never[] = Object.freeze([]);

export function resolveCredential<C extends CandidateInfo>(input: ResolveInput<C>): Resolved<C> {
  const { policy, explicit, service } = input;
  if (!policy.allow_tenant_key && !policy.allow_platform_key) throw new GatewayError('invalid_credential_policy');
  if (explicit) {
    const allowed = explicit === 'tenant' ? policy.allow_tenant_key : policy.allow_platform_key;
    if (!allowed) throw new GatewayError('credential_source_not_allowed', { params: { source: explicit, service } });
  }

  let remembered: 'masked_upstream_key' | 'invalid_upstream_key_info' | null = null;
  let coolingSeen = false;
  for (const source of sourceOrder(policy, explicit)) {
    // Plain loops: this runs on every invoke, usually over a pool of one, which needs no array.
    let first: C | null = null;
    let pool: C[] | null = null;
    for (const c of input.credentials[source]) {
      if (c.status !== 'active' || (c.expiresAt !== null && c.expiresAt <= input.now)) continue;
      if (input.isCoolingDown(c.id)) coolingSeen = true;
      else if (first === null) first = c;
      else (pool ??= [first]).push(c);
    }
    if (first === null) continue;
    // Round robin over the pool; a pool of one has no position to keep.
    const n = pool === null ? 1 : pool.length;
    const start = n === 1 ? 0 : input.poolStart(source, n) % n;
    for (let k = 0; k < n; k++) {
      const c = pool === null ? first : pool[(start + k) % n]!;
      const verdict = input.check(c);
      if (verdict === 'ok') {
        if (pool === null) return { credential: c, source, rest: NO_REST };
        const rest: C[] = [];
        for (let j = k + 1; j < n; j++) rest.push(pool[(start + j) % n]!);
        return { credential: c, source, rest };
      }
      remembered ??= verdict === 'masked' ? 'masked_upstream_key' : 'invalid_upstream_key_info';
    }
  }
  if (remembered) throw new GatewayError(remembered);
  if (coolingSeen) throw new GatewayError('missing_upstream_key');
  throw new GatewayError('credentials_not_found', { params: { service } });
}

/** The next usable candidate after a cooled-down one (SPEC §6.5: retry once, same source). */
export function nextCandidate<C extends CandidateInfo>(rest: readonly C[], isCoolingDown: (id: string) => boolean, check: (c: C) => PayloadCheck): C | null {
  for (const c of rest) {
    if (!isCoolingDown(c.id) && check(c) === 'ok') return c;
  }
  return null;
}
