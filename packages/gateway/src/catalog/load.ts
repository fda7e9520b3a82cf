// Loads the service catalog: one JSON file per service in a directory (SPEC §9), validated
// against catalog/schema.json with Ajv, then checked for what a JSON Schema cannot express.
// Every failure is a CatalogError whose message is one line: "<file>: <field>: <reason>".
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';

export interface CatalogEndpoint {
  slug: string;
  name: string;
  description: string;
  method: string;
  path_template: string;
  /** Names of the `{name}` parameters of `path_template`, in template order. */
  path_params: string[];
  query_params: string[];
  request_mode: 'none' | 'json' | 'multipart';
  response_mode: 'json' | 'binary' | 'stream';
  content_type: string;
  /** Upstream timeout of this endpoint; null = the service's. */
  timeout_ms: number | null;
  deprecated: boolean;
  /** `YYYY-MM-DD`, present exactly when `deprecated`. */
  sunset: string | null;
}

export interface CredentialPolicy {
  allow_tenant_key: boolean;
  allow_platform_key: boolean;
  default_source: 'tenant' | 'platform';
  fallback_to_platform_key: boolean;
}

export interface CatalogService {
  slug: string;
  name: string;
  description: string;
  docs_url: string | null;
  base_url: string;
  /** `template` turns the credential payload into the header value; `{field}` = payload field. */
  auth: { type: 'header'; header: string; template: string };
  credential_name: string;
  credential_schema: Record<string, unknown>;
  credential_policy: CredentialPolicy;
  test_endpoint: string;
  /** Default upstream timeout for endpoints without their own (catalog default 30000). */
  timeout_ms: number;
  /** Upstream statuses that cool a pooled credential down (SPEC §6 step 5; default [401, 429]). */
  cooldown_statuses: number[];
  /** Response header (lower case) holding the units the upstream spent (SPEC §13); null = none. */
  units_header: string | null;
  /** Extra client request headers forwarded upstream (lower case); default none. */
  forward_request_headers: string[];
  endpoints: CatalogEndpoint[];
}

export class CatalogError extends Error {
  /** Path of the offending file (or directory). */
  readonly file: string;
  /** Field path inside the file, e.g. `endpoints[3].path_template`; `(root)` for the whole file. */
  readonly field: string;
  readonly reason: string;

  constructor(file: string, field: string, reason: string) {
    super(`${basename(file)}: ${field || '(root)'}: ${oneLine(reason)}`);
    this.name = 'CatalogError';
    this.file = file;
    this.field = field || '(root)';
    this.reason = oneLine(reason);
  }
}

export const DEFAULT_SERVICE_TIMEOUT_MS = 30_000;
export const DEFAULT_COOLDOWN_STATUSES: readonly number[] = [401, 429];
const SCHEMA_FILE = 'schema.json';
const PARAM_RE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Absolute path of the repository's `catalog/` folder. */
export function defaultCatalogDir(): string {
  // this file: <repo>/packages/gateway/src/catalog/load.ts
  return resolve(import.meta.dirname, '../../../../catalog');
}

/**
 * Reads every `*.json` file of `dir` except `schema.json` (sorted by file name), validates each
 * against the repository's catalog/schema.json and the semantic rules below, and returns the
 * services with defaults filled in. Throws CatalogError on the first problem.
 */
export function loadCatalog(dir: string): CatalogService[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new CatalogError(dir, '', `cannot read catalog directory: ${errorText(err)}`);
  }
  const files = names
    .filter((n) => n.endsWith('.json') && n !== SCHEMA_FILE && !n.startsWith('.'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => join(dir, n))
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch (err) {
        throw new CatalogError(p, '', `cannot read file: ${errorText(err)}`);
      }
    });
  const validate = catalogValidator();
  return files.map((file) => loadServiceFile(file, validate));
}

function loadServiceFile(file: string, validate: ValidateFunction): CatalogService {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CatalogError(file, '', `cannot read file: ${errorText(err)}`);
  }
  const data = parseJson(file, text);
  if (!validate(data)) {
    throw schemaError(file, data, validate.errors?.[0]);
  }
  return checkService(file, data as RawService);
}

