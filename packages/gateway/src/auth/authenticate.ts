// Who is calling (SPEC §3): the platform admin token or an organization's API key.
import { GatewayError } from '../errors.ts';
import { warm, type OrgView, type Registry } from '../registry.ts';
import { hashToken, rememberDigest, rememberedDigest, safeEqual, tokenFromHeader } from './tokens.ts';

export type Principal = { kind: 'platform' } | { kind: 'apikey'; keyId: string; organization: string; role: 'admin' | 'member' };

export async function authenticate(registry: Registry, adminToken: string, authorization: string | undefined): Promise<Principal> {
  return warm(() => authenticateNow(registry, adminToken, authorization));
}

/**
 * `authenticate` from the registry's loaded views; throws Cold when one is missing (see `warm`).
 * With the request's socket as `connection`, the key's digest is remembered for the connection
 * (see `rememberedDigest`). `now` (Date.now()) is the time the key's expiry is checked against.
 */
export function authenticateNow(registry: Registry, adminToken: string, authorization: string | undefined, connection?: object, now = Date.now()): Principal {
  let digest = connection !== undefined && authorization !== undefined ? rememberedDigest(connection, authorization) : undefined;
  if (digest === undefined) {
    const token = tokenFromHeader(authorization);
    if (token === '') throw new GatewayError('not_authenticated');
    // API keys have a fixed shape; anything else can only be the admin token.
    if (!token.startsWith('ptk_')) {
      if (safeEqual(token, adminToken)) return { kind: 'platform' };
      throw new GatewayError('invalid_token');
    }
    digest = hashToken(token);
    if (connection !== undefined) rememberDigest(connection, authorization!, digest);
  }
  const key = registry.apiKeyNow(digest);
  if (!key) throw new GatewayError('invalid_token');
  if (key.expiresAt !== null && key.expiresAt <= now) throw new GatewayError('token_expired');
  const org = registry.orgNow(key.organization);
  if (!org) throw new GatewayError('invalid_token');
  if (org.disabled) throw new GatewayError('permission_denied');
  registry.touchApiKey(key.id, now);
  return { kind: 'apikey', keyId: key.id, organization: key.organization, role: key.role };
}

export function requirePlatform(p: Principal): void {
  if (p.kind !== 'platform') throw new GatewayError('permission_denied');
}

/**
 * Org-admin routes: the platform token, or an admin key of that organization. Another
 * organization answers 404 like a missing one, so slugs do not leak (SPEC §8).
 */
export function requireOrgAdmin(p: Principal, org: string): void {
  if (p.kind === 'platform') return;
  if (p.organization !== org) throw new GatewayError('not_found');
  if (p.role !== 'admin') throw new GatewayError('permission_denied');
}

export function requireAnyAdmin(p: Principal): void {
  if (p.kind === 'apikey' && p.role !== 'admin') throw new GatewayError('permission_denied');
}

/**
 * Discovery and invoke act for an organization: the key's own, or for the platform token the
 * one named by X-Portico-Organization (acting as its admin).
 */
export async function actingOrganization(registry: Registry, p: Principal, header: string | undefined): Promise<OrgView> {
  return warm(() => actingOrganizationNow(registry, p, header));
}

/** `actingOrganization` from the registry's loaded views; throws Cold when one is missing (see `warm`). */
export function actingOrganizationNow(registry: Registry, p: Principal, header: string | undefined): OrgView {
  const slug = p.kind === 'apikey' ? p.organization : header;
  if (!slug) throw new GatewayError('permission_denied');
  const org = registry.orgNow(slug);
  if (!org) throw new GatewayError('permission_denied');
  if (org.disabled) throw new GatewayError('permission_denied');
  return org;
}

export function actorOf(p: Principal): string {
  return p.kind === 'platform' ? 'platform' : `apikey:${p.keyId}`;
}
