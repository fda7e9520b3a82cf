// The one table of error codes Portico produces (SPEC §7). Every error response is built
// from this table, so a code always has the same status, type and message.

interface ErrorDef {
  status: number;
  type: string;
  /** Message; `{name}` placeholders are filled from the error's params. */
  message: string;
}

export const ERRORS = {
  invalid_request: { status: 400, type: 'invalid_request_error', message: '{reason}' },
  missing_path_parameter: { status: 400, type: 'invalid_request_error', message: 'Missing required path parameter: {name}' },
  invalid_path_parameter: { status: 400, type: 'invalid_request_error', message: 'Invalid path parameter: {name}' },
  invalid_query_parameter: { status: 400, type: 'invalid_request_error', message: 'Unknown query parameter: {name}' },
  invalid_credential_policy: { status: 400, type: 'invalid_request_error', message: 'Credential policy does not allow any credential source.' },
  credential_source_not_allowed: {
    status: 400,
    type: 'invalid_request_error',
    message: "Credential source '{source}' is not allowed for external proxy service '{service}'.",
  },
  masked_credential_value: { status: 400, type: 'invalid_request_error', message: 'Credential value is masked; send the full secret.' },
  not_authenticated: { status: 401, type: 'authentication_error', message: 'Authentication credentials were not provided.' },
  invalid_token: { status: 401, type: 'authentication_error', message: 'Invalid token.' },
  token_expired: { status: 401, type: 'authentication_error', message: 'Token has expired.' },
  permission_denied: { status: 403, type: 'permission_error', message: 'You do not have permission to perform this action.' },
  service_not_in_plan: { status: 403, type: 'permission_error', message: 'You do not have permission to perform this action.' },
  service_not_found: { status: 404, type: 'not_found_error', message: "External proxy service '{service}' not found or disabled." },
  endpoint_not_found: { status: 404, type: 'not_found_error', message: "External proxy endpoint '{action}' not found for service '{service}'." },
  credentials_not_found: { status: 404, type: 'not_found_error', message: "No allowed credentials found for external proxy service '{service}'." },
  not_found: { status: 404, type: 'not_found_error', message: 'Not found.' },
  method_not_allowed: { status: 405, type: 'invalid_request_error', message: 'Method "{method}" not allowed.' },
  conflict: { status: 409, type: 'invalid_request_error', message: 'Resource already exists.' },
  idempotency_in_progress: { status: 409, type: 'invalid_request_error', message: 'A request with this Idempotency-Key is still in progress.' },
  payload_too_large: { status: 413, type: 'invalid_request_error', message: 'Request body is too large.' },
  idempotency_key_reused: { status: 422, type: 'invalid_request_error', message: 'This Idempotency-Key was used with a different request.' },
  rate_limited: { status: 429, type: 'rate_limit_error', message: 'Request was throttled.' },
  quota_exceeded: { status: 429, type: 'rate_limit_error', message: 'Monthly quota exhausted for this organization.' },
  internal_error: { status: 500, type: 'api_error', message: 'Internal server error.' },
  upstream_request_failed: { status: 502, type: 'upstream_error', message: 'The upstream external service request failed.' },
  upstream_auth_failed: { status: 502, type: 'upstream_error', message: 'The upstream external service rejected the configured credentials.' },
  missing_upstream_key: { status: 502, type: 'invalid_request_error', message: 'upstream provider credentials unavailable' },
  invalid_upstream_key_info: { status: 502, type: 'invalid_request_error', message: 'invalid key info response' },
  masked_upstream_key: { status: 502, type: 'invalid_request_error', message: 'upstream provider credentials are masked and cannot be used' },
  service_unavailable: { status: 503, type: 'api_error', message: 'Service temporarily unavailable.' },
  upstream_timeout: { status: 504, type: 'upstream_error', message: 'The upstream external service did not respond in time.' },
} as const satisfies Record<string, ErrorDef>;

export type ErrorCode = keyof typeof ERRORS;

export interface GatewayErrorOptions {
  /** Values for the message placeholders. */
  params?: Record<string, string>;
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  upstreamStatus?: number;
  upstreamCode?: string;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly headers: Record<string, string> | undefined;
  readonly upstreamStatus: number | undefined;
  readonly upstreamCode: string | undefined;

  constructor(code: ErrorCode, options: GatewayErrorOptions = {}) {
    const def: ErrorDef = ERRORS[code];
    const params = options.params ?? {};
    super(def.message.replace(/\{(\w+)\}/g, (_, k: string) => params[k] ?? ''));
    this.name = 'GatewayError';
    this.code = code;
    this.status = def.status;
    this.type = def.type;
    this.headers = options.headers;
    this.upstreamStatus = options.upstreamStatus;
    this.upstreamCode = options.upstreamCode;
  }
}

/** Shorthand for the common 400 whose message says what is wrong. */
export function invalidRequest(reason: string): GatewayError {
  return new GatewayError('invalid_request', { params: { reason } });
}

export interface ErrorEnvelope {
  detail: string;
  error: { type: string; code: string; message: string; upstream_status?: number; upstream_code?: string };
  request_id: string;
}

export function errorEnvelope(err: GatewayError, requestId: string): ErrorEnvelope {
  const error: ErrorEnvelope['error'] = { type: err.type, code: err.code, message: err.message };
  if (err.upstreamStatus !== undefined) error.upstream_status = err.upstreamStatus;
  if (err.upstreamCode !== undefined) error.upstream_code = err.upstreamCode;
  return { detail: err.message, error, request_id: requestId };
}
