// Upstream failures → the SPEC §7 error to answer.
import { GatewayError } from '../errors.ts';

/** The provider's error code from its body (ElevenLabs detail.code/status, HeyGen error.code / code). */
export function upstreamCode(body: Buffer): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const p = parsed as Record<string, any>;
  const candidates = [p.detail?.code, p.detail?.status, p.error?.code, p.code];
  for (const c of candidates) {
    if (typeof c === 'string' && c !== '') return c;
  }
  if (typeof p.code === 'number') return String(p.code);
  return undefined;
}

/** An upstream answer Portico does not pass through: 401/403 and 5xx. */
export function upstreamStatusError(status: number, body: Buffer): GatewayError {
  const code = upstreamCode(body);
  const opts = { upstreamStatus: status, ...(code !== undefined ? { upstreamCode: code } : {}) };
  return new GatewayError(status === 401 || status === 403 ? 'upstream_auth_failed' : 'upstream_request_failed', opts);
}

/** A transport failure (undici error) before any response byte reached the client. */
export function transportError(err: { code?: string; name?: string }): GatewayError {
  switch (err.code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new GatewayError('upstream_timeout');
    default:
      return new GatewayError('upstream_request_failed');
  }
}
