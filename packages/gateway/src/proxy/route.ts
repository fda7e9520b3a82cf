// POST /api/v1/external-proxy/{service}/{action}: the invoke pipeline, stage by stage
// (parse-invoke → resolve-endpoint → build-upstream-request → resolve-credential →
// dispatch → relay-response / map-error). Read `invoke` top to bottom. Traffic control
// (SPEC §13: limits, idempotency, usage) lives in src/limits/ and hooks in at the marked points.
//
// Invokes are the gateway's hot path, so they skip Fastify's request lifecycle: server.ts hands
// a request that `matchInvoke` accepts straight to `invoke` with the raw node:http objects, and
// this file does for it what Fastify and server.ts's hooks do for every other route: the request
// id, CORS, authentication, reading the JSON body, the error envelope and one log line.
// Fastify still routes every other method on these paths (405) and everything else.
import type { IncomingMessage, ServerResponse } from 'node:http';
// Imported rather than the globals: globalThis.performance and .Buffer are getters, read on every use.
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import type { Context } from '../context.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import { actingOrganizationNow, authenticateNow, type Principal } from '../auth/authenticate.ts';
import { requestIdFrom } from '../http/request-id.ts';
import { bodyArrived, readJsonBody, StalledBodies } from '../http/body.ts';
import type { Swept } from '../http/sweep.ts';
import { corsAnswerHeaders, corsConfiguredNow, organizationAllowsOrigin } from '../http/cors.ts';
import { writeRawError } from '../http/reply-error.ts';
import { warm, type CredentialView, type OrgView } from '../registry.ts';
import type { Resolved } from '../credentials/resolve.ts';
import { parseInvoke, type InvokeRequest } from './parse-invoke.ts';
import { isMultipart, openMultipart } from './multipart.ts';
import { resolveEndpoint, type Target } from './resolve-endpoint.ts';
import { buildBody, buildPath, buildQuery, forwardHeaders } from './build-upstream-request.ts';
import { authValue, cooldownMs, resolveCredentialFor, retryCandidate } from './resolve-credential.ts';
import { ClientGone, dispatch } from './dispatch.ts';
import { BoundedSink, relayHeaders } from './relay-response.ts';
import { transportError, upstreamStatusError } from './map-error.ts';
import { admitInvoke, type Traffic } from '../limits/index.ts';

export const INVOKE_PREFIX = '/api/v1/external-proxy/';
/** Longest service or action segment routed (as Fastify's maxParamLength). */
const MAX_SEGMENT = 500;

/** One invoke request as every stage sees it. */
export interface InvokeCall {
  readonly id: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly service: string;
  readonly action: string;
  /** When the invoke arrived (performance.now()): its log line and usage row time it from here. */
  readonly started: number;
  /** The same moment by the wall clock (Date.now()): its request id, usage minute, expiry checks and last-used times. */
  readonly at: number;
  /** Fields Portico puts on every answer to this request: request id, CORS, RateLimit-*. */
  readonly own: Record<string, string>;
  principal: Principal | null;
  traffic: Traffic | null;
  /** Upstream status of the last attempt, for the log line. */
  upstreamStatus: number | null;
  credentialSource: string | null;
  /** The client closed the connection before its answer was complete. */
  clientGone: boolean;
  /** The upstream request in flight, to cut when the client leaves (Traffic's 'close' listener). */
  upstream: { abort(err: Error): void } | null;
  /** Body progress and list links, for StalledBodies. */
  bodyBytes: number;
  bodySince: number;
  sweepPrev: Swept | null;
  sweepNext: Swept | null;
}

/**
 * `POST /api/v1/external-proxy/{service}/{action}` (a trailing slash and a query string allowed)
 * → the decoded segments; null for anything else, which Fastify then routes. `services/…` are
 * discovery paths.
 */
