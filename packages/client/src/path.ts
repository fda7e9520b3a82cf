// Local checks of an invoke payload against the discovered endpoint, with the gateway's own
// error codes and messages (SPEC §5, §7), so that a bad call fails before any request.

import { localGatewayError, type ProxyError } from './errors.ts';
import type { Endpoint, InvokePayload } from './types.ts';

/** The `{name}` parts of a path template, in order. */
export function templateParams(template: string): string[] {
  const names: string[] = [];
  for (const m of template.matchAll(/\{([^{}]+)\}/g)) names.push(m[1]!);
  return names;
}

const CONTROL = /[\u0000-\u001f\u007f\\/]/;

function decodes(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The first problem with `payload` for `endpoint`, as the gateway would report it, or null. */
export function checkPayload(endpoint: Endpoint, payload: InvokePayload): ProxyError | null {
  const names = endpoint.path_params?.length ? endpoint.path_params : templateParams(endpoint.path_template);
  const given = payload.path_params;
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    return localGatewayError(400, 'invalid_request_error', 'invalid_request', "Field 'path_params' must be an object.");
  }
  for (const name of names) {
    const value = given?.[name];
    if (value === undefined || value === null || value === '') {
      return localGatewayError(400, 'invalid_request_error', 'missing_path_parameter', `Missing required path parameter: ${name}`);
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      return localGatewayError(400, 'invalid_request_error', 'invalid_request', `Path parameter '${name}' must be a string or a number.`);
    }
    const text = String(value);
    const decoded = decodes(text);
    if (text === '.' || text === '..' || decoded === '.' || decoded === '..' || CONTROL.test(text)) {
      return localGatewayError(400, 'invalid_request_error', 'invalid_path_parameter', `Invalid path parameter: ${name}`);
    }
  }
  const query = payload.query;
  if (query !== undefined && query !== null) {
    if (typeof query !== 'object' || Array.isArray(query)) {
      return localGatewayError(400, 'invalid_request_error', 'invalid_request', "Field 'query' must be an object.");
    }
    const allowed = new Set(endpoint.query_params ?? []);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && !allowed.has(key)) {
        return localGatewayError(400, 'invalid_request_error', 'invalid_query_parameter', `Unknown query parameter: ${key}`);
      }
    }
  }
  return null;
}
