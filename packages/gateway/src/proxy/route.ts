// POST /api/v1/external-proxy/{service}/{action}: the invoke pipeline, stage by stage
// (parse-invoke → resolve-endpoint → build-upstream-request → resolve-credential →
// dispatch → relay-response / map-error). Read this function top to bottom. Traffic control
// (SPEC §13: limits, idempotency, usage) lives in src/limits/ and hooks in at the marked points.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Context } from '../context.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import { actingOrganization } from '../auth/authenticate.ts';
import { writeRawError } from '../http/reply-error.ts';
import type { CredentialView } from '../registry.ts';
import type { Resolved } from '../credentials/resolve.ts';
import { parseInvoke, type InvokeRequest } from './parse-invoke.ts';
import { isMultipart, openMultipart } from './multipart.ts';
import { resolveEndpoint, type Target } from './resolve-endpoint.ts';
import { buildBody, buildPath, buildQuery, forwardHeaders } from './build-upstream-request.ts';
import { authHeader, cooldownMs, resolveCredentialFor, retryCandidate } from './resolve-credential.ts';
import { dispatch } from './dispatch.ts';
import { BoundedSink, relayHeaders } from './relay-response.ts';
import { transportError, upstreamStatusError } from './map-error.ts';
import { admitInvoke, keepGatewayAnswer, type Traffic } from '../limits/index.ts';

interface Params {
  service: string;
  action: string;
}

export function registerInvokeRoute(app: FastifyInstance, ctx: Context): void {
  // Multipart invokes arrive unparsed; multipart.ts reads them as a stream.
  app.addContentTypeParser('multipart/form-data', (_req, _payload, done) => done(null, undefined));

  app.post<{ Params: Params }>('/api/v1/external-proxy/:service/:action', { onSend: keepGatewayAnswer }, async (req, reply) => {
    const org = await actingOrganization(ctx.registry, req.principal!, req.headers['x-portico-organization'] as string | undefined);
    // Limits: a refused request ends here (429); RateLimit-* on every answer from here on.
    const traffic = await admitInvoke(ctx, req, reply, org);
    const target = await resolveEndpoint(ctx.registry, org, req.params.service, req.params.action);

    let invoke: InvokeRequest;
    let body: string | Readable | null;
    let contentType: string | undefined;
    let contentLength: number | undefined;
    if (target.endpoint.request_mode === 'multipart') {
      if (!isMultipart(req.headers['content-type'])) {
        throw invalidRequest(`Endpoint '${target.endpoint.slug}' takes multipart/form-data: send the invoke as multipart with a 'payload' field.`);
      }
      const upload = await openMultipart(req.raw, ctx.config.uploadLimit);
      invoke = parseInvoke(upload.payload, false);
      body = upload.body;
      contentType = req.headers['content-type'];
      contentLength = upload.contentLength;
    } else {
      if (isMultipart(req.headers['content-type'])) throw invalidRequest(`Endpoint '${target.endpoint.slug}' does not take multipart/form-data.`);
      invoke = parseInvoke(req.body);
      body = buildBody(target, invoke);
      if (body !== null) {
        contentType = 'application/json';
        contentLength = Buffer.byteLength(body);
      }
    }
    const path = buildPath(target, invoke.path_params) + buildQuery(target, invoke.query);
    // Idempotency-Key: a stored answer is replayed here; a key in use or reused is refused.
    if (await traffic.replayIdempotent(reply, target, invoke)) return reply;
    const resolved = await resolveCredentialFor(ctx, org, target.svc, invoke.credential_source);
    traffic.credentialSource = resolved.source;

    // Headers set by hooks so far (request id, CORS, rate-limit fields) travel with the raw response.
    const own = reply.getHeaders() as Record<string, string>;
    reply.hijack();
    await forward(ctx, req, reply.raw, own, { target, resolved, path, body, contentType, contentLength, traffic });
  });
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
async function forward(ctx: Context, req: FastifyRequest, res: ServerResponse, own: Record<string, string>, out: Outgoing): Promise<void> {
  const { target, resolved, traffic } = out;
  const { svc, endpoint } = target;
  const started = performance.now();
  const controller = new AbortController();
  // A client that goes away aborts the upstream request at once.
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });

  own['x-credential-source'] = resolved.source;
  if (endpoint.deprecated) {
    own.deprecation = 'true';
    if (endpoint.sunset) own.sunset = new Date(`${endpoint.sunset}T00:00:00Z`).toUTCString();
  }
  const base = forwardHeaders(req.headers, req.id);
  if (out.contentType) base['content-type'] = out.contentType;
  if (out.contentLength !== undefined) base['content-length'] = String(out.contentLength);

  let cred = resolved.credential;
  let retried = false;
  let upstreamStatus: number | null = null;
  for (;;) {
    const headers = { ...base };
    const [authName, authValue] = authHeader(svc, cred);
    headers[authName] = authValue;
    ctx.registry.touchCredential(cred.id);

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
          signal: controller.signal,
        },
        ({ statusCode, headers: upstreamHeaders }) => {
          upstreamStatus = statusCode;
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
          return traffic.relay(res, statusCode, relayHeaders(upstreamHeaders, { ...own, 'x-error-source': 'upstream' }));
        },
      );
    } catch (err) {
      if (controller.signal.aborted) return logInvoke(req, target, resolved, 499, upstreamStatus, started);
      const gw = err instanceof GatewayError ? err : transportError(err as { code?: string });
      if (gw.status >= 500) req.log.warn({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'upstream failure');
      writeRawError(res, gw, req.id, own);
      return logInvoke(req, target, resolved, gw.status, upstreamStatus, started);
    }
    if (verdict === 'retry' && next) {
      cred = next;
      retried = true;
      continue;
    }
    if (verdict === 'error') {
      const gw = upstreamStatusError(upstreamStatus!, (sink as BoundedSink | null)?.body() ?? Buffer.alloc(0));
      writeRawError(res, gw, req.id, own);
      return logInvoke(req, target, resolved, gw.status, upstreamStatus, started);
    }
    return logInvoke(req, target, resolved, res.statusCode, upstreamStatus, started);
  }
}

function logInvoke(
  req: FastifyRequest,
  target: Target,
  resolved: Resolved<CredentialView>,
  status: number,
  upstreamStatus: number | null,
  started: number,
): void {
  req.log.info(
    {
      service: target.svc.slug,
      action: target.endpoint.slug,
      status,
      upstream_status: upstreamStatus,
      credential_source: resolved.source,
      ms: Math.round((performance.now() - started) * 10) / 10,
    },
    'invoke',
  );
}
