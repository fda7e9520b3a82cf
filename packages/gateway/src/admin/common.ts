// Shared pieces of the admin API (SPEC §8): the caller, body and query validation with messages
// that name the field, list pagination with opaque cursors, and the shared value rules (slugs,
// RFC 3339 expiry, limits, CORS origins).
//
// Validation is done in the handlers, not with Fastify schemas: schemas run before the
// preHandler that authenticates, so an anonymous or unauthorised caller would learn about
// validation rules (400) instead of getting 401/403 first.
import type { FastifyRequest } from 'fastify';
import { sql, type RawBuilder } from 'kysely';
import type { Principal } from '../auth/authenticate.ts';
import { GatewayError, invalidRequest } from '../errors.ts';
import { parseRfc3339 } from '../ids.ts';
import { NO_LIMITS, type Limits } from '../registry.ts';

export const ADMIN_PREFIX = '/api/v1/admin';

/** Organization slugs and plan names. */
export const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const SLUG_TEXT = 'a slug matching [a-z0-9][a-z0-9-]{0,62}';
export const NAME_MAX = 200;

export type Body = Record<string, unknown>;

/** The authenticated caller (the server's preHandler sets it on every /api/v1 route). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new GatewayError('not_authenticated');
  return req.principal;
}

/** The JSON body as an object whose every field is one of `allowed`. */
export function bodyObject(body: unknown, allowed: readonly string[]): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('Request body must be a JSON object.');
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw invalidRequest(`Unknown field '${key}'.`);
  }
  return body as Body;
}

export function has(b: Body, field: string): boolean {
  return Object.hasOwn(b, field) && b[field] !== undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return 'a string';
}

export interface StringRule {
  max?: number;
  pattern?: RegExp;
  /** How to describe `pattern` in the message. */
  patternText?: string;
}

/** A required non-empty string. */
export function requiredString(b: Body, field: string, rule: StringRule = {}): string {
  if (!has(b, field)) throw invalidRequest(`Field '${field}' is required.`);
  return checkString(b[field], field, rule);
}

export function checkString(v: unknown, field: string, rule: StringRule = {}): string {
  if (typeof v !== 'string') throw invalidRequest(`Field '${field}' must be a string, not ${describe(v)}.`);
  if (rule.pattern) {
    if (!rule.pattern.test(v)) throw invalidRequest(`Field '${field}' must be ${rule.patternText ?? `a string matching ${rule.pattern.source}`}.`);
    return v;
  }
  const max = rule.max ?? NAME_MAX;
  if (v.trim() === '' || v.length > max) throw invalidRequest(`Field '${field}' must be a non-empty string of at most ${max} characters.`);
  if (/[\u0000-\u001f\u007f]/.test(v)) throw invalidRequest(`Field '${field}' must not contain control characters.`);
  return v;
}

/** An optional string that may also be null (undefined = not given). */
export function optionalNullableString(b: Body, field: string, rule: StringRule = {}): string | null | undefined {
  if (!has(b, field)) return undefined;
  if (b[field] === null) return null;
  return checkString(b[field], field, rule);
}

export function optionalBoolean(b: Body, field: string): boolean | undefined {
  if (!has(b, field)) return undefined;
  if (typeof b[field] !== 'boolean') throw invalidRequest(`Field '${field}' must be a boolean, not ${describe(b[field])}.`);
  return b[field] as boolean;
}

export function requiredBoolean(b: Body, field: string): boolean {
  if (!has(b, field)) throw invalidRequest(`Field '${field}' is required.`);
  return optionalBoolean(b, field)!;
}

/** `expires_at`: null, or an RFC 3339 time in the future; returned as the canonical ISO string. */
export function optionalExpiry(b: Body, field = 'expires_at'): string | null | undefined {
  if (!has(b, field)) return undefined;
  const v = b[field];
  if (v === null) return null;
  const d = parseRfc3339(v);
  if (!d) throw invalidRequest(`Field '${field}' must be an RFC 3339 date-time with a time zone, e.g. 2030-01-01T00:00:00Z.`);
  if (d.getTime() <= Date.now()) throw invalidRequest(`Field '${field}' must be in the future.`);
  return d.toISOString();
}

export const LIMIT_FIELDS = ['requests_per_minute', 'concurrent_requests', 'monthly_requests', 'monthly_units'] as const;

/**
 * A §13 limits object: any of the four fields, each null or a non-negative integer. Fields not
 * given keep their value in `base` (partial update); `null` as the whole value sets every field
 * to null.
 */
export function parseLimits(v: unknown, field: string, base: Limits = NO_LIMITS): Limits {
  if (v === null) return { ...NO_LIMITS };
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidRequest(`Field '${field}' must be an object or null, not ${describe(v)}.`);
  const out: Limits = { ...base };
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (!(LIMIT_FIELDS as readonly string[]).includes(k)) throw invalidRequest(`Unknown field '${field}.${k}'.`);
    if (val !== null && !(typeof val === 'number' && Number.isSafeInteger(val) && val >= 0)) {
      throw invalidRequest(`Field '${field}.${k}' must be null or a non-negative integer.`);
    }
    out[k as keyof Limits] = val as number | null;
  }
  return out;
}

