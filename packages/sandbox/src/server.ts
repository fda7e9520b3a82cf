// One listening server per faked provider. Every request goes through the same steps:
//   X-Sandbox-Delay-Ms → route (404/405 in the provider's shape) → key check (401) →
//   fault (status, reset, hang, slow, cut) → the route's handler.
// A bad key wins over a fault, as real providers authenticate before anything else.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodyTooLarge, requestId, resetConnection, sendAnswer, sendJson, sleep, type Ctx } from './http.ts';
import { Router, type Route } from './router.ts';
import { FAULT_HELP, SLOW_MS, requestedDelayMs, requestedFault, requestedPaceMs, requestedRetryAfter } from './faults.ts';
import { validKey, type ErrorInfo, type Provider } from './provider.ts';

export interface ServiceServer {
  readonly slug: string;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

const EMPTY_QUERY = new URLSearchParams();

export function createServiceServer(provider: Provider, extraRoutes: Route[], paceMs: number): ServiceServer {
  const router = new Router([...provider.routes, ...extraRoutes]);
  // Aborted on close: pending delays and paced streams end instead of holding the process.
  const closing = new AbortController();
  let fallbackBase = 'http://127.0.0.1';

  function context(req: IncomingMessage, res: ServerResponse): Ctx {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rid = requestId();
    const host = req.headers.host;
    return {
      req,
      res,
      method: req.method ?? 'GET',
      path: q < 0 ? url : url.slice(0, q),
      query: q < 0 ? EMPTY_QUERY : new URLSearchParams(url.slice(q + 1)),
      params: {},
      headers: provider.baseHeaders(rid),
      requestId: rid,
      baseUrl: host ? `http://${host}` : fallbackBase,
      paceMs: requestedPaceMs(req, paceMs),
      cut: false,
      signal: closing.signal,
    };
  }

  async function handle(ctx: Ctx): Promise<void> {
    const { req, res, path, query, requestId: rid } = ctx;
    const info = (): ErrorInfo => ({ path, params: ctx.params, requestId: rid, retryAfter: requestedRetryAfter(req) });

    const wait = requestedDelayMs(req);
    if (wait > 0 && !(await sleep(wait, closing.signal))) return;

    const match = router.match(ctx.method, path);
    if (!match.route) {
      sendAnswer(ctx, match.allowed.length ? provider.methodNotAllowed(info(), match.allowed) : provider.notFound(info()));
      return;
    }
    ctx.params = match.params;

    if (!match.route.public && !validKey(req.headers[provider.authHeader])) {
      sendAnswer(ctx, provider.unauthorized(info()));
      return;
    }

    const asked = requestedFault(req, query, path);
    if ('invalid' in asked) {
      sendJson(ctx, 400, { sandbox_error: `unknown X-Sandbox-Fault value '${asked.invalid}'; use one of: ${FAULT_HELP}` });
      return;
    }
    const fault = asked.fault;
    if (fault) {
      switch (fault.kind) {
        case 'reset':
          resetConnection(res);
          return;
        case 'hang':
          // No answer at all; close() destroys the socket if the client never gives up.
          return;
        case 'slow':
          if (!(await sleep(SLOW_MS, closing.signal))) return;
          break;
        case 'cut':
          ctx.cut = true;
          break;
        case 'status': {
          const e = info();
          if (fault.code) e.code = fault.code;
          sendAnswer(ctx, provider.fault(fault.status, e));
          return;
        }
      }
    }
    await match.route.handler(ctx);
  }

  const server: Server = createServer(
    // Long keep-alive so that benchmark clients reuse connections instead of racing the timeout;
    // no request timeout so that slow multi-gigabyte uploads are not cut off.
    { keepAliveTimeout: 65_000, requestTimeout: 0 },
    (req, res) => {
      const ctx = context(req, res);
      handle(ctx).catch((err: unknown) => failed(ctx, err));
    },
  );

  function failed(ctx: Ctx, err: unknown): void {
    if (ctx.res.headersSent) {
      ctx.res.destroy();
      return;
    }
    if (err instanceof BodyTooLarge) {
      sendJson(ctx, 413, { sandbox_error: err.message });
      return;
    }
    process.stderr.write(`sandbox ${provider.slug}: ${ctx.method} ${ctx.path}: ${(err as Error).stack ?? String(err)}\n`);
    const info: ErrorInfo = { path: ctx.path, params: ctx.params, requestId: ctx.requestId, retryAfter: '1' };
    sendAnswer(ctx, provider.fault(500, info));
  }
  server.headersTimeout = 66_000;

  return {
    slug: provider.slug,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address() as AddressInfo;
          const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          fallbackBase = `http://${shown}:${addr.port}`;
          resolve(addr.port);
        });
      });
    },
    close() {
      closing.abort();
      return new Promise((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        // Idle keep-alive sockets and requests held by `hang` would otherwise keep it open.
        server.closeAllConnections();
      });
    },
  };
}
