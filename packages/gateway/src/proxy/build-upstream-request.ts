// Stage 3: the upstream request line, headers and body, with strict checks on everything
// the client controls (SPEC §5): path parameters, the query allow-list, the body mode.
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError, invalidRequest } from '../errors.ts';
import type { InvokeRequest } from './parse-invoke.ts';
import type { Target } from './resolve-endpoint.ts';
import { connectionNamed } from './relay-response.ts';

// Never forwarded: the client's credentials and the hop-by-hop set (RFC 9110 §7.6.1), the
// invoke envelope's own framing, and Portico's control headers.
const DROP_REQUEST = new Set([
  'authorization',
  'cookie',
  'host',
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'content-type',
  'accept-encoding',
  'x-request-id',
  'x-portico-organization',
  'idempotency-key',
  'expect',
  'origin',
  'referer',
]);

const UNSAFE_SEGMENT = /[/\\\x00-\x1f\x7f]/;

export function buildPath(target: Target, params: Record<string, unknown>): string {
  const { endpoint } = target;
  let path = endpoint.path_template;
  for (const name of endpoint.path_params) {
    const value = params[name];
    if (value === undefined || value === null || value === '') throw new GatewayError('missing_path_parameter', { params: { name } });
    if (typeof value !== 'string' && typeof value !== 'number') throw invalidRequest(`Path parameter '${name}' must be a string or a number.`);
    const raw = String(value);
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      decoded = raw;
    }
    if (
      UNSAFE_SEGMENT.test(raw) ||
      UNSAFE_SEGMENT.test(decoded) ||
      decoded === '.' ||
      decoded === '..' ||
      (!Number.isFinite(Number(value)) && typeof value === 'number')
    ) {
      throw new GatewayError('invalid_path_parameter', { params: { name } });
    }
    path = path.replace(`{${name}}`, encodeURIComponent(raw));
  }
  return path;
}

export function buildQuery(target: Target, query: Record<string, unknown>): string {
  const allowed = target.endpoint.query_params;
  let qs = '';
  for (const name in query) {
    if (!allowed.includes(name)) throw new GatewayError('invalid_query_parameter', { params: { name } });
    const value = query[name];
    if (value === null || value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw invalidRequest(`Query parameter '${name}' must be a string, number, boolean or an array of them.`);
      }
      qs += (qs ? '&' : '?') + encodeURIComponent(name) + '=' + encodeURIComponent(String(v));
    }
  }
  return qs;
}

/** The JSON body to send upstream, or null for none. */
export function buildBody(target: Target, invoke: InvokeRequest): string | null {
  const mode = target.endpoint.request_mode;
  if (mode === 'none') {
    if (invoke.body !== undefined && invoke.body !== null) {
      throw invalidRequest(`Field 'body' must be absent: endpoint '${target.endpoint.slug}' takes no request body.`);
    }
    return null;
  }
  if (mode === 'json') return invoke.body === undefined || invoke.body === null ? '{}' : JSON.stringify(invoke.body);
  return null;
}

/**
 * Client headers that may reach the upstream, plus Portico's request id, as a flat name, value, …
 * list (undici takes one). The field that carries the provider key (`authHeader`, lower case) is
 * Portico's to set, so the client's own is left out.
 */
export function forwardHeaders(incoming: IncomingHttpHeaders, requestId: string, authHeader: string): string[] {
  const out: string[] = [];
  const named = connectionNamed(incoming.connection);
  for (const name in incoming) {
    if (DROP_REQUEST.has(name) || name === authHeader || name.startsWith('x-forwarded-') || name.startsWith('sec-') || named?.has(name)) continue;
    const v = incoming[name];
    if (typeof v === 'string') out.push(name, v);
    else if (v !== undefined) for (const each of v) out.push(name, each); // a repeated field, as received
  }
  out.push('x-request-id', requestId);
  return out;
}