/** Stored form: null when nothing is set. */
export function limitsColumn(l: Limits): string | null {
  return LIMIT_FIELDS.every((k) => l[k] === null) ? null : JSON.stringify(l);
}

export function limitsFromColumn(raw: string | null): Limits {
  const out: Limits = { ...NO_LIMITS };
  if (!raw) return out;
  const parsed = JSON.parse(raw) as Partial<Limits>;
  for (const k of LIMIT_FIELDS) {
    const v = parsed[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

const MAX_ORIGINS = 100;

/** `cors_origins`: an array of `http(s)://host[:port]` origins, stored normalised (`URL.origin`). */
export function parseCorsOrigins(v: unknown, field = 'cors_origins'): string[] {
  if (!Array.isArray(v)) throw invalidRequest(`Field '${field}' must be an array of origins, not ${describe(v)}.`);
  if (v.length > MAX_ORIGINS) throw invalidRequest(`Field '${field}' must hold at most ${MAX_ORIGINS} origins.`);
  const out: string[] = [];
  v.forEach((o, i) => {
    const bad = () => invalidRequest(`Field '${field}[${i}]' must be an origin like https://app.example.com or http://localhost:3000.`);
    if (typeof o !== 'string' || o.length > 300) throw bad();
    if (!/^https?:\/\/[^/?#@\s]+$/i.test(o)) throw bad();
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw bad();
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') throw bad();
    if (!out.includes(url.origin)) out.push(url.origin);
  });
  return out;
}

/** An upstream base URL: http or https, no credentials, query or fragment; trailing `/` removed. */
export function parseBaseUrl(v: unknown, field = 'base_url'): string {
  const bad = (why: string) => invalidRequest(`Field '${field}' ${why}.`);
  if (typeof v !== 'string') throw bad(`must be an http or https URL or null, not ${describe(v)}`);
  if (v.length > 2000) throw bad('must be at most 2000 characters');
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw bad('must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(`has unsupported scheme '${url.protocol.slice(0, -1)}' (use http or https)`);
  if (url.username || url.password) throw bad('must not contain credentials');
  if (url.search || url.hash || v.includes('?') || v.includes('#')) throw bad('must not contain a query or fragment');
  return v.replace(/\/+$/, '');
}

// ---------------------------------------------------------------------------------------------
// Query strings and pagination

export interface ListQuery {
  limit: number;
  cursor: string | null;
  /** The other allowed parameters that were given. */
  filters: Record<string, string>;
}

/** Reads `limit`, `cursor` and the named filters; anything else is a 400 naming the parameter. */
export function listQuery(req: FastifyRequest, filters: readonly string[] = []): ListQuery {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const out: ListQuery = { limit: 50, cursor: null, filters: {} };
  for (const [name, raw] of Object.entries(q)) {
    if (name !== 'limit' && name !== 'cursor' && !filters.includes(name)) throw invalidRequest(`Unknown query parameter '${name}'.`);
    if (typeof raw !== 'string') throw invalidRequest(`Query parameter '${name}' must be given once.`);
    if (name === 'limit') {
      if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 200) {
        throw invalidRequest(`Query parameter 'limit' must be an integer between 1 and 200.`);
      }
      out.limit = Number(raw);
    } else if (name === 'cursor') {
      if (raw === '') throw invalidRequest(`Query parameter 'cursor' is invalid.`);
      out.cursor = raw;
    } else {
      out.filters[name] = raw;
    }
  }
  return out;
}

/** Opaque cursor: base64url of `[kind, ...values]`, so a cursor of one list is refused by another. */
export function encodeCursor(kind: string, values: string[]): string {
  return Buffer.from(JSON.stringify([kind, ...values]), 'utf8').toString('base64url');
}

export function decodeCursor(raw: string, kind: string, n: number): string[] {
  const bad = () => invalidRequest(`Query parameter 'cursor' is invalid.`);
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(raw)) throw bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== n + 1 || parsed[0] !== kind) throw bad();
  const values = parsed.slice(1);
  if (!values.every((v) => typeof v === 'string' && v.length <= 500)) throw bad();
  return values as string[];
}

/** Splits the `limit + 1` rows fetched into the page and the next cursor. */
export function page<R, T>(
  rows: R[],
  limit: number,
  kind: string,
  cursorValues: (r: R) => string[],
  map: (r: R) => T,
): { items: T[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const pageRows = more ? rows.slice(0, limit) : rows;
  return {
    items: pageRows.map(map),
    next_cursor: more ? encodeCursor(kind, cursorValues(pageRows[pageRows.length - 1]!)) : null,
  };
}

/** A unique-constraint violation on SQLite or PostgreSQL. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (e?.code === '23505') return true;
  return typeof e?.code === 'string' && e.code.startsWith('SQLITE_CONSTRAINT') && /UNIQUE|PRIMARY/i.test(String(e.message) + e.code);
}

export function bool(n: number): boolean {
  return n === 1;
}

/** The rows after a cursor in a list ordered by `created_at` desc, then `key` asc (organizations, plans). */
export function afterCreatedCursor(cursor: string, kind: string, key: string): RawBuilder<boolean> {
  const [at, k] = decodeCursor(cursor, kind, 2) as [string, string];
  return sql<boolean>`(created_at < ${at} or (created_at = ${at} and ${sql.ref(key)} > ${k}))`;
}
