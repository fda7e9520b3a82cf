// Talking to a running gateway: where it is, which token to send, and one-line errors in the
// form `404 credentials_not_found: No allowed credentials … (request 01J…)`.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, UsageError, oneLine } from './errors.ts';
import type { Parsed } from './command.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface Connection {
  url: string;
  token: string;
  /** `X-Portico-Organization` for the platform token on discovery and invoke routes. */
  organization?: string;
}

export type TokenKind = 'admin' | 'api';

function adminTokenFile(): string | null {
  const file = resolve(process.env.PORTICO_DATA_DIR || 'data', 'admin-token');
  if (!existsSync(file)) return null;
  try {
    const token = readFileSync(file, 'utf8').trim();
    return token || null;
  } catch {
    return null;
  }
}

/**
 * The gateway URL and token for a command. Admin commands prefer the admin token
 * (`--key`, `$PORTICO_ADMIN_TOKEN`, `$PORTICO_API_KEY`, ./data/admin-token); `invoke` prefers an
 * API key (`--key`, `$PORTICO_API_KEY`, then the admin token sources).
 */
export function connection(p: Parsed, kind: TokenKind, cmd: string): Connection {
  const env = process.env;
  const rawUrl = (typeof p.values.url === 'string' ? p.values.url : env.PORTICO_URL) || DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new UsageError(`gateway URL '${rawUrl}' is not a valid URL`, cmd);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`gateway URL must be http or https (got '${rawUrl}')`, cmd);
  const given = typeof p.values.key === 'string' ? p.values.key : undefined;
  const order = kind === 'admin' ? [given, env.PORTICO_ADMIN_TOKEN, env.PORTICO_API_KEY] : [given, env.PORTICO_API_KEY, env.PORTICO_ADMIN_TOKEN];
  const token = order.find((t) => t !== undefined && t !== '') ?? adminTokenFile();
  if (!token) {
    throw new CliError(
      kind === 'admin'
        ? 'no admin token: pass --key, set PORTICO_ADMIN_TOKEN (or PORTICO_API_KEY for an admin API key), or run from the directory holding data/admin-token'
        : 'no API key: pass --key or set PORTICO_API_KEY (or PORTICO_ADMIN_TOKEN with --org)',
    );
  }
  return { url: rawUrl.replace(/\/+$/, ''), token };
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Send X-Portico-Organization (discovery and invoke routes). */
  actAs?: string;
}

/** Reads the provider's error code and message out of an upstream error body, any shape. */
function upstreamCodeAndMessage(body: unknown): { code: string | null; message: string | null } {
  if (typeof body !== 'object' || body === null) return { code: null, message: typeof body === 'string' ? body : null };
  const b = body as Record<string, any>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
  const d = b.detail;
  const e = b.error;
  const code =
    (d && typeof d === 'object' && !Array.isArray(d) ? (str(d.code) ?? str(d.status)) : null) ??
    (e && typeof e === 'object' ? str(e.code) : null) ??
    (typeof b.code === 'string' ? b.code : null);
  let message =
    (d && typeof d === 'object' && !Array.isArray(d) ? str(d.message) : null) ??
    (typeof d === 'string' ? d : null) ??
    (Array.isArray(d) && d[0] && typeof d[0] === 'object' ? str(d[0].msg) : null) ??
    (e && typeof e === 'object' ? str(e.message) : typeof e === 'string' ? e : null) ??
    str(b.message);
  return { code, message };
}

/** `404 credentials_not_found: No allowed … (request 01J…)` for a gateway or upstream error. */
export function errorLine(status: number, headers: Headers, text: string): string {
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  const rid = headers.get('x-request-id');
  const suffix = rid ? ` (request ${rid})` : '';
  const fromUpstream = headers.get('x-error-source') === 'upstream';
  const env = body as { error?: { code?: unknown; message?: unknown; upstream_status?: unknown; upstream_code?: unknown }; detail?: unknown };
  if (!fromUpstream && env && typeof env === 'object' && env.error && typeof env.error.code === 'string') {
    let line = `${status} ${env.error.code}: ${typeof env.error.message === 'string' ? env.error.message : ''}`;
    const extra: string[] = [];
    if (env.error.upstream_status !== undefined) extra.push(`upstream ${String(env.error.upstream_status)}`);
    if (typeof env.error.upstream_code === 'string') extra.push(env.error.upstream_code);
    if (extra.length) line += ` [${extra.join(' ')}]`;
    return oneLine(line) + suffix;
  }
  const { code, message } = upstreamCodeAndMessage(body);
  const who = fromUpstream ? 'upstream' : 'error';
  const what = message ?? (typeof body === 'string' && body ? body : 'no details');
  return oneLine(`${status} ${who}${code ? ' ' + code : ''}: ${what}`, 400) + suffix;
}

function networkError(url: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return new CliError(`cannot reach the gateway at ${url} (${why})`);
}

/** A raw request: returns the Response whatever its status (for streaming bodies). */
export async function send(conn: Connection, method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const url = new URL(conn.url + path);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
  const headers: Record<string, string> = { authorization: `Bearer ${conn.token}`, accept: 'application/json, */*', ...opts.headers };
  const org = opts.actAs ?? conn.organization;
  if (org) headers['x-portico-organization'] = org;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  try {
    return await fetch(url, { method, headers, body });
  } catch (err) {
    throw networkError(conn.url, err);
  }
}

/** Throws a CliError with the one-line reason when the response is not 2xx. */
export async function ensureOk(res: Response): Promise<Response> {
  if (res.ok) return res;
  const text = await res.text().catch(() => '');
  throw new ApiError(res.status, errorLine(res.status, res.headers, text), text);
}

export class ApiError extends CliError {
  readonly status: number;
  readonly code: string | null;
  constructor(status: number, line: string, text: string) {
    super(line);
    this.status = status;
    let code: string | null = null;
    try {
      const b = JSON.parse(text) as { error?: { code?: unknown } };
      if (typeof b?.error?.code === 'string') code = b.error.code;
    } catch {
      /* ignore */
    }
    this.code = code;
  }
}

/** JSON request → parsed JSON answer (null for 204). */
export async function api<T = any>(conn: Connection, method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await ensureOk(await send(conn, method, path, opts));
  if (res.status === 204) return null as T;
  const text = await res.text();
  if (text === '') return null as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`the gateway answered ${res.status} with a body that is not JSON`);
  }
}

/** Every page of an admin list (`{<plural>: [...], next_cursor}`). */
export async function listAll<T = any>(conn: Connection, path: string, plural: string, query: Record<string, string | undefined> = {}): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await api<Record<string, unknown>>(conn, 'GET', path, { query: { ...query, limit: '200', cursor } });
    const list = page?.[plural];
    if (!Array.isArray(list)) throw new CliError(`unexpected answer from ${path}: no '${plural}' list`);
    items.push(...(list as T[]));
    const next = page.next_cursor;
    if (typeof next !== 'string' || next === '') break;
    cursor = next;
  }
  return items;
}

export function seg(s: string): string {
  return encodeURIComponent(s);
}

export const ADMIN = '/api/v1/admin';
export const PROXY = '/api/v1/external-proxy';