export function matchInvoke(method: string | undefined, url: string | undefined): [string, string] | null {
  if (method !== 'POST' || url === undefined || !url.startsWith(INVOKE_PREFIX)) return null;
  // Index arithmetic on the URL itself: only the two segments are cut out of it.
  const from = INVOKE_PREFIX.length;
  let end = url.indexOf('?', from);
  if (end === -1) end = url.length;
  if (url.charCodeAt(end - 1) === 47 /* '/' */) end--;
  const slash = url.indexOf('/', from);
  if (slash <= from || slash >= end - 1) return null;
  const more = url.indexOf('/', slash + 1);
  if (more !== -1 && more < end) return null;
  if (slash - from > MAX_SEGMENT || end - slash - 1 > MAX_SEGMENT) return null;
  let service = url.slice(from, slash);
  let action = url.slice(slash + 1, end);
  if (service === 'services') return null;
  const percent = url.indexOf('%', from);
  if (percent !== -1 && percent < end) {
    try {
      service = decodeURIComponent(service);
      action = decodeURIComponent(action);
    } catch {
      return null;
    }
  }
  return [service, action];
}

/**
 * Fastify's share of the invoke paths: a POST that `matchInvoke` refused (a segment too long to
 * route) is not an invoke: 404. The other methods get their 405 from server.ts like every route.
 */
export function registerInvokeRoute(app: FastifyInstance): void {
  app.post(`${INVOKE_PREFIX}:service/:action`, async () => {
    throw new GatewayError('not_found');
  });
}

/**
 * Answers one invoke. Never rejects: a stage's failure becomes a SPEC §7 envelope, and a failure
 * of that answer or of the log line (a bug) is logged and closes the connection, the last guard
 * that keeps the process up. It is here rather than a `.catch` at the call site, which would cost
 * a closure and a promise per request.
 */
export async function invoke(ctx: Context, req: IncomingMessage, res: ServerResponse, service: string, action: string): Promise<void> {
  try {
    const call = newCall(req, res, service, action);
    // A body still arriving is watched for stalls (see stalledBodies).
    const watch = req.complete ? null : stalledBodies(ctx);
    watch?.add(call);
    // The stages below are plain calls in one async function (an async stage would cost a promise
    // and a microtask hop per request), and each is synchronous when what it reads is already there
    // (the registry's views loaded, no limits to check), which is the usual case: a warm invoke then
    // awaits only its body and its upstream answer.
    try {
      const caller = warm(() => callerOf(ctx, call));
      const org = caller instanceof Promise ? await caller : caller;
      // Limits: a refused request ends here (429); RateLimit-* on every answer from here on, and the
      // invoke is metered whatever happens next (a body that is not JSON, a client that leaves). An
      // organization without limits is admitted synchronously (no shared-state call to wait for).
      const admitted = admitInvoke(ctx, call, org);
      const traffic = admitted instanceof Promise ? await admitted : admitted;
      // Multipart invokes are read as a stream once the endpoint is known; JSON ones right away.
      const multipart = isMultipart(req.headers['content-type']);
      let json: unknown;
      if (!multipart) {
        if (!req.complete) await bodyArrived();
        const read = readJsonBody(req, ctx.config.bodyLimit);
        json = read instanceof Promise ? await read : read;
      }
      const found = warm(() => resolveEndpoint(ctx.registry, org, call.service, call.action));
      const target = found instanceof Promise ? await found : found;

      let request: InvokeRequest;
      let body: string | Readable | null;
      let contentType: string | undefined;
      let contentLength: number | undefined;
      if (target.endpoint.request_mode === 'multipart') {
        if (!multipart) {
          throw invalidRequest(`Endpoint '${target.endpoint.slug}' takes multipart/form-data: send the invoke as multipart with a 'payload' field.`);
        }
        const upload = await openMultipart(req, ctx.config.uploadLimit);
        request = parseInvoke(upload.payload, false);
        body = upload.body;
        contentType = req.headers['content-type'];
        contentLength = upload.contentLength;
      } else {
        if (multipart) throw invalidRequest(`Endpoint '${target.endpoint.slug}' does not take multipart/form-data.`);
        request = parseInvoke(json);
        body = buildBody(target, request);
        if (body !== null) {
          contentType = 'application/json';
          contentLength = Buffer.byteLength(body);
        }
      }
      const path = buildPath(target, request.path_params) + buildQuery(target, request.query);
      // Idempotency-Key: a stored answer is replayed here; a key in use or reused is refused.
      if (req.headers['idempotency-key'] !== undefined && (await traffic.replayIdempotent(target, request))) return;
      const chosen = warm(() => resolveCredentialFor(ctx, org, target.svc, request.credential_source, call.at));
      const resolved = chosen instanceof Promise ? await chosen : chosen;
      call.credentialSource = resolved.source;

      await forward(ctx, call, { target, resolved, path, body, contentType, contentLength, traffic });
    } catch (err) {
      answerError(ctx, call, err);
    } finally {
      watch?.delete(call);
      logInvoke(ctx, call);
    }
  } catch (err) {
    ctx.log.error({ err }, 'invoke failed outside its error handling');
    res.destroy();
  }
}

