// @portico/client — zero-dependency TypeScript client for the Portico gateway (SPEC §11).

export { BaseProxyClient } from './client.ts';
// ExternalProxyClient, CATALOG_SERVICES and one <Name>Service helper class per catalog service.
export * from './generated.ts';
export { ProxyError, type ErrorSource, type ProxyErrorInit } from './errors.ts';
export { callEndpoint, toInvokePayload, type EndpointSpec, type HelperOptions, type Invoker } from './helpers.ts';
export { templateParams } from './path.ts';
export { parseRetryAfter } from './retry.ts';
export type {
  ClientOptions,
  CredentialPolicy,
  CredentialSource,
  DiscoveryOptions,
  Endpoint,
  FetchLike,
  InvokeOptions,
  InvokePayload,
  Logger,
  PathParamValue,
  QueryValue,
  RequestMode,
  ResponseMode,
  RetryOptions,
  ServiceDetail,
  ServiceSummary,
} from './types.ts';
