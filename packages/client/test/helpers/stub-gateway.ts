// A small stand-in for the Portico gateway: the discovery routes (SPEC §4) and invoke (SPEC §5)
// with the SPEC's shapes and error envelope (SPEC §7), built from a catalog folder, and able to
// fail on demand. Every request is recorded so that tests can count them.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadCatalog, type CatalogService } from '../../scripts/generate.ts';
import type { Endpoint, ServiceDetail, ServiceSummary } from '../../src/types.ts';

export const FIXTURE_CATALOG = fileURLToPath(new URL('../fixtures/catalog', import.meta.url));
export const API_KEY = 'pk_test_key';
export const PLATFORM_TOKEN = 'platform_admin_token';

/** The bytes every `binary` endpoint answers: 4 KiB covering every byte value. */
export const BINARY = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7 + 3) % 256));
/** The chunks every `stream` endpoint sends, flushed one by one. */
export const STREAM_CHUNKS = ['chunk-0;', 'chunk-1;', 'chunk-2;'];

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or for multipart `{payload, fields}`; null when empty. */
  body: unknown;
  at: number;
}

/** What the next invoke does instead of its normal answer. */
export type Fault =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { destroy: true }
  | { hang: true }
  | ((req: IncomingMessage, res: ServerResponse) => void);

export interface StubGateway {
  url: string;
  requests: Recorded[];
  /** Recorded invoke requests (`POST /api/v1/external-proxy/{service}/{action}`). */
  invokes(): Recorded[];
  /** Recorded `GET .../services/{slug}` requests. */
  serviceFetches(slug?: string): Recorded[];
  /** Faults for the next invoke requests, in order. */
  queue(...faults: Fault[]): void;
  /** Replace a service's detail, e.g. to add an endpoint. */
  services: Map<string, ServiceDetail>;
  close(): Promise<void>;
}

function toDetail(s: CatalogService): ServiceDetail {
  const endpoints: Endpoint[] = s.endpoints.map((e) => ({
    slug: e.slug,
    name: e.name,
    description: e.description,
    method: e.method,
    path_template: e.path_template,
    path_params: [...e.path_template.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!),
    query_params: e.query_params,
    request_mode: e.request_mode as Endpoint['request_mode'],
    response_mode: e.response_mode as Endpoint['response_mode'],
    content_type: e.response_mode === 'json' ? 'application/json' : 'audio/mpeg',
    ...(e.deprecated ? { deprecated: true, sunset: e.sunset } : {}),
  }));
  return {
    slug: s.slug,
    name: s.name,
    description: s.description ?? `${s.name} API`,
    credential_name: s.slug,
    endpoint_count: endpoints.length,
    docs_url: null,
    credential_policy: { allow_tenant_key: true, allow_platform_key: true, default_source: 'tenant', fallback_to_platform_key: true },
    credentials_configured: { tenant: false, platform: true },
    endpoints,
  };
}

const MESSAGES: Record<string, [number, string, string]> = {
  not_authenticated: [401, 'authentication_error', 'Authentication credentials were not provided.'],
  invalid_token: [401, 'authentication_error', 'Invalid token.'],
  permission_denied: [403, 'permission_error', 'You do not have permission to perform this action.'],
  not_found: [404, 'not_found_error', 'Not found.'],
};

let nextId = 0;

export function envelope(code: string, type: string, message: string, requestId: string): Record<string, unknown> {
  return { detail: message, error: { type, code, message }, request_id: requestId };
}