function newCall(req: IncomingMessage, res: ServerResponse, service: string, action: string): InvokeCall {
  const at = Date.now();
  const id = requestIdFrom(req.headers['x-request-id'], at);
  return {
    id,
    req,
    res,
    service,
    action,
    started: performance.now(),
    at,
    own: { 'x-request-id': id },
    principal: null,
    traffic: null,
    upstreamStatus: null,
    credentialSource: null,
    clientGone: false,
    upstream: null,
    bodyBytes: -1,
    bodySince: 0,
    sweepPrev: null,
    sweepNext: null,
  };
}

const watches = new WeakMap<Context, StalledBodies<InvokeCall>>();

/**
 * A body still arriving may pause for at most PORTICO_BODY_TIMEOUT_MS: a client that stops
 * sending (or trickles slower than that) is answered 400 and disconnected, so that it cannot hold
 * a connection, and a streamed upstream upload, forever. The limit is per pause, not for the
 * whole body, so that slow links can still send large uploads.
 */
function stalledBodies(ctx: Context): StalledBodies<InvokeCall> {
  let w = watches.get(ctx);
  if (w === undefined) {
    w = new StalledBodies<InvokeCall>(ctx.config.bodyTimeoutMs, (call) => {
      // Closed once the answer is out: the rest of the body is never read.
      call.res.shouldKeepAlive = false;
      const size = writeRawError(call.res, invalidRequest('Request body was not received in time.'), call.id, call.own);
      call.traffic?.answeredOwn(size);
    });
    watches.set(ctx, w);
  }
  return w;
}

/**
 * What server.ts's hooks do for the other /api/v1 routes: CORS for a configured origin, the
 * principal (SPEC §3), then the organization it acts for. Throws Cold until the registry has
 * loaded what it reads (run it through `warm`; running it again is harmless).
 */
function callerOf(ctx: Context, call: InvokeCall): OrgView {
  const { req, own } = call;
  const origin = req.headers.origin;
  if (origin !== undefined && corsConfiguredNow(ctx, origin)) Object.assign(own, corsAnswerHeaders(origin));
  const principal = authenticateNow(ctx.registry, ctx.config.adminToken, req.headers.authorization, req.socket ?? undefined, call.at);
  call.principal = principal;
  if (principal.kind === 'apikey' && own['access-control-allow-origin'] !== undefined) {
    const keyOrg = ctx.registry.orgNow(principal.organization);
    if (!organizationAllowsOrigin(ctx, origin!, keyOrg?.corsOrigins ?? null)) {
      delete own['access-control-allow-origin'];
      delete own['access-control-expose-headers'];
    }
  }
  return actingOrganizationNow(ctx.registry, principal, req.headers['x-portico-organization'] as string | undefined);
}

interface Outgoing {
  target: Target;
  resolved: Resolved<CredentialView>;
  path: string;
  body: string | Readable | null;
  contentType: string | undefined;
  contentLength: number | undefined;
  traffic: Traffic;
}

