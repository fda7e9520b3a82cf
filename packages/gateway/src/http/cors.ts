// CORS for browser clients (the SDK in a web page). Origins come from PORTICO_CORS_ORIGINS
// (every organization) and each organization's `cors_origins`. A preflight carries no
// credentials, so it is answered for any configured origin; the real request then keeps its
// CORS headers only when the origin belongs to the caller's organization (or is global).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../context.ts';
import { warm } from '../registry.ts';

const EXPOSED = [
  'x-request-id',
  'x-error-source',
  'x-credential-source',
  'x-upstream-request-id',
  'retry-after',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'idempotent-replayed',
  'deprecation',
  'sunset',
  'content-length',
  'character-cost',
  'request-id',
  'history-item-id',
].join(', ');

/** Whether answers to `origin` carry CORS fields at all: listed globally or by any organization. */
export async function corsConfigured(ctx: Context, origin: string): Promise<boolean> {
  return warm(() => corsConfiguredNow(ctx, origin));
}

/** `corsConfigured` from the registry's loaded origins; throws Cold when they are not (see `warm`). */
export function corsConfiguredNow(ctx: Context, origin: string): boolean {
  const global = ctx.config.corsOrigins;
  return global.includes('*') || global.includes(origin) || ctx.registry.corsOriginsNow().has(origin);
}

/** The CORS fields of an actual (non-preflight) answer to `origin`. */
export function corsAnswerHeaders(origin: string): Record<string, string> {
  return { 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': EXPOSED };
}

/** After authentication: an organization's key keeps CORS only for its own origins (or global ones). */
export function organizationAllowsOrigin(ctx: Context, origin: string, orgOrigins: string[] | null): boolean {
  const global = ctx.config.corsOrigins;
  return global.includes('*') || global.includes(origin) || (orgOrigins !== null && orgOrigins.includes(origin));
}

export function registerCors(app: FastifyInstance, ctx: Context): void {
  async function cors(req: FastifyRequest, reply: FastifyReply, origin: string): Promise<unknown> {
    if (!(await corsConfigured(ctx, origin))) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('vary', 'Origin');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      reply.header('access-control-allow-methods', 'GET, POST, PUT, PATCH, DELETE');
      reply.header('access-control-allow-headers', req.headers['access-control-request-headers'] ?? 'authorization, content-type');
      reply.header('access-control-max-age', '600');
      return reply.code(204).send();
    }
    reply.header('access-control-expose-headers', EXPOSED);
  }

  // Most requests carry no Origin: answer those synchronously, without a promise.
  app.addHook('onRequest', (req, reply, done) => {
    const origin = req.headers.origin;
    if (!origin) return done();
    cors(req, reply, origin).then(() => {
      if (!reply.sent) done();
    }, done);
  });
}

/** After authentication: an organization's key keeps CORS only for its own origins. */
export function restrictCorsToOrganization(ctx: Context, reply: FastifyReply, origin: string | undefined, orgOrigins: string[] | null): void {
  if (!origin || !reply.hasHeader('access-control-allow-origin')) return;
  if (!organizationAllowsOrigin(ctx, origin, orgOrigins)) {
    reply.removeHeader('access-control-allow-origin');
    reply.removeHeader('access-control-expose-headers');
  }
}
