// Writing the SPEC §7 envelope. Used by Fastify's error handler and by the proxy, which
// writes raw responses after hijacking the reply.
import type { ServerResponse } from 'node:http';
import { GatewayError, errorEnvelope } from '../errors.ts';

/** Headers every gateway error carries, plus the error's own (e.g. Retry-After). */
export function errorHeaders(err: GatewayError, requestId: string): Record<string, string> {
  return { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, 'x-error-source': 'gateway', ...err.headers };
}

export function writeRawError(res: ServerResponse, err: GatewayError, requestId: string, extraHeaders?: Record<string, string>): void {
  if (res.headersSent) {
    // Too late for an envelope: cut the stream so the client sees a failure, not a short body.
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorEnvelope(err, requestId));
  res.writeHead(err.status, { ...extraHeaders, ...errorHeaders(err, requestId), 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
