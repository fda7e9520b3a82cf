// Admin panel sessions: the platform admin token or an organization admin's API key is exchanged
// once for a server-side session (`POST /admin/session`), so that the browser never keeps the
// key. The browser holds only an httpOnly cookie with a random session id; the database holds
// only its SHA-256 (`admin_sessions.id_hash`). Every change made with the cookie must carry the
// session's CSRF token in `X-CSRF-Token`.
//
// `sessionPrincipal` lets the gateway's authentication accept the cookie on /api/v1/admin/**
// (server.ts preHandler), so the panel is an ordinary client of the admin API (SPEC §8).
import { randomBytes } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, type Principal } from '../auth/authenticate.ts';
import { hashToken, safeEqual } from '../auth/tokens.ts';
import { audit, type Context } from '../context.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import { nowIso } from '../ids.ts';

export const SESSION_COOKIE = 'portico_session';
export const CSRF_HEADER = 'x-csrf-token';
/** Absolute lifetime of a session; signing in again starts a new one. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const SESSION_ID_RE = /^[A-Za-z0-9_-]{43}$/;

export interface PanelSession {
  actor: string;
  organization: string | null;
  role: 'platform' | 'admin';
  csrf_token: string;
  expires_at: string;
}

interface LoadedSession {
  idHash: string;
  principal: Principal;
  view: PanelSession;
}

/** The raw session id from the Cookie header, or null. */
export function sessionIdFrom(req: FastifyRequest): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return SESSION_ID_RE.test(value) ? value : null;
  }
  return null;
}

/** TLS at the socket, or a proxy in front that says the client used https. */
function overTls(req: FastifyRequest): boolean {
  if ((req.raw.socket as TLSSocket).encrypted) return true;
  const xfp = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(xfp) ? xfp[0] : xfp)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

