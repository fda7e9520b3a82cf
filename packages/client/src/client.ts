// The Portico client core (SPEC §11): discovery with a cache, invoke with local validation,
// retries, deadlines and response handling per `response_mode`. The public class
// `ExternalProxyClient` (in generated.ts) extends this one with one typed helper per catalog service.

import { errorFromResponse, localGatewayError, parseBody, ProxyError } from './errors.ts';
import { checkPayload } from './path.ts';
import {
  abortReason,
  anySignal,
  backoffDelay,
  deadline,
  IDEMPOTENT_METHODS,
  NO_RETRY,
  parseRetryAfter,
  raceAbort,
  resolveRetry,
  RETRYABLE_STATUSES,
  sleep,
  type ResolvedRetry,
} from './retry.ts';
import type {
  ClientOptions,
  DiscoveryOptions,
  Endpoint,
  FetchLike,
  InvokeOptions,
  InvokePayload,
  Logger,
  ResponseMode,
  ServiceDetail,
  ServiceSummary,
} from './types.ts';

const API = '/api/v1/external-proxy';
const DEFAULT_TTL_MS = 60_000;
const noop = (): void => {};

interface CacheEntry {
  promise: Promise<unknown>;
  settled: boolean;
  expires: number;
  waiters: number;
  controller: AbortController;
  /** Order in which loads settled; tells whether a caller got a fresh answer or a cached one. */
  seq: number;
}

interface SendRequest<T> {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: BodyInit;
  signal: AbortSignal | undefined;
  retry: ResolvedRetry;
  /** Turns a 2xx answer into the result; runs inside the attempt, so a failed read can be retried. */
  read: (res: Response) => Promise<T>;
  /**
   * Whether a 2xx answer whose body breaks off mid-way is worth another attempt (default true).
   * Not when the gateway cannot replay it: a `binary`/`stream` answer under an Idempotency-Key is
   * never stored, so a repeat only gets 422 `idempotency_key_reused` (SPEC §13).
   */
  retryBrokenBody?: boolean;
  label: string;
}

function normalizeBaseUrl(baseUrl: string): string {
  if (typeof baseUrl !== 'string') throw new TypeError('baseUrl must be a string, e.g. "https://portico.example.com"');
  let url = baseUrl.trim().replace(/\/+$/, '');
  // Tolerate a base URL that already names the API prefix.
  for (const suffix of [API, '/api/v1']) {
    if (url.endsWith(suffix)) url = url.slice(0, -suffix.length);
  }
  return url;
}

