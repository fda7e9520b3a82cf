// The panel's one way to talk to the gateway: same-origin fetch with the session cookie, the
// CSRF token on every change, and every failure turned into an ApiError that carries the
// gateway's message, code and request id (SPEC §7) for display.
const ADMIN = '/api/v1/admin';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;

  constructor(status: number, code: string, message: string, requestId: string | null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

let csrfToken: string | null = null;
let onSessionEnded: (() => void) | null = null;

/** Kept in memory only; the gateway hands it out again on GET /admin/session after a reload. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function onUnauthorized(fn: (() => void) | null): void {
  onSessionEnded = fn;
}

export interface RequestOptions {
  body?: unknown;
  /** Do not treat a 401 as the end of the session (the sign-in calls themselves). */
  quiet401?: boolean;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'Could not reach the gateway. Check that it is running and try again.', null);
  }
  const requestId = res.headers.get('x-request-id');
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const env = (body ?? {}) as { detail?: unknown; error?: { code?: unknown; message?: unknown }; request_id?: unknown };
    const message =
      typeof env.error?.message === 'string' ? env.error.message : typeof env.detail === 'string' ? env.detail : `HTTP ${res.status} ${res.statusText}`.trim();
    const code = typeof env.error?.code === 'string' ? env.error.code : `http_${res.status}`;
    const rid = typeof env.request_id === 'string' ? env.request_id : requestId;
    const err = new ApiError(res.status, code, message, rid);
    if (res.status === 401 && !opts.quiet401) onSessionEnded?.();
    throw err;
  }
  if (body === undefined) throw new ApiError(res.status, 'invalid_response', 'The gateway answered with something that is not JSON.', requestId);
  return body as T;
}

export const admin = {
  get: <T>(path: string) => request<T>('GET', ADMIN + path),
  post: <T>(path: string, body?: unknown) => request<T>('POST', ADMIN + path, { body: body ?? {} }),
  put: <T>(path: string, body: unknown) => request<T>('PUT', ADMIN + path, { body }),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', ADMIN + path, { body }),
  delete: (path: string) => request<void>('DELETE', ADMIN + path),
};

/** Every item of a paginated admin list (bounded, for pickers). */
export async function listAll<T>(path: string, key: string, maxPages = 20): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page: Record<string, unknown> = await admin.get(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...((page[key] as T[]) ?? []));
    cursor = (page.next_cursor as string | null) ?? null;
    if (!cursor) break;
  }
  return out;
}

/** Query string from the defined, non-empty values. */
export function qs(params: Record<string, string | number | null | undefined>): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') sp.set(k, String(v));
  const s = sp.toString();
  return s ? `?${s}` : '';
}

export const enc = encodeURIComponent;
