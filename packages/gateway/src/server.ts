// Builds the Fastify app from a Config. No side effects on import: `createGateway` opens the
// store, applies migrations, loads the catalog and wires routes; `listen`/`close` run it.
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Socket } from 'node:net';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Config } from './config.ts';
import { type Context } from './context.ts';
import { GatewayError, errorEnvelope, invalidRequest } from './errors.ts';
import { errorHeaders } from './http/reply-error.ts';
import { requestIdFrom } from './http/request-id.ts';
import { createLogger } from './logger.ts';
import { Registry } from './registry.ts';
import { openStore, type Store } from './store/db.ts';
import { migrate } from './store/migrations.ts';
import { defaultCatalogDir, loadCatalog } from './catalog/load.ts';
import { syncCatalog } from './catalog/sync.ts';
import { createState, type SharedState } from './state/index.ts';
import { closeTraffic } from './limits/index.ts';
import { authenticate, type Principal } from './auth/authenticate.ts';
import { registerRoutes } from './routes.ts';
import { sessionPrincipal } from './admin-panel/index.ts';
import { registerCors, restrictCorsToOrganization } from './http/cors.ts';
import { invoke, matchInvoke } from './proxy/route.ts';
import { writeRawError } from './http/reply-error.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface Gateway {
  app: FastifyInstance;
  ctx: Context;
  /** Starts listening; resolves to the base URL. */
  listen(): Promise<string>;
  /** Graceful: stop accepting, let in-flight requests finish (bounded), close the store. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  logger?: Logger;
  /** Shared state implementation; defaults to what the config asks for (Redis, PostgreSQL, in-process). */
  state?: SharedState;
}

export async function createGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.logger ?? createLogger(config.logLevel);
  const catalog = loadCatalog(config.catalogDir ?? defaultCatalogDir());
  const store = openStore(config.database);
  try {
    await migrate(store);
    await syncCatalog(store, catalog);
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  const state = options.state ?? (await createState(config, store, log));
  const registry = new Registry(store, config, state);
  const ctx: Context = { config, store, registry, state, log };
  const lifecycle = { closing: false };
  const app = buildApp(ctx, lifecycle);
  await app.ready();

  let closing: Promise<void> | null = null;
  return {
    app,
    ctx,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    },
    close() {
      lifecycle.closing = true;
      closing ??= shutdown(app, ctx, store);
      return closing;
    },
  };
}

async function shutdown(app: FastifyInstance, ctx: Context, store: Store): Promise<void> {
  // Bounded wait for in-flight requests, then cut what is left.
  const timer = setTimeout(() => app.server.closeAllConnections(), ctx.config.shutdownTimeoutMs);
  // A keep-alive connection whose last request just finished is closed at once, not at its timeout.
  const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
    clearInterval(reaper);
  }
  await ctx.registry.close();
  await closeTraffic(ctx); // last usage rows
  await ctx.state.close();
  await store.close();
}

