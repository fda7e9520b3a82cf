// Stage 1: the invoke body (SPEC §5) → a checked InvokeRequest. Types only here; what the
// values must look like for a given endpoint is checked in build-upstream-request.ts.
import { invalidRequest } from '../errors.ts';
import type { CredentialSource } from '../credentials/policy.ts';

export interface InvokeRequest {
  path_params: Record<string, unknown>;
  query: Record<string, unknown>;
  /** undefined when absent; null when sent as null. */
  body: unknown;
  credential_source: CredentialSource | undefined;
}

/** The stages only read `path_params` and `query`: one shared empty object for an absent one. */
const NONE: Record<string, unknown> = Object.freeze({});

const FIELDS = new Set(['path_params', 'query', 'body', 'credential_source']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `allowBody` is false for the multipart `payload` field, which never carries `body`. */
export function parseInvoke(raw: unknown, allowBody = true): InvokeRequest {
  if (raw === undefined) raw = {};
  if (!isObject(raw)) throw invalidRequest('Invoke body must be a JSON object.');
  for (const key in raw) {
    if (!FIELDS.has(key) || (key === 'body' && !allowBody)) throw invalidRequest(`Unknown field '${key}'.`);
  }
  const { path_params = NONE, query = NONE, body, credential_source } = raw;
  if (!isObject(path_params)) throw invalidRequest(`Field 'path_params' must be an object.`);
  if (query !== null && !isObject(query)) throw invalidRequest(`Field 'query' must be an object.`);
  if (credential_source !== undefined && credential_source !== null && credential_source !== 'tenant' && credential_source !== 'platform') {
    throw invalidRequest(`Field 'credential_source' must be 'tenant' or 'platform'.`);
  }
  return {
    path_params,
    query: query ?? NONE,
    body,
    credential_source: (credential_source ?? undefined) as CredentialSource | undefined,
  };
}
