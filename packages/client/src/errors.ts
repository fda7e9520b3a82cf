// ProxyError: every failure answer of the gateway, whether Portico produced it (SPEC §7 envelope,
// `X-Error-Source: gateway`) or passed an upstream provider's 4xx through (`X-Error-Source: upstream`).

export type ErrorSource = 'gateway' | 'upstream';

export interface ProxyErrorInit {
  status: number;
  type: string;
  code: string;
  /** The human-readable text (`error.message` / `detail`); `message` is built from it. */
  detail: string;
  requestId: string | null;
  source: ErrorSource;
  /** The raw answer body: parsed JSON when it was JSON, else its text (`null` when empty). */
  body: unknown;
  headers?: Headers | null;
  /** For gateway errors caused by an upstream answer: its HTTP status (`error.upstream_status`). */
  upstreamStatus?: number | null;
  /** For gateway errors caused by an upstream answer: the provider's code (`error.upstream_code`). */
  upstreamCode?: string | null;
}

/**
 * An error answer from the gateway. `message` reads `STATUS CODE: DETAIL`, e.g.
 * `404 credentials_not_found: No allowed credentials found for external proxy service 'elevenlabs'.`
 */
export class ProxyError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string;
  readonly detail: string;
  readonly requestId: string | null;
  readonly source: ErrorSource;
  readonly body: unknown;
  readonly headers: Headers | null;
  readonly upstreamStatus: number | null;
  readonly upstreamCode: string | null;

  constructor(init: ProxyErrorInit) {
    super(`${init.status} ${init.code}: ${init.detail}`);
    this.name = 'ProxyError';
    this.status = init.status;
    this.type = init.type;
    this.code = init.code;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.source = init.source;
    this.body = init.body;
    this.headers = init.headers ?? null;
    this.upstreamStatus = init.upstreamStatus ?? null;
    this.upstreamCode = init.upstreamCode ?? null;
  }

  /** The seconds of the answer's `Retry-After` header, when it has one in that form. */
  get retryAfterSeconds(): number | null {
    const value = this.headers?.get('retry-after');
    if (value == null || !/^\d+(\.\d+)?$/.test(value.trim())) return null;
    return Number(value);
  }
}

/** An error the client raises itself, in the gateway's own shape, before sending anything. */
export function localGatewayError(status: number, type: string, code: string, detail: string): ProxyError {
  return new ProxyError({
    status,
    type,
    code,
    detail,
    requestId: null,
    source: 'gateway',
    body: { detail, error: { type, code, message: detail }, request_id: null },
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Parses a body text as JSON when it is JSON; otherwise keeps the text (`null` when empty). */
export function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function textOf(body: unknown, fallback: string): string {
  if (typeof body === 'string' && body.trim() !== '') return body.trim().slice(0, 500);
  return fallback;
}

/** Reads code/type/message out of a provider's own error body (ElevenLabs, HeyGen v1/v2/v3, ...). */
function readUpstream(body: unknown): { code?: string; type?: string; message?: string } {
  if (!isObject(body)) return {};
  const detail = body.detail;
  // ElevenLabs: {"detail": {"status"|"code", "message", "type"?}}
  if (isObject(detail)) {
    return { code: str(detail.code) ?? str(detail.status), type: str(detail.type), message: str(detail.message) };
  }
  // ElevenLabs validation: {"detail": [{"loc": [...], "msg": "..."}]}
  if (Array.isArray(detail)) {
    const parts = detail.filter(isObject).map((d) => {
      const loc = Array.isArray(d.loc) ? d.loc.join('.') : '';
      const msg = str(d.msg) ?? str(d.message) ?? 'invalid';
      return loc ? `${loc}: ${msg}` : msg;
    });
    return { code: 'validation_error', message: parts.join('; ') || undefined };
  }
  // HeyGen v2/v3: {"error": {"code", "message", "type"?}}
  const error = body.error;
  if (isObject(error)) {
    return { code: str(error.code), type: str(error.type), message: str(error.message) ?? str(error.msg) };
  }
  // HeyGen v1: {"code": 400112, "message": "..."}; other APIs: {"error": "text"} or {"message": "..."}
  return {
    code: str(body.code),
    type: str(body.type),
    message: str(body.message) ?? str(body.msg) ?? str(error) ?? str(detail),
  };
}

/** Builds the ProxyError for a non-2xx answer whose body has been read into `text`. */
export function errorFromResponse(res: Response, text: string): ProxyError {
  const body = parseBody(text);
  const headers = res.headers;
  const headerRequestId = headers.get('x-request-id');
  const statusText = res.statusText || `HTTP ${res.status}`;
  const source: ErrorSource = headers.get('x-error-source')?.trim().toLowerCase() === 'upstream' ? 'upstream' : 'gateway';

  if (source === 'upstream') {
    const u = readUpstream(body);
    return new ProxyError({
      status: res.status,
      type: u.type ?? 'upstream_error',
      code: u.code ?? 'upstream_error',
      detail: u.message ?? textOf(body, statusText),
      requestId: headerRequestId,
      source,
      body,
      headers,
    });
  }

  // Portico's envelope (SPEC §7); older bodies with only `detail` or `error` (a string) are read too.
  const envelope = isObject(body) ? body : {};
  const error = isObject(envelope.error) ? envelope.error : {};
  const detail = str(error.message) ?? str(envelope.detail) ?? str(envelope.error) ?? str(envelope.message) ?? textOf(body, statusText);
  return new ProxyError({
    status: res.status,
    type: str(error.type) ?? 'api_error',
    code: str(error.code) ?? 'http_error',
    detail,
    requestId: str(envelope.request_id) ?? headerRequestId,
    source,
    body,
    headers,
    upstreamStatus: typeof error.upstream_status === 'number' ? error.upstream_status : null,
    upstreamCode: str(error.upstream_code) ?? null,
  });
}