function buildApp(ctx: Context, lifecycle: { closing: boolean }): FastifyInstance {
  const { config } = ctx;
  // Invokes, the hot path, go straight to the pipeline in proxy/route.ts; Fastify gets the rest.
  const serverFactory = (fastifyHandler: (req: IncomingMessage, res: ServerResponse) => void, options: Record<string, unknown>) => {
    const opts = options as { keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number };
    const server = createServer((req, res) => {
      const m = matchInvoke(req.method, req.url);
      if (m === null) return fastifyHandler(req, res);
      if (lifecycle.closing) {
        // As Fastify's return503OnClosing, in the envelope.
        res.shouldKeepAlive = false;
        return writeRawError(res, new GatewayError('service_unavailable'), requestIdFrom(req.headers['x-request-id']));
      }
      void invoke(ctx, req, res, m[0], m[1]); // answers every failure itself, and never rejects
    });
    // What Fastify sets on a server it creates itself.
    server.keepAliveTimeout = opts.keepAliveTimeout;
    server.requestTimeout = opts.requestTimeout;
    server.setTimeout(opts.connectionTimeout);
    return server;
  };
  const app = Fastify({
    serverFactory,
    loggerInstance: ctx.log,
    // One log line per request comes from our own hooks (and the proxy), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    bodyLimit: config.bodyLimit,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    clientErrorHandler: clientError,
    // Errors before routing (a URL that does not percent-decode): in the envelope too.
    frameworkErrors: (err, req, res) => {
      const reply = res as unknown as FastifyReply;
      const gw = err.code === 'FST_ERR_BAD_URL' ? invalidRequest('The request URL is not valid percent-encoding.') : toGatewayError(err);
      void reply.code(gw.status).headers(errorHeaders(gw, req.id)).send(errorEnvelope(gw, req.id));
    },
  }) as unknown as FastifyInstance;

  app.decorateRequest('principal', null);

  // JSON bodies: an empty body with a JSON content type counts as no body (clients that always
  // send the header on DELETE); otherwise Fastify's parser, which refuses prototype poisoning.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') return done(null, undefined);
    parseJson(req, body as string, done);
  });

  // Synchronous hooks (done-callback style) where nothing is awaited: no promise per request.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });

  app.addHook('onResponse', (req, reply, done) => {
    req.log.info({ method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });

  registerCors(app, ctx);

  // Every /api/v1 route needs a principal (SPEC §3); routes check roles themselves. This runs
  // before the body is read, so an unauthenticated caller never gets its body parsed.
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/v1/')) return;
    req.principal = (await sessionPrincipal(ctx, req)) ?? (await authenticate(ctx.registry, config.adminToken, req.headers.authorization));
    if (req.principal.kind === 'apikey' && req.headers.origin) {
      const org = await ctx.registry.org(req.principal.organization);
      restrictCorsToOrganization(ctx, reply, req.headers.origin, org?.corsOrigins ?? null);
    }
  });

  app.setErrorHandler((err: FastifyError | GatewayError, req, reply) => {
    const gw = toGatewayError(err);
    if (gw.status >= 500) req.log.error({ err }, 'unhandled error');
    void reply.code(gw.status).headers(errorHeaders(gw, req.id)).send(errorEnvelope(gw, req.id));
  });

  app.setNotFoundHandler((req, reply) => {
    const err = new GatewayError('not_found');
    void reply.code(404).headers(errorHeaders(err, req.id)).send(errorEnvelope(err, req.id));
  });

  const routes = new Map<string, Set<string>>();
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const set = routes.get(r.url) ?? new Set<string>();
    for (const m of methods) set.add(m);
    routes.set(r.url, set);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (await ctx.store.ping()) return { status: 'ready' };
    throw new GatewayError('service_unavailable');
  });

  registerRoutes(app, ctx);
  addMethodNotAllowed(app, routes);
  return app;
}

/** A known path with another method answers 405 (SPEC §7), not 404. */
function addMethodNotAllowed(app: FastifyInstance, routes: Map<string, Set<string>>): void {
  const all = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
  for (const [url, methods] of [...routes]) {
    const missing = all.filter((m) => !methods.has(m));
    if (missing.length === 0) continue;
    app.route({
      method: missing,
      url,
      handler: async (req: FastifyRequest, _reply: FastifyReply) => {
        throw new GatewayError('method_not_allowed', { params: { method: req.method } });
      },
    });
  }
}

function toGatewayError(err: FastifyError | GatewayError): GatewayError {
  if (err instanceof GatewayError) return err;
  const fe = err as FastifyError;
  if (fe.validation && fe.validation.length > 0) {
    const v = fe.validation[0]!;
    const params = v.params as Record<string, unknown>;
    let field = (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
    if (typeof params.missingProperty === 'string') field = field ? `${field}.${params.missingProperty}` : params.missingProperty;
    if (typeof params.additionalProperty === 'string') return invalidRequest(`Unknown field '${field ? field + '.' : ''}${params.additionalProperty}'.`);
    const where = fe.validationContext === 'querystring' ? 'Query parameter' : 'Field';
    return invalidRequest(
      field ? `${where} '${field}' ${v.message ?? 'is invalid'}.` : `Request ${fe.validationContext ?? 'body'} ${v.message ?? 'is invalid'}.`,
    );
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('payload_too_large');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return invalidRequest('Request body is not valid JSON.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidRequest('Request body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return invalidRequest('Unsupported Content-Type; send application/json.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalidRequest('Content-Length does not match the body.');
  }
  if (err instanceof SyntaxError || fe.statusCode === 400) return invalidRequest('Request body is not valid JSON.');
  if (fe.statusCode === 413) return new GatewayError('payload_too_large');
  return new GatewayError('internal_error');
}

/** The HTTP parser rejected the request (bad header bytes, …): still answer in the envelope. */
function clientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const gw = tooLarge ? new GatewayError('payload_too_large') : invalidRequest('Malformed HTTP request.');
  const id = requestIdFrom(undefined);
  const body = JSON.stringify(errorEnvelope(gw, id));
  socket.end(
    `HTTP/1.1 ${gw.status} ${tooLarge ? 'Payload Too Large' : 'Bad Request'}\r\n` +
      `content-type: application/json; charset=utf-8\r\nx-request-id: ${id}\r\nx-error-source: gateway\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
