// CORS for browser clients (the SDK in a web page). Origins come from PORTICO_CORS_ORIGINS
// (every organization) and each organization's `cors_origins`. A preflight carries no
// credentials, so it is answered for any configured origin; the real request then keeps its
// CORS headers only when the origin belongs to the caller's organization (or is global).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../context.ts';

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

export function registerCors(app: FastifyInstance, ctx: Context): void {
  const global = new Set(ctx.config.corsOrigins);
  const anyOrigin = global.has('*');

  async function configured(origin: string): Promise<boolean> {
    return anyOrigin || global.has(origin) || (await ctx.registry.corsOrigins()).has(origin);
  }

  async function cors(req: FastifyRequest, reply: FastifyReply, origin: string): Promise<unknown> {
    if (!(await configured(origin))) return;
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
  if (ctx.config.corsOrigins.includes('*') || ctx.config.corsOrigins.includes(origin)) return;
  if (orgOrigins === null || !orgOrigins.includes(origin)) {
    reply.removeHeader('access-control-allow-origin');
    reply.removeHeader('access-control-expose-headers');
  }
}