/** Dispatch, relay, and the one retry on another pooled key after a cool-down status. */
async function forward(ctx: Context, call: InvokeCall, out: Outgoing): Promise<void> {
  const { res, own } = call;
  const { target, resolved, traffic } = out;
  const { svc, endpoint } = target;

  own['x-credential-source'] = resolved.source;
  if (endpoint.deprecated) {
    own.deprecation = 'true';
    if (endpoint.sunset) own.sunset = new Date(`${endpoint.sunset}T00:00:00Z`).toUTCString();
  }
  const headers = forwardHeaders(call.req.headers, call.id, svc.authHeaderName);
  if (out.contentType) headers.push('content-type', out.contentType);
  if (out.contentLength !== undefined) headers.push('content-length', String(out.contentLength));
  // The credential's field comes last; a retry replaces its value.
  const auth = headers.push(svc.authHeaderName, '') - 1;

  let cred = resolved.credential;
  let retried = false;
  for (;;) {
    if (call.clientGone) return; // left while the request was being prepared
    headers[auth] = authValue(svc, cred);
    ctx.registry.touchCredential(cred.id, call.at);

    let verdict = 'relayed' as 'relayed' | 'retry' | 'error';
    let sink: BoundedSink | null = null;
    let next: CredentialView | null = null;
    try {
      await dispatch(
        {
          origin: svc.origin,
          path: svc.basePath + out.path,
          method: endpoint.method,
          headers,
          body: out.body,
          timeoutMs: target.timeoutMs,
          link: call,
          tally: traffic,
        },
        (statusCode, upstreamHeaders) => {
          call.upstreamStatus = statusCode;
          traffic.upstreamAnswered(svc, statusCode, upstreamHeaders);
          if (statusCode < 400) return traffic.relay(res, statusCode, relayHeaders(upstreamHeaders, own));
          if (svc.def.cooldown_statuses.includes(statusCode)) {
            ctx.state.cooldowns.coolDown(cred.id, cooldownMs(ctx, statusCode, upstreamHeaders['retry-after']));
            // A streamed upload cannot be replayed, so only buffered bodies get the retry.
            next = retried || (out.body !== null && typeof out.body !== 'string') ? null : retryCandidate(ctx, svc, resolved);
            if (next) {
              verdict = 'retry';
              return new BoundedSink(0);
            }
          }
          if (statusCode === 401 || statusCode === 403 || statusCode >= 500) {
            verdict = 'error';
            sink = new BoundedSink();
            return sink;
          }
          // Any other 4xx is the provider's answer to the client's request: pass it through.
          return traffic.relay(res, statusCode, relayHeaders(upstreamHeaders, own, 'upstream'));
        },
      );
    } catch (err) {
      if (err instanceof ClientGone) {
        call.clientGone = true; // finish() meters it as 499
        return;
      }
      const gw = err instanceof GatewayError ? err : transportError(err as { code?: string });
      if (gw.status >= 500)
        ctx.log.warn({ reqId: call.id, err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'upstream failure');
      throw gw;
    }
    if (verdict === 'retry' && next) {
      cred = next;
      retried = true;
      continue;
    }
    if (verdict === 'error') throw upstreamStatusError(call.upstreamStatus!, (sink as BoundedSink | null)?.body() ?? Buffer.alloc(0));
    return;
  }
}

/** The SPEC §7 envelope for anything `invoke`'s stages threw; kept for idempotent replays when reserved. */
function answerError(ctx: Context, call: InvokeCall, err: unknown): void {
  const { res } = call;
  let gw: GatewayError;
  if (err instanceof GatewayError) gw = err;
  else {
    ctx.log.error({ reqId: call.id, err }, 'unhandled error');
    gw = new GatewayError('internal_error');
  }
  // An answer kept for idempotent replays is kept before its last byte goes out (Traffic).
  // Written first: with no Traffic (refused before admission) `?.` would skip the argument too.
  const size = writeRawError(res, gw, call.id, call.own, (headers, body) => call.traffic?.gatewayAnswered(gw.status, headers, body));
  call.traffic?.answeredOwn(size);
}

function logInvoke(ctx: Context, call: InvokeCall): void {
  if (!ctx.log.isLevelEnabled('info')) return;
  const res = call.res;
  ctx.log.info(
    {
      reqId: call.id,
      service: call.service,
      action: call.action,
      status: call.clientGone || !res.headersSent ? 499 : res.statusCode,
      upstream_status: call.upstreamStatus,
      credential_source: call.credentialSource,
      ms: Math.round((performance.now() - call.started) * 10) / 10,
    },
    'invoke',
  );
}
