// Shapes of the Portico external-proxy API (SPEC §4, §5) and the client's options (SPEC §11).

/** One service in `GET /api/v1/external-proxy/services` (SPEC §4). */
export interface ServiceSummary {
  slug: string;
  name: string;
  description: string;
  credential_name: string;
  endpoint_count: number;
  docs_url: string | null;
}

export type CredentialSource = 'tenant' | 'platform';

/** The effective credential policy for the caller (SPEC §6). */
export interface CredentialPolicy {
  allow_tenant_key: boolean;
  allow_platform_key: boolean;
  default_source: CredentialSource;
  fallback_to_platform_key: boolean;
}

export type RequestMode = 'json' | 'multipart' | 'none';
export type ResponseMode = 'json' | 'binary' | 'stream';

/** One endpoint (action) of a service (SPEC §4). */
export interface Endpoint {
  slug: string;
  name: string;
  description: string;
  method: string;
  path_template: string;
  /** Names of the `{name}` parts of `path_template`, in order. */
  path_params: string[];
  query_params: string[];
  request_mode: RequestMode;
  response_mode: ResponseMode;
  /** The usual response content type (`application/json`, `audio/mpeg`, ...). */
  content_type: string;
  deprecated?: boolean;
  /** `YYYY-MM-DD`, present when `deprecated`. */
  sunset?: string;
}

/** `GET /api/v1/external-proxy/services/{service}` (SPEC §4). */
export interface ServiceDetail extends ServiceSummary {
  credential_policy: CredentialPolicy;
  credentials_configured: { tenant: boolean; platform: boolean };
  endpoints: Endpoint[];
}

export type PathParamValue = string | number;
export type QueryValue = string | number | boolean | ReadonlyArray<string | number | boolean>;

/** The invoke body (SPEC §5). Every field is optional. */
export interface InvokePayload {
  /** One value per `{name}` of the endpoint's path template. */
  path_params?: Record<string, PathParamValue | null | undefined>;
  /** Only the endpoint's `query_params` are accepted. */
  query?: Record<string, QueryValue | null | undefined>;
  /**
   * The upstream request body. `json` endpoints: any JSON value. `multipart` endpoints: a
   * `FormData`, or a plain object whose values are strings, numbers, booleans or `Blob`s
   * (a `File` keeps its name). `none` endpoints: leave it out.
   */
  body?: unknown;
  /** Ask for one credential source; it must be allowed by the service's policy. */
  credential_source?: CredentialSource;
}

/** Per-call options of `invoke` (and of the typed helpers). */
export interface InvokeOptions {
  /** Aborts the call (discovery, request, retries and, for `stream`, the body). */
  signal?: AbortSignal;
  /**
   * Sent as `Idempotency-Key` (SPEC §13). With it, a non-idempotent endpoint (e.g. POST) may be
   * retried, because the gateway runs it at most once per key.
   */
  idempotencyKey?: string;
  /**
   * Deadline for the whole call in milliseconds (discovery, every attempt and the waits between
   * them, and reading a `json`/`binary` body; for `stream`, until the response headers arrive).
   * Overrides the client-wide `timeoutMs`. On expiry the call rejects with a `TimeoutError`.
   */
  timeoutMs?: number;
  /** Overrides the client-wide retry policy for this call. */
  retry?: RetryOptions | false;
  /** Sent as `X-Request-Id` (1-128 visible ASCII characters), to correlate with your own logs. */
  requestId?: string;
  /** Extra request headers for this call. */
  headers?: Record<string, string>;
}

/** Options of the discovery calls. */
export interface DiscoveryOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Skip the discovery cache and fetch again (the fresh answer is cached). */
  fresh?: boolean;
}

export interface RetryOptions {
  /** Retries after the first attempt. Default 2. */
  retries?: number;
  /** Backoff base: attempt n waits a random time in [0, min(maxDelayMs, baseDelayMs * 2^n)). Default 500. */
  baseDelayMs?: number;
  /** Longest wait between attempts, also the cap on `Retry-After`. Default 8000. */
  maxDelayMs?: number;
}

/** Any object with these four methods, e.g. `console` or a pino logger. */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** The gateway's origin, e.g. `https://portico.example.com` (a path prefix is kept). */
  baseUrl: string;
  /**
   * An organization API key, or the platform admin token together with `organization`. Sent as
   * `Authorization: Bearer <apiKey>`. Leave it out only when something in between (e.g. your own
   * backend, for browser apps) adds the header.
   */
  apiKey?: string;
  /** Sent as `X-Portico-Organization`; needed when `apiKey` is the platform admin token. */
  organization?: string;
  /** Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** `false` disables retries. Default `{retries: 2, baseDelayMs: 500, maxDelayMs: 8000}`. */
  retry?: RetryOptions | false;
  /** Default deadline of every call, in milliseconds (see `InvokeOptions.timeoutMs`). Default none. */
  timeoutMs?: number;
  /** How long discovery answers are cached, in milliseconds. Default 60000; 0 disables the cache. */
  discoveryTtlMs?: number;
  /** Default: silent. */
  logger?: Partial<Logger>;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}
