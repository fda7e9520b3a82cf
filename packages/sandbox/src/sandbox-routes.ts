// Sandbox-only routes, on every service port, no key needed:
//   GET  /sandbox/bytes?size=N  N bytes of application/octet-stream (byte k = k mod 256),
//                               written in 64 KiB chunks with back-pressure (1 GB relay tests)
//   ANY  /sandbox/echo          what reached the upstream: method, path, query, headers, body
import { createHash } from 'node:crypto';
import { cutConnection, drained, gone, sendJson, type Ctx, type Headers } from './http.ts';
import type { Route } from './router.ts';

const CHUNK = 64 * 1024;
// Byte k of every answer is k & 0xff; 64 KiB is a multiple of 256, so one buffer serves all chunks.
const PATTERN = Buffer.allocUnsafe(CHUNK);
for (let i = 0; i < CHUNK; i++) PATTERN[i] = i & 0xff;
const MAX_BYTES = 64 * 1024 ** 3;
const ECHO_KEEP = 1024 * 1024;

/** Writes `size` pattern bytes with Content-Length; stops as soon as the client leaves. */
export async function streamPattern(ctx: Ctx, size: number, contentType: string, extra?: Headers): Promise<void> {
  const { res } = ctx;
  if (gone(ctx)) return;
  const headers: Headers = Object.assign({}, ctx.headers, extra);
  headers['content-type'] = contentType;
  headers['content-length'] = size;
  res.writeHead(200, headers);
  let left = size;
  let first = true;
  while (left > 0) {
    if (gone(ctx)) return;
    const n = Math.min(CHUNK, left);
    const chunk = n === CHUNK ? PATTERN : PATTERN.subarray(0, n);
    if (first && ctx.cut) {
      res.write(chunk, () => cutConnection(res));
      return;
    }
    const more = res.write(chunk);
    left -= n;
    first = false;
    if (!more && left > 0) await drained(res);
  }
  if (!gone(ctx)) res.end();
}

export function parseSize(raw: string | null | undefined): number | null {
  if (raw == null || !/^\d{1,12}$/.test(raw)) return null;
  const n = Number(raw);
  return n <= MAX_BYTES ? n : null;
}

function sandboxError(ctx: Ctx, status: number, message: string): void {
  sendJson(ctx, status, { sandbox_error: message });
}

async function echo(ctx: Ctx): Promise<void> {
  const { req } = ctx;
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    hash.update(chunk);
    length += chunk.length;
    if (keptBytes < ECHO_KEEP) {
      const part = chunk.subarray(0, ECHO_KEEP - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
  }
  const body = Buffer.concat(kept);
  let text: string | null = null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    text = null;
  }
  let json: unknown = undefined;
  if (text !== null && /\bjson\b/i.test(String(req.headers['content-type'] ?? ''))) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  const raw: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) raw.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(ctx.query.keys())) {
    const all = ctx.query.getAll(key);
    query[key] = all.length === 1 ? all[0]! : all;
  }
  sendJson(ctx, 200, {
    method: req.method,
    path: ctx.path,
    query,
    http_version: req.httpVersion,
    headers: req.headers,
    raw_headers: raw,
    body: text,
    ...(text === null ? { body_base64: body.toString('base64') } : {}),
    ...(json !== undefined ? { json } : {}),
    body_length: length,
    body_sha256: hash.digest('hex'),
    body_truncated: length > keptBytes,
  });
}

export function sandboxRoutes(): Route[] {
  const routes: Route[] = [
    {
      method: 'GET',
      path: '/sandbox/bytes',
      public: true,
      async handler(ctx) {
        const size = parseSize(ctx.query.get('size'));
        if (size === null) return sandboxError(ctx, 400, 'size must be a whole number of bytes (at most 64 GiB)');
        const type = ctx.query.get('content_type') ?? 'application/octet-stream';
        await streamPattern(ctx, size, type);
      },
    },
  ];
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
    routes.push({ method, path: '/sandbox/echo', public: true, handler: echo });
  }
  return routes;
}
