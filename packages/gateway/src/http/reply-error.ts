// Writing the SPEC §7 envelope: its headers for Fastify's error handler, and whole answers on
// the raw invoke path.
import type { ServerResponse } from 'node:http';
import { GatewayError, errorEnvelope } from '../errors.ts';

/** Headers every gateway error carries, plus the error's own (e.g. Retry-After). */
export function errorHeaders(err: GatewayError, requestId: string): Record<string, string> {
  return { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, 'x-error-source': 'gateway', ...err.headers };
}

/**
 * Writes the envelope on a raw response (the invoke path, a request refused while closing).
 * `keep` sees the answer's headers and body before it is sent. Returns the body's size in bytes
 * (0 when it was too late for an envelope).
 */
export function writeRawError(
  res: ServerResponse,
  err: GatewayError,
  requestId: string,
  extraHeaders?: Record<string, string>,
  keep?: (headers: Record<string, string>, body: string) => void,
): number {
  if (res.headersSent || res.destroyed) {
    // Too late for an envelope: cut the stream so the client sees a failure, not a short body.
    res.destroy();
    return 0;
  }
  const body = JSON.stringify(errorEnvelope(err, requestId));
  const headers = { ...extraHeaders, ...errorHeaders(err, requestId) };
  keep?.(headers, body);
  const size = Buffer.byteLength(body);
  res.writeHead(err.status, { ...headers, 'content-length': String(size) });
  res.end(body);
  return size;
}
