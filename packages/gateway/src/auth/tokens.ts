// API keys: `ptk_<8 id chars>_<43 random chars>` (256 random bits). Only a SHA-256 hash is
// stored: the key is high-entropy, so a slow password hash would add latency and no safety.
import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = 'ptk_' + randomBytes(6).toString('base64url');
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashToken(key) };
}

export function hashToken(token: string): string {
  // One-shot crypto.hash: half the cost of a Hash object, and this runs on every request.
  return hash('sha256', token, 'hex');
}

const DIGEST = Symbol('portico.tokenDigest');
type Remembers = { [DIGEST]?: { authorization: string; digest: string } };

/**
 * An API key's digest remembered on the connection (the request's socket) for exactly this
 * Authorization value: a keep-alive client sends the same header with every request, and
 * parsing and hashing it is a good part of authentication's cost. The key lives as long as the
 * socket, which already holds it in each request's headers.
 */
export function rememberedDigest(connection: object, authorization: string): string | undefined {
  const last = (connection as Remembers)[DIGEST];
  return last !== undefined && last.authorization === authorization ? last.digest : undefined;
}

export function rememberDigest(connection: object, authorization: string, digest: string): void {
  (connection as Remembers)[DIGEST] = { authorization, digest };
}

/** Constant-time comparison (of digests, so lengths never leak either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The token of `Authorization: Bearer|Api-Key|Token <token>`; '' when absent or empty. */
export function tokenFromHeader(header: string | undefined): string {
  if (!header) return '';
  const space = header.indexOf(' ');
  if (space < 0) return '';
  const scheme = header.slice(0, space).toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'api-key' && scheme !== 'token') return '';
  return header.slice(space + 1).trim();
}