function positiveMs(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number of milliseconds`);
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Blob) && !(v instanceof FormData);
}

/** The invoke request body: JSON (SPEC §5), or multipart with the JSON in a `payload` field. */
function invokeBody(endpoint: Endpoint, payload: InvokePayload): { body: BodyInit; contentType?: string } {
  const meta: Record<string, unknown> = {};
  if (payload.path_params !== undefined) meta.path_params = payload.path_params;
  if (payload.query !== undefined) meta.query = payload.query;
  if (payload.credential_source !== undefined) meta.credential_source = payload.credential_source;

  const body = payload.body;
  if (endpoint.request_mode === 'multipart' && (body instanceof FormData || isPlainObject(body))) {
    const form = new FormData();
    form.append('payload', JSON.stringify(meta));
    if (body instanceof FormData) {
      body.forEach((value, key) => form.append(key, value));
    } else {
      for (const [key, value] of Object.entries(body)) {
        for (const item of Array.isArray(value) ? value : [value]) {
          if (item === undefined || item === null) continue;
          if (item instanceof Blob) form.append(key, item);
          else form.append(key, typeof item === 'object' ? JSON.stringify(item) : String(item));
        }
      }
    }
    return { body: form };
  }
  if (body !== undefined) meta.body = body;
  return { body: JSON.stringify(meta), contentType: 'application/json' };
}

async function readJson(res: Response): Promise<unknown> {
  return parseBody(await res.text());
}

function readerFor(mode: ResponseMode | string, logger: Logger): (res: Response) => Promise<unknown> {
  switch (mode) {
    case 'json':
      return async (res) => {
        const text = await res.text();
        const value = parseBody(text);
        if (typeof value === 'string') logger.warn('portico: expected a JSON answer, returning its text', { status: res.status });
        return value;
      };
    case 'binary':
      return (res) => res.blob();
    case 'stream':
      return async (res) => res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    default:
      return async (res) => ((res.headers.get('content-type') ?? '').includes('json') ? readJson(res) : res.blob());
  }
}

/**
 * The client without the typed per-service helpers. Use `ExternalProxyClient`, which adds them;
 * this class is exported for code that wants the bare core.
 */
export class BaseProxyClient {
  /** The gateway origin the client talks to (without a trailing slash). */
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #organization: string | undefined;
  readonly #fetch: FetchLike | undefined;
  readonly #retry: ResolvedRetry;
  readonly #timeoutMs: number | undefined;
  readonly #ttlMs: number;
  readonly #logger: Logger;
  readonly #headers: Record<string, string>;
  readonly #cache = new Map<string, CacheEntry>();
  #loadSeq = 0;

  constructor(options: ClientOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.#apiKey = options.apiKey || undefined;
    this.#organization = options.organization || undefined;
    this.#fetch = options.fetch;
    this.#retry = resolveRetry(options.retry);
    this.#timeoutMs = positiveMs(options.timeoutMs, 'timeoutMs');
    const ttl = options.discoveryTtlMs ?? DEFAULT_TTL_MS;
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) throw new TypeError('discoveryTtlMs must be a non-negative number');
    this.#ttlMs = ttl;
    const l = options.logger ?? {};
    this.#logger = {
      debug: l.debug?.bind(l) ?? noop,
      info: l.info?.bind(l) ?? noop,
      warn: l.warn?.bind(l) ?? noop,
      error: l.error?.bind(l) ?? noop,
    };
    this.#headers = { ...options.headers };
  }

  /** Services the caller may use (`GET /api/v1/external-proxy/services`), cached for `discoveryTtlMs`. */
  async listServices(options: DiscoveryOptions = {}): Promise<ServiceSummary[]> {
    return this.#withDeadline(options, async (signal) => {
      const data = await this.#cached('list', (s) => this.#getJson(`${API}/services`, s), signal, options.fresh);
      return (data as { services: ServiceSummary[] }).services;
    });
  }

  /** One service with its endpoints (`GET /api/v1/external-proxy/services/{service}`), cached for `discoveryTtlMs`. */
  async getService(service: string, options: DiscoveryOptions = {}): Promise<ServiceDetail> {
    requireSlug(service, 'service');
    return this.#withDeadline(options, (signal) => this.#service(service, signal, options.fresh));
  }

  /** One endpoint of a service, from the (cached) service detail. */
  async getEndpoint(service: string, action: string, options: DiscoveryOptions = {}): Promise<Endpoint> {
    requireSlug(service, 'service');
    requireSlug(action, 'action');
    return this.#withDeadline(options, (signal) => this.#endpoint(service, action, signal, options.fresh));
  }

  /** Forgets cached discovery answers: of one service, or all of them. */
  clearCache(service?: string): void {
    if (service === undefined) this.#cache.clear();
    else this.#cache.delete(`service:${service}`);
  }

  /**
   * Calls `action` of `service` through the gateway (`POST /api/v1/external-proxy/{service}/{action}`).
   * Resolves to parsed JSON (`json` endpoints), a `Blob` (`binary`) or a `ReadableStream<Uint8Array>`
   * (`stream`); rejects with a `ProxyError` for an error answer, or with the signal's
   * `AbortError`/`TimeoutError` when aborted.
   */
  async invoke(service: string, action: string, payload: InvokePayload = {}, options: InvokeOptions = {}): Promise<unknown> {
    requireSlug(service, 'service');
    requireSlug(action, 'action');
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new TypeError('payload must be an object: {path_params?, query?, body?, credential_source?}');
    }
    return this.#withDeadline(options, async (signal) => {
      const endpoint = await this.#endpoint(service, action, signal);
      const problem = checkPayload(endpoint, payload);
      if (problem) throw problem;

      const method = String(endpoint.method).toUpperCase();
      const idempotencyKey = options.idempotencyKey;
      const retryable = IDEMPOTENT_METHODS.has(method) || Boolean(idempotencyKey);
      const retry = retryable ? resolveRetry(options.retry, this.#retry) : NO_RETRY;

      const { body, contentType } = invokeBody(endpoint, payload);
      const headers: Record<string, string> = {};
      if (contentType) headers['content-type'] = contentType;
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
      if (options.requestId) headers['x-request-id'] = options.requestId;
      Object.assign(headers, options.headers);

      try {
        return await this.#send({
          method: 'POST',
          url: `${this.baseUrl}${API}/${encodeURIComponent(service)}/${encodeURIComponent(action)}`,
          headers: this.#requestHeaders(headers),
          body,
          signal,
          retry,
          read: readerFor(endpoint.response_mode, this.#logger),
          retryBrokenBody: !idempotencyKey || endpoint.response_mode === 'json',
          label: `${service}/${action}`,
        });
      } catch (err) {
        // The catalog changed under the cache: forget it so that the next call rediscovers.
        if (err instanceof ProxyError && err.source === 'gateway' && (err.code === 'service_not_found' || err.code === 'endpoint_not_found')) {
          this.clearCache(service);
        }
        throw err;
      }
    });
  }

  // ---- internals -------------------------------------------------------------------------

  /**
   * Runs `fn` under the call's signal combined with its deadline (per-call `timeoutMs`, else the
   * client's). The deadline ends when `fn` settles, so a returned stream is bounded only by the
   * caller's own signal.
   */
  async #withDeadline<T>(options: { signal?: AbortSignal; timeoutMs?: number }, fn: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    const timeoutMs = positiveMs(options.timeoutMs, 'timeoutMs') ?? this.#timeoutMs;
    const signals: AbortSignal[] = [];
    if (options.signal) signals.push(options.signal);
    const timer = timeoutMs !== undefined ? deadline(timeoutMs) : undefined;
    if (timer) signals.push(timer.signal);
    const signal = anySignal(signals);
    try {
      if (signal?.aborted) throw abortReason(signal);
      return await fn(signal);
    } finally {
      timer?.clear();
    }
  }

  #requestHeaders(extra: Record<string, string>): Record<string, string> {
    const headers: Record<string, string> = { accept: '*/*', ...this.#headers };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    if (this.#organization) headers['x-portico-organization'] = this.#organization;
    return Object.assign(headers, extra);
  }

  #getJson(path: string, signal: AbortSignal | undefined): Promise<unknown> {
    return this.#send({
      method: 'GET',
      url: `${this.baseUrl}${path}`,
      headers: this.#requestHeaders({ accept: 'application/json' }),
      signal,
      retry: this.#retry,
      read: readJson,
      label: `GET ${path}`,
    });
  }

  #service(service: string, signal: AbortSignal | undefined, fresh?: boolean): Promise<ServiceDetail> {
    const path = `${API}/services/${encodeURIComponent(service)}`;
    return this.#cached(`service:${service}`, (s) => this.#getJson(path, s), signal, fresh) as Promise<ServiceDetail>;
  }

  async #endpoint(service: string, action: string, signal: AbortSignal | undefined, fresh?: boolean): Promise<Endpoint> {
    const seq = this.#loadSeq;
    let detail = await this.#service(service, signal, fresh);
    let endpoint = detail.endpoints?.find((e) => e.slug === action);
    const fromCache = (this.#cache.get(`service:${service}`)?.seq ?? Infinity) <= seq;
    if (!endpoint && fromCache) {
      // Maybe added since the answer was cached: look once more before giving up.
      detail = await this.#service(service, signal, true);
      endpoint = detail.endpoints?.find((e) => e.slug === action);
    }
    if (!endpoint) {
      throw localGatewayError(404, 'not_found_error', 'endpoint_not_found', `External proxy endpoint '${action}' not found for service '${service}'.`);
    }
    return endpoint;
  }

  /**
   * A discovery answer from the cache, or loaded once for all concurrent callers. Each caller
   * waits under its own signal; the shared load is aborted only when every waiter has left.
   */
  async #cached(key: string, load: (signal: AbortSignal) => Promise<unknown>, signal: AbortSignal | undefined, fresh?: boolean): Promise<unknown> {
    let entry = this.#cache.get(key);
    if (entry && entry.settled && entry.expires > Date.now() && !fresh) {
      this.#logger.debug(`portico: discovery cache hit ${key}`);
      return entry.promise;
    }
    if (!entry || entry.settled || fresh) {
      const e: CacheEntry = { promise: Promise.resolve(), settled: false, expires: Infinity, waiters: 0, controller: new AbortController(), seq: Infinity };
      e.promise = load(e.controller.signal).then(
        (value) => {
          e.settled = true;
          e.seq = ++this.#loadSeq;
          e.expires = Date.now() + this.#ttlMs;
          return value;
        },
        (err: unknown) => {
          e.settled = true;
          if (this.#cache.get(key) === e) this.#cache.delete(key);
          throw err;
        },
      );
      e.promise.catch(noop); // a load whose waiters all left must not be an unhandled rejection
      this.#cache.set(key, e);
      entry = e;
    }
    const current = entry;
    current.waiters++;
    try {
      return await raceAbort(current.promise, signal);
    } finally {
      current.waiters--;
      if (current.waiters === 0 && !current.settled && signal?.aborted) {
        current.controller.abort(abortReason(signal));
        if (this.#cache.get(key) === current) this.#cache.delete(key);
      }
    }
  }

  /** One request with the retry policy; resolves to `read(response)` or throws the last failure. */
  async #send<T>(req: SendRequest<T>): Promise<T> {
    const { signal, retry } = req;
    const fetchImpl: FetchLike = this.#fetch ?? ((input, init) => globalThis.fetch(input, init));
    let broken: unknown = null; // an earlier attempt's 2xx answer whose body broke off
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortReason(signal);
      const started = Date.now();
      let failure: unknown;
      let retryable = false;
      let retryAfterMs: number | null = null;
      let res: Response | undefined;
      try {
        res = await fetchImpl(req.url, { method: req.method, headers: req.headers, body: req.body, signal });
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal);
        failure = err;
        retryable = true; // the request did not get an answer: connection refused, reset, DNS...
      }
      if (res) {
        const requestId = res.headers.get('x-request-id');
        if (res.ok) {
          try {
            const value = await req.read(res);
            this.#logger.debug(`portico: ${req.label} ${res.status} in ${Date.now() - started}ms`, { requestId, attempt: attempt + 1 });
            return value;
          } catch (err) {
            if (signal?.aborted) throw abortReason(signal);
            failure = err;
            broken = err;
            retryable = req.retryBrokenBody !== false; // the body broke off mid-way
          }
        } else {
          let text = '';
          try {
            text = await res.text();
          } catch {
            if (signal?.aborted) throw abortReason(signal);
          }
          const error = errorFromResponse(res, text);
          this.#logger.debug(`portico: ${req.label} ${res.status} ${error.code} in ${Date.now() - started}ms`, { requestId, attempt: attempt + 1 });
          failure = error;
          // A monthly quota does not come back within a retry's wait.
          retryable = RETRYABLE_STATUSES.has(error.status) && error.code !== 'quota_exceeded';
          retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
          if (broken !== null && error.status === 422 && error.code === 'idempotency_key_reused' && error.source === 'gateway') {
            // The gateway ran the first attempt under this Idempotency-Key but kept no answer to
            // replay: the broken body is the real failure, not a key reused for another request.
            failure = broken;
            retryable = false;
          }
        }
      }
      if (!retryable || attempt >= retry.retries) {
        if (!(failure instanceof ProxyError)) this.#logger.warn(`portico: ${req.label} failed: ${String(failure)}`);
        throw failure;
      }
      const delay = backoffDelay(retry, attempt, retryAfterMs);
      const why = failure instanceof ProxyError ? `${failure.status} ${failure.code}` : String(failure);
      this.#logger.warn(`portico: ${req.label} ${why}; retry ${attempt + 1}/${retry.retries} in ${delay}ms`);
      await sleep(delay, signal);
    }
  }
}

function requireSlug(value: unknown, name: string): void {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
}