function cookie(req: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const parts = [`${SESSION_COOKIE}=${value}`, 'Path=/', `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict'];
  if (maxAgeSeconds > 0) parts.push(`Expires=${new Date(Date.now() + maxAgeSeconds * 1000).toUTCString()}`);
  else parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  if (overTls(req)) parts.push('Secure');
  return parts.join('; ');
}

function clearCookie(req: FastifyRequest, reply: FastifyReply): void {
  void reply.header('set-cookie', cookie(req, '', 0));
}

/**
 * The session named by the cookie, re-checked against the key it was made from (a revoked or
 * expired key, or a disabled organization, ends the session at once). Throws 401 when the
 * session is unknown or expired.
 */
async function loadSession(ctx: Context, id: string): Promise<LoadedSession> {
  const db = ctx.store.db;
  const idHash = hashToken(id);
  const row = await db.selectFrom('admin_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  if (!row) throw new GatewayError('invalid_token');
  const drop = () => db.deleteFrom('admin_sessions').where('id_hash', '=', idHash).execute();
  if (Date.parse(row.expires_at) <= Date.now()) {
    await drop();
    throw new GatewayError('token_expired');
  }
  const view: PanelSession = {
    actor: row.actor,
    organization: row.organization,
    role: row.actor === 'platform' ? 'platform' : 'admin',
    csrf_token: row.csrf_token,
    expires_at: row.expires_at,
  };
  if (row.actor === 'platform') return { idHash, principal: { kind: 'platform' }, view };

  const keyId = row.actor.startsWith('apikey:') ? row.actor.slice('apikey:'.length) : '';
  const key = await db.selectFrom('api_keys').select(['id', 'organization', 'role', 'expires_at', 'revoked_at']).where('id', '=', keyId).executeTakeFirst();
  if (!key || key.revoked_at || key.organization !== row.organization) {
    await drop();
    throw new GatewayError('invalid_token');
  }
  if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) {
    await drop();
    throw new GatewayError('token_expired');
  }
  const org = await ctx.registry.org(key.organization);
  if (!org) {
    await drop();
    throw new GatewayError('invalid_token');
  }
  if (org.disabled || key.role !== 'admin') throw new GatewayError('permission_denied');
  ctx.registry.touchApiKey(key.id);
  return { idHash, principal: { kind: 'apikey', keyId: key.id, organization: key.organization, role: 'admin' }, view };
}

/** A change made with the cookie must carry the session's CSRF token (403 otherwise). */
function checkCsrf(req: FastifyRequest, s: LoadedSession): void {
  if (SAFE_METHODS.has(req.method)) return;
  const sent = req.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || sent === '' || !safeEqual(sent, s.view.csrf_token)) throw new GatewayError('permission_denied');
}

/**
 * Authentication hook for the admin API: when a request to /api/v1/admin/** has no
 * Authorization header but carries the panel's session cookie, the session's principal
 * (CSRF-checked for changes). Returns null when the cookie does not apply, so that the
 * ordinary token authentication runs (and answers 401 when nothing was sent).
 */
export async function sessionPrincipal(ctx: Context, req: FastifyRequest): Promise<Principal | null> {
  if (req.headers.authorization !== undefined) return null;
  if (!req.url.startsWith('/api/v1/admin/')) return null;
  const id = sessionIdFrom(req);
  if (id === null) return null;
  const s = await loadSession(ctx, id);
  checkCsrf(req, s);
  return s.principal;
}

/** The session of a request to the panel's own routes; 401 (and the cookie cleared) without one. */
export async function requireSession(ctx: Context, req: FastifyRequest, reply: FastifyReply): Promise<LoadedSession> {
  const id = sessionIdFrom(req);
  if (id === null) throw new GatewayError('not_authenticated');
  try {
    return await loadSession(ctx, id);
  } catch (err) {
    if (err instanceof GatewayError && err.status === 401) clearCookie(req, reply);
    throw err;
  }
}

/** A browser that says where the request comes from must say this very host (login CSRF). */
function checkOrigin(req: FastifyRequest): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new GatewayError('permission_denied');
  }
  const forwarded = req.headers['x-forwarded-host'];
  const allowed = [req.headers.host, ...(Array.isArray(forwarded) ? forwarded : forwarded ? forwarded.split(',') : [])].map((h) => h?.trim().toLowerCase());
  if (!allowed.includes(host.toLowerCase())) throw new GatewayError('permission_denied');
}

export function registerSessionRoutes(app: FastifyInstance, ctx: Context): void {
  const db = ctx.store.db;

  app.post('/admin/session', async (req, reply) => {
    checkOrigin(req);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('Request body must be a JSON object.');
    for (const k of Object.keys(body)) if (k !== 'token') throw invalidRequest(`Unknown field '${k}'.`);
    const token = (body as { token?: unknown }).token;
    if (token === undefined || token === null) throw invalidRequest(`Field 'token' is required.`);
    if (typeof token !== 'string') throw invalidRequest(`Field 'token' must be a string.`);
    if (token.trim() === '') throw new GatewayError('not_authenticated');
    if (token.length > 1000 || /[\s\u0000-\u001f\u007f]/.test(token.trim())) throw new GatewayError('invalid_token');

    const principal = await authenticate(ctx.registry, ctx.config.adminToken, `Bearer ${token.trim()}`);
    // Member keys call services; only admins manage them.
    if (principal.kind === 'apikey' && principal.role !== 'admin') throw new GatewayError('permission_denied');

    const now = Date.now();
    // Housekeeping: expired sessions are useless; drop them when someone signs in.
    await db.deleteFrom('admin_sessions').where('expires_at', '<=', new Date(now).toISOString()).execute();
    const id = randomBytes(32).toString('base64url');
    const view: PanelSession = {
      actor: principal.kind === 'platform' ? 'platform' : `apikey:${principal.keyId}`,
      organization: principal.kind === 'platform' ? null : principal.organization,
      role: principal.kind === 'platform' ? 'platform' : 'admin',
      csrf_token: randomBytes(32).toString('base64url'),
      expires_at: new Date(now + SESSION_TTL_MS).toISOString(),
    };
    await db
      .insertInto('admin_sessions')
      .values({
        id_hash: hashToken(id),
        actor: view.actor,
        organization: view.organization,
        csrf_token: view.csrf_token,
        expires_at: view.expires_at,
        created_at: nowIso(),
      })
      .execute();
    await audit(ctx, { principal, action: 'session.create', target: 'admin-panel', requestId: req.id });
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .header('set-cookie', cookie(req, id, Math.floor(SESSION_TTL_MS / 1000)))
      .send(view);
  });

  app.get('/admin/session', async (req, reply) => {
    const s = await requireSession(ctx, req, reply);
    return reply.header('cache-control', 'no-store').send(s.view);
  });

  app.delete('/admin/session', async (req, reply) => {
    const id = sessionIdFrom(req);
    let s: LoadedSession | null = null;
    if (id !== null) {
      try {
        s = await loadSession(ctx, id);
      } catch (err) {
        // Unknown or expired: nothing to end; a disabled organization's session still ends.
        if (!(err instanceof GatewayError) || err.code !== 'permission_denied') s = null;
        else await db.deleteFrom('admin_sessions').where('id_hash', '=', hashToken(id)).execute();
      }
    }
    if (s) {
      checkCsrf(req, s);
      await db.deleteFrom('admin_sessions').where('id_hash', '=', s.idHash).execute();
      await audit(ctx, { principal: s.principal, action: 'session.delete', target: 'admin-panel', requestId: req.id });
    }
    clearCookie(req, reply);
    return reply.code(204).header('cache-control', 'no-store').send();
  });
}