// ---------------------------------------------------------------------------------------------
// JSON parsing

function parseJson(file: string, text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // tolerate a UTF-8 BOM
  try {
    return JSON.parse(body);
  } catch (err) {
    const raw = errorText(err);
    const v8pos = /at position (\d+)/.exec(raw);
    const found = syntaxErrorPosition(body);
    const pos = found >= 0 ? found : v8pos ? Number(v8pos[1]) : 0;
    const before = body.slice(0, pos).split('\n');
    const line = before.length;
    const column = before[before.length - 1]!.length + 1;
    const detail = raw.replace(/\s*(?:in JSON )?at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '');
    throw new CatalogError(file, '', `invalid JSON at position ${pos} (line ${line}, column ${column}): ${detail}`);
  }
}

/**
 * Offset of the first JSON syntax error in `s` (-1 if none). JSON.parse names the position for
 * most errors but not all (e.g. "Unexpected token" in a misspelt literal), so it is found here.
 */
function syntaxErrorPosition(s: string): number {
  let i = 0;
  const fail = (): never => {
    throw new JsonSyntaxAt(i);
  };
  const ws = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r')) i++;
  };
  const str = () => {
    i++; // opening quote
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        i++;
        if (i < s.length && '"\\/bfnrt'.includes(s[i]!)) i++;
        else if (s[i] === 'u') {
          i++;
          for (let k = 0; k < 4; k++, i++) if (!/[0-9A-Fa-f]/.test(s[i] ?? '')) fail();
        } else fail();
        continue;
      }
      i++;
    }
    fail();
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      ws();
      if (s[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (s[i] !== '"') fail();
        str();
        ws();
        if (s[i] !== ':') fail();
        i++;
        value();
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === '}') {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (s[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (s[i] === ',') i++;
        else if (s[i] === ']') {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const re = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
      re.lastIndex = i;
      if (!re.exec(s)) fail();
      i = re.lastIndex;
      return;
    }
    for (const lit of ['true', 'false', 'null']) {
      if (c === lit[0]) {
        for (const ch of lit) {
          if (s[i] !== ch) fail();
          i++;
        }
        return;
      }
    }
    fail();
  };
  try {
    value();
    ws();
    if (i < s.length) fail();
    return -1;
  } catch (err) {
    if (err instanceof JsonSyntaxAt) return err.pos;
    throw err;
  }
}

class JsonSyntaxAt {
  readonly pos: number;
  constructor(pos: number) {
    this.pos = pos;
  }
}

// ---------------------------------------------------------------------------------------------
// Schema validation (Ajv) and its error messages

let cachedValidator: ValidateFunction | null = null;

function catalogValidator(): ValidateFunction {
  if (cachedValidator) return cachedValidator;
  const schemaPath = join(defaultCatalogDir(), SCHEMA_FILE);
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
  } catch (err) {
    throw new CatalogError(schemaPath, '', `cannot load the catalog schema: ${errorText(err)}`);
  }
  try {
    cachedValidator = new Ajv({ allErrors: false, strict: true }).compile(schema as object);
  } catch (err) {
    throw new CatalogError(schemaPath, '', `invalid catalog schema: ${errorText(err)}`);
  }
  return cachedValidator;
}

function schemaError(file: string, data: unknown, error: ErrorObject | undefined): CatalogError {
  if (!error) return new CatalogError(file, '', 'does not match the catalog schema');
  const segments = pointerSegments(error.instancePath);
  const value = valueAt(data, segments);
  const params = error.params as Record<string, unknown>;
  const field = (extra?: string) => fieldPath(extra === undefined ? segments : [...segments, extra]);
  switch (error.keyword) {
    case 'required':
      return new CatalogError(file, field(String(params.missingProperty)), 'missing required field');
    case 'additionalProperties':
      return new CatalogError(file, field(String(params.additionalProperty)), 'unknown field');
    case 'enum':
      return new CatalogError(
        file,
        field(),
        `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${show(value)})`,
      );
    case 'const':
      return new CatalogError(file, field(), `must be ${JSON.stringify(params.allowedValue)} (got ${show(value)})`);
    case 'type':
      return new CatalogError(file, field(), `must be ${String(params.type)} (got ${typeName(value)})`);
    case 'pattern':
      return new CatalogError(file, field(), `${patternReason(segments, String(params.pattern))} (got ${show(value)})`);
    default:
      return new CatalogError(file, field(), `${error.message ?? 'is invalid'}${isScalar(value) ? ` (got ${show(value)})` : ''}`);
  }
}

function patternReason(segments: string[], pattern: string): string {
  const last = [...segments].reverse().find((s) => !/^\d+$/.test(s));
  switch (last) {
    case 'path_template':
      return 'must start with "/" and contain no spaces, "?", "#" or "\\"; parameters are {name} with name matching [A-Za-z_][A-Za-z0-9_]*';
    case 'slug':
    case 'test_endpoint':
      return `must be a slug matching ${pattern}`;
    case 'base_url':
    case 'docs_url':
      return 'must be an http(s) URL without query, fragment, credentials or trailing slash';
    case 'sunset':
      return 'must be a date YYYY-MM-DD';
    case 'template':
      return 'must contain at least one {field} placeholder and no control characters or stray braces';
    default:
      return `must match pattern ${pattern}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Semantic checks and defaults

interface RawEndpoint {
  slug: string;
  name: string;
  description: string;
  method: string;
  path_template: string;
  query_params: string[];
  request_mode: CatalogEndpoint['request_mode'];
  response_mode: CatalogEndpoint['response_mode'];
  content_type: string;
  timeout_ms?: number;
  deprecated?: boolean;
  sunset?: string;
}

interface RawService {
  slug: string;
  name: string;
  description: string;
  docs_url?: string;
  base_url: string;
  auth: { type: 'header'; header: string; template: string };
  credential_name: string;
  credential_schema: Record<string, unknown>;
  credential_policy: CredentialPolicy;
  test_endpoint: string;
  timeout_ms?: number;
  cooldown_statuses?: number[];
  units_header?: string;
  forward_request_headers?: string[];
  endpoints: RawEndpoint[];
}

function checkService(file: string, raw: RawService): CatalogService {
  const expectedSlug = basename(file).slice(0, -'.json'.length);
  if (raw.slug !== expectedSlug) {
    throw new CatalogError(file, 'slug', `must equal the file name "${expectedSlug}" (got ${show(raw.slug)})`);
  }
  checkUrl(file, 'base_url', raw.base_url);
  if (raw.docs_url !== undefined) checkUrl(file, 'docs_url', raw.docs_url);

  checkCredentialSchema(file, raw);

  const endpoints: CatalogEndpoint[] = [];
  const seen = new Map<string, number>();
  raw.endpoints.forEach((ep, i) => {
    const at = `endpoints[${i}]`;
    const first = seen.get(ep.slug);
    if (first !== undefined) {
      throw new CatalogError(file, `${at}.slug`, `duplicate endpoint slug "${ep.slug}" (also endpoints[${first}])`);
    }
    seen.set(ep.slug, i);
    endpoints.push(checkEndpoint(file, at, ep));
  });

  const test = endpoints.find((e) => e.slug === raw.test_endpoint);
  if (!test) {
    throw new CatalogError(file, 'test_endpoint', `unknown endpoint "${raw.test_endpoint}" (not in endpoints)`);
  }
  if (test.path_params.length > 0 || test.request_mode !== 'none') {
    throw new CatalogError(file, 'test_endpoint', `endpoint "${test.slug}" must take no path parameters and no request body (request_mode "none")`);
  }

  return {
    slug: raw.slug,
    name: raw.name,
    description: raw.description,
    docs_url: raw.docs_url ?? null,
    base_url: raw.base_url,
    auth: { type: raw.auth.type, header: raw.auth.header, template: raw.auth.template },
    credential_name: raw.credential_name,
    credential_schema: raw.credential_schema,
    credential_policy: { ...raw.credential_policy },
    test_endpoint: raw.test_endpoint,
    timeout_ms: raw.timeout_ms ?? DEFAULT_SERVICE_TIMEOUT_MS,
    cooldown_statuses: raw.cooldown_statuses ? [...raw.cooldown_statuses] : [...DEFAULT_COOLDOWN_STATUSES],
    units_header: raw.units_header?.toLowerCase() ?? null,
    forward_request_headers: (raw.forward_request_headers ?? []).map((h) => h.toLowerCase()),
    endpoints,
  };
}

function checkEndpoint(file: string, at: string, ep: RawEndpoint): CatalogEndpoint {
  const pathParams: string[] = [];
  for (const m of ep.path_template.matchAll(PARAM_RE)) {
    const name = m[1]!;
    if (pathParams.includes(name)) {
      throw new CatalogError(file, `${at}.path_template`, `duplicate path parameter "${name}" in ${show(ep.path_template)}`);
    }
    pathParams.push(name);
  }
  if (ep.method === 'GET' && ep.request_mode !== 'none') {
    throw new CatalogError(file, `${at}.request_mode`, `must be "none" for a GET endpoint (got ${show(ep.request_mode)})`);
  }
  const segments = ep.path_template.split('/');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new CatalogError(file, `${at}.path_template`, `must not contain "." or ".." segments (got ${show(ep.path_template)})`);
  }

  const deprecated = ep.deprecated ?? false;
  if (deprecated && ep.sunset === undefined) {
    throw new CatalogError(file, `${at}.sunset`, 'required when deprecated is true');
  }
  if (!deprecated && ep.sunset !== undefined) {
    throw new CatalogError(file, `${at}.sunset`, 'only allowed when deprecated is true');
  }
  if (ep.sunset !== undefined && !isCalendarDate(ep.sunset)) {
    throw new CatalogError(file, `${at}.sunset`, `not a calendar date (got ${show(ep.sunset)})`);
  }

  return {
    slug: ep.slug,
    name: ep.name,
    description: ep.description,
    method: ep.method,
    path_template: ep.path_template,
    path_params: pathParams,
    query_params: [...ep.query_params],
    request_mode: ep.request_mode,
    response_mode: ep.response_mode,
    content_type: ep.content_type,
    timeout_ms: ep.timeout_ms ?? null,
    deprecated,
    sunset: ep.sunset ?? null,
  };
}

function checkCredentialSchema(file: string, raw: RawService): void {
  try {
    // A fresh instance per service, so that an `$id` in one service's schema cannot clash with another's.
    new Ajv({ allErrors: false, strict: true }).compile(raw.credential_schema);
  } catch (err) {
    throw new CatalogError(file, 'credential_schema', `is not a valid JSON Schema: ${errorText(err)}`);
  }
  const props = raw.credential_schema.properties as Record<string, unknown>;
  const required = Array.isArray(raw.credential_schema.required) ? (raw.credential_schema.required as unknown[]) : [];
  for (const m of raw.auth.template.matchAll(PARAM_RE)) {
    const name = m[1]!;
    if (!Object.hasOwn(props, name)) {
      throw new CatalogError(file, 'auth.template', `field "${name}" is not a property of credential_schema`);
    }
    if (!required.includes(name)) {
      throw new CatalogError(file, 'auth.template', `field "${name}" must be listed in credential_schema.required`);
    }
  }
}

function checkUrl(file: string, field: string, value: string): void {
  try {
    new URL(value);
  } catch {
    throw new CatalogError(file, field, `not a valid URL (got ${show(value)})`);
  }
}

function isCalendarDate(s: string): boolean {
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `['endpoints', '3', 'path_template']` → `endpoints[3].path_template`. */
function fieldPath(segments: string[]): string {
  let out = '';
  for (const s of segments) {
    if (/^\d+$/.test(s)) out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

function valueAt(data: unknown, segments: string[]): unknown {
  let cur: unknown = data;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function isScalar(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function show(v: unknown): string {
  if (!isScalar(v)) return typeName(v);
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ');
}
