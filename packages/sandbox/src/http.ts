// Small helpers over node:http: the request context, answers, body reading, pacing.
// No framework on purpose: the benchmarks use the sandbox as their upstream, so every
// microsecond spent here would show up as "gateway overhead" in someone else's numbers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

export type HeaderValue = string | number | string[];
export type Headers = Record<string, HeaderValue>;

/** A complete answer: a JSON value (or pre-serialised JSON Buffer) plus status and headers. */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Headers;
}

/** Everything a route handler needs about one request. */
export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  /** Headers this provider puts on every answer (request ids, server fingerprints). */
  headers: Headers;
  requestId: string;
  /** `http://host:port` as the client reached this service; used for self-served media URLs. */
  baseUrl: string;
  /** Pause between streamed chunks (ms); 0 writes all chunks at once. */
  paceMs: number;
  /** The `cut` fault: send the headers and part of the body, then reset the connection. */
  cut: boolean;
  /** Aborted when the sandbox closes, so that paced streams and delays stop at once. */
  signal: AbortSignal;
}

export type Handler = (ctx: Ctx) => void | Promise<void>;

const JSON_TYPE = 'application/json';

/** Serialise once; handlers keep the Buffer for answers that never change. */
export function jsonBuffer(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

// Request ids: a random prefix per process plus a counter is unique enough for a fake and
// costs nothing on the hot path (no crypto call per request).
const idPrefix = randomBytes(6).toString('hex');
let idCounter = 0;
export function requestId(): string {
  idCounter = (idCounter + 1) % 0x7fffffff;
  return idPrefix + idCounter.toString(16).padStart(8, '0');
}

/** A random id of `bytes` bytes in hex (job ids, history ids). */
export function hexId(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** ElevenLabs-style 20-character ids (`JBFqnCBsd6RMkjVDRZzb`). */
export function alnumId(length = 20): string {
  const raw = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[raw[i]! % ALNUM.length];
  return out;
}

function headersFor(ctx: Ctx, contentType: string, length: number | undefined, extra?: Headers): Headers {
  const h: Headers = Object.assign({}, ctx.headers);
  h['content-type'] = contentType;
  if (length !== undefined) h['content-length'] = length;
  if (extra) Object.assign(h, extra);
  return h;
}

/** True once the client went away or the answer is complete; writers stop then. */
export function gone(ctx: Ctx): boolean {
  return ctx.res.destroyed || ctx.res.writableEnded;
}

/** Drops the connection with a TCP reset (the client sees ECONNRESET). */
export function resetConnection(res: ServerResponse): void {
  const socket = res.socket;
  if (socket && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket?.destroy();
}

/**
 * Ends the connection after what was written so far has been flushed: a graceful close (FIN)
 * in the middle of a body, which the client sees as a premature end. A reset instead could
 * make the kernel drop the partial body before the client reads it.
 */
export function cutConnection(res: ServerResponse): void {
  res.socket?.destroy();
}

/** Sends a complete body with Content-Length. */
export function sendBytes(ctx: Ctx, status: number, contentType: string, body: Buffer, extra?: Headers): void {
  if (gone(ctx)) return;
  ctx.res.writeHead(status, headersFor(ctx, contentType, body.length, extra));
  if (ctx.cut && body.length > 1) {
    // Promise the whole body, deliver half: what a dying upstream looks like to a relay.
    ctx.res.write(body.subarray(0, body.length >> 1), () => cutConnection(ctx.res));
    return;
  }
  ctx.res.end(body);
}

export function sendJson(ctx: Ctx, status: number, value: unknown, extra?: Headers): void {
  sendBytes(ctx, status, JSON_TYPE, Buffer.isBuffer(value) ? value : jsonBuffer(value), extra);
}

export function sendAnswer(ctx: Ctx, answer: Answer): void {
  sendJson(ctx, answer.status, answer.body, answer.headers);
}

/** Waits `ms`; resolves false instead of throwing when the sandbox closes meanwhile. */
export async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms <= 0) return !signal.aborted;
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Resolves when the response can take more data (back-pressure), or the client left. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Streams `chunks` with chunked transfer encoding: the first at once, then one every
 * `ctx.paceMs` (like a model generating audio), honouring back-pressure.
 */
export async function streamChunks(ctx: Ctx, status: number, contentType: string, chunks: Iterable<Buffer>, extra?: Headers): Promise<void> {
  if (gone(ctx)) return;
  const { res } = ctx;
  res.writeHead(status, headersFor(ctx, contentType, undefined, extra));
  let first = true;
  for (const chunk of chunks) {
    if (!first && ctx.paceMs > 0 && !(await sleep(ctx.paceMs, ctx.signal))) break;
    if (gone(ctx)) return;
    if (first && ctx.cut) {
      res.write(chunk, () => cutConnection(res));
      return;
    }
    const more = res.write(chunk);
    first = false;
    if (!more) await drained(res);
  }
  if (!gone(ctx)) res.end();
}

export class BodyTooLarge extends Error {}

/** Reads the whole request body, up to `limit` bytes (the sandbox is not an upload store). */
export function readBody(req: IncomingMessage, limit = 64 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge(`request body over ${limit} bytes`));
        req.resume();
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
    req.on('error', reject);
  });
}

export type JsonRead = { ok: true; value: unknown } | { ok: false; error: string };

/** Reads a JSON body; an empty body reads as `{}` would be wrong, so it is reported as missing. */
export async function readJson(req: IncomingMessage): Promise<JsonRead> {
  const raw = await readBody(req);
  if (raw.length === 0) return { ok: false, error: 'empty' };
  try {
    return { ok: true, value: JSON.parse(raw.toString('utf8')) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Query/body flags arrive as `true`, `"true"`, `"1"`. */
export function truthy(v: unknown): boolean {
  return v === true || v === 'true' || v === '1' || v === 1;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