export async function startStubGateway(options: { catalogDir?: string } = {}): Promise<StubGateway> {
  const services = new Map<string, ServiceDetail>();
  for (const s of loadCatalog(options.catalogDir ?? FIXTURE_CATALOG)) services.set(s.slug, toDetail(s));
  const requests: Recorded[] = [];
  const faults: Fault[] = [];
  const hanging = new Set<ServerResponse>();

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const contentType = req.headers['content-type'] ?? '';
    let body: unknown = null;
    if (contentType.startsWith('multipart/form-data')) {
      const form = await new Request('http://stub/', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
      const fields: Record<string, unknown> = {};
      let payload: unknown = null;
      for (const [k, v] of form) {
        if (k === 'payload') payload = JSON.parse(String(v));
        else if (typeof v === 'string') fields[k] = v;
        else fields[k] = { filename: v.name, type: v.type, size: v.size, text: await v.text() };
      }
      body = { payload, fields };
    } else if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = raw.toString('utf8');
      }
    }
    requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, headers: req.headers, body, at: Date.now() });

    const clientId = req.headers['x-request-id'];
    const requestId = typeof clientId === 'string' && /^[\x21-\x7e]{1,128}$/.test(clientId) ? clientId : `req_${++nextId}`;
    res.setHeader('x-request-id', requestId);

    const fail = (status: number, code: string, type: string, message: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-error-source': 'gateway', ...headers });
      res.end(JSON.stringify(envelope(code, type, message, requestId)));
    };
    const failStd = (code: keyof typeof MESSAGES): void => {
      const [status, type, message] = MESSAGES[code]!;
      fail(status, code, type, message);
    };

    // Authentication (SPEC §3).
    const auth = req.headers.authorization ?? '';
    const token = /^(Bearer|Api-Key|Token) (.+)$/.exec(auth)?.[2];
    if (!token) return failStd('not_authenticated');
    if (token !== API_KEY && token !== PLATFORM_TOKEN) return failStd('invalid_token');
    if (token === PLATFORM_TOKEN && !req.headers['x-portico-organization']) return failStd('permission_denied');

    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'api' || parts[1] !== 'v1' || parts[2] !== 'external-proxy') return failStd('not_found');
    const rest = parts.slice(3);

    const serviceNotFound = (slug: string): void =>
      fail(404, 'service_not_found', 'not_found_error', `External proxy service '${slug}' not found or disabled.`);
    const endpointNotFound = (slug: string, action: string): void =>
      fail(404, 'endpoint_not_found', 'not_found_error', `External proxy endpoint '${action}' not found for service '${slug}'.`);

    // Discovery (SPEC §4).
    if (req.method === 'GET' && rest[0] === 'services') {
      if (rest.length === 1) {
        const list: ServiceSummary[] = [...services.values()].map(
          ({ credential_policy: _p, credentials_configured: _c, endpoints: _e, ...summary }) => summary,
        );
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ services: list }));
        return;
      }
      const detail = services.get(rest[1]!);
      if (!detail) return serviceNotFound(rest[1]!);
      if (rest.length === 2) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(detail));
        return;
      }
      if (rest.length === 4 && rest[2] === 'endpoints') {
        const e = detail.endpoints.find((x) => x.slug === rest[3]);
        if (!e) return endpointNotFound(detail.slug, rest[3]!);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(e));
        return;
      }
      return failStd('not_found');
    }

    // Invoke (SPEC §5).
    if (req.method === 'POST' && rest.length === 2) {
      const fault = faults.shift();
      if (fault) {
        if (typeof fault === 'function') return fault(req, res);
        if ('destroy' in fault) {
          req.socket.destroy();
          return;
        }
        if ('hang' in fault) {
          hanging.add(res);
          return;
        }
        const text =
          typeof fault.body === 'string'
            ? fault.body
            : JSON.stringify(fault.body ?? envelope('internal_error', 'api_error', 'Internal server error.', requestId));
        const isJson = typeof fault.body !== 'string';
        res.writeHead(fault.status, { 'content-type': isJson ? 'application/json' : 'text/plain', ...fault.headers });
        res.end(text);
        return;
      }
      const [slug, action] = rest as [string, string];
      const detail = services.get(slug);
      if (!detail) return serviceNotFound(slug);
      const endpoint = detail.endpoints.find((x) => x.slug === action);
      if (!endpoint) return endpointNotFound(slug, action);
      const multipart = contentType.startsWith('multipart/form-data');
      const payload = (multipart ? (body as { payload: Record<string, unknown> }).payload : body) as Record<string, unknown> | null;
      const pathParams = (payload?.path_params ?? {}) as Record<string, unknown>;
      for (const name of endpoint.path_params) {
        const v = pathParams[name];
        if (v === undefined || v === null || v === '') {
          return fail(400, 'missing_path_parameter', 'invalid_request_error', `Missing required path parameter: ${name}`);
        }
      }
      res.setHeader('x-credential-source', 'platform');
      if (endpoint.response_mode === 'binary') {
        res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(BINARY.length) });
        res.end(BINARY);
        return;
      }
      if (endpoint.response_mode === 'stream') {
        res.writeHead(200, { 'content-type': 'audio/mpeg' });
        for (const [i, chunk] of STREAM_CHUNKS.entries()) {
          if (i > 0) await new Promise((r) => setTimeout(r, 100));
          res.write(chunk);
        }
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, service: slug, action, received: body }));
      return;
    }
    fail(405, 'method_not_allowed', 'invalid_request_error', `Method "${req.method}" not allowed.`);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    services,
    invokes: () => requests.filter((r) => r.method === 'POST'),
    serviceFetches: (slug?: string) =>
      requests.filter(
        (r) => r.method === 'GET' && /^\/api\/v1\/external-proxy\/services\/[^/]+$/.test(r.path) && (slug === undefined || r.path.endsWith(`/${slug}`)),
      ),
    queue: (...f: Fault[]) => {
      faults.push(...f);
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
