// Runtime of the typed per-service helpers in generated.ts: turns `helper(params, options)` into
// `invoke(service, action, {path_params, query, body, credential_source}, options)`.

import type { CredentialSource, InvokeOptions, InvokePayload, QueryValue, RequestMode } from './types.ts';

/** What a helper needs from the client: only `invoke`, so that an overridden `invoke` is used. */
export interface Invoker {
  invoke(service: string, action: string, payload?: InvokePayload, options?: InvokeOptions): Promise<unknown>;
}

/** Options of a typed helper: the invoke options plus the query string and the credential source. */
export interface HelperOptions<Q extends string = string> extends InvokeOptions {
  /** Query parameters; only the endpoint's own are accepted. */
  query?: { [K in Q]?: QueryValue | null };
  /** Ask for one credential source (`payload.credential_source`). */
  credentialSource?: CredentialSource;
}

/** The catalog facts a helper call needs. */
export interface EndpointSpec {
  service: string;
  action: string;
  pathParams: readonly string[];
  queryParams: readonly string[];
  requestMode: RequestMode;
}

/**
 * Splits `params`: the endpoint's path parameters (by name) go to `path_params`; the other
 * fields are the body (`json`, `multipart`) or, for `none` endpoints, the query.
 */
export function toInvokePayload(spec: EndpointSpec, params: object | undefined, options: HelperOptions = {}): InvokePayload {
  const pathParams: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params ?? {})) {
    if (spec.pathParams.includes(key)) pathParams[key] = value;
    else if (value !== undefined) rest[key] = value;
  }
  const payload: InvokePayload = {};
  if (spec.pathParams.length > 0) payload.path_params = pathParams as InvokePayload['path_params'];
  let query: Record<string, unknown> | undefined = options.query ? { ...options.query } : undefined;
  if (spec.requestMode === 'none') {
    // Fields the endpoint does not list still go to the query, where validation names them.
    if (Object.keys(rest).length > 0) query = { ...rest, ...query };
  } else {
    payload.body = rest;
  }
  if (query !== undefined) payload.query = query as InvokePayload['query'];
  if (options.credentialSource !== undefined) payload.credential_source = options.credentialSource;
  return payload;
}

/** Calls one endpoint through `client.invoke`. */
export function callEndpoint(client: Invoker, spec: EndpointSpec, params: object | undefined, options: HelperOptions = {}): Promise<unknown> {
  const { query: _query, credentialSource: _source, ...invokeOptions } = options;
  return client.invoke(spec.service, spec.action, toInvokePayload(spec, params, options), invokeOptions);
}
