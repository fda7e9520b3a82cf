// Idempotency-Key on invoke (SPEC §13): the key's rules, the request's fingerprint, the tee that
// keeps a copy of a relayed JSON answer, and replaying a stored answer.
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';
import { invalidRequest } from '../errors.ts';
import type { StoredResponse } from '../state/index.ts';

/** Largest answer that is stored for replay (SPEC §13: 1 MiB). */
export const MAX_STORED_BODY = 1024 * 1024;

const KEY_RE = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header, checked; undefined when absent. */
export function idempotencyKey(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !KEY_RE.test(raw)) throw invalidRequest('Idempotency-Key must be 1 to 255 visible ASCII characters.');
  return raw;
}

/** Same service, action and payload ⇔ same fingerprint (object key order does not matter). */
export function fingerprint(service: string, action: string, payload: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([service, action, canonical(payload)]))
    .digest('base64url');
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

// Per-response fields that are not part of the stored answer: the replay sets its own.
const NOT_STORED = new Set([
  'x-request-id',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'date',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'idempotent-replayed',
]);

export function storableHeaders(h: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in h) {
    const v = h[name];
    const lower = name.toLowerCase();
    // CORS fields belong to the request being answered (its Origin), not to the stored answer.
    if (NOT_STORED.has(lower) || lower.startsWith('access-control-') || lower === 'vary' || v === undefined) continue;
    out[lower] = Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}

/** Writes through to the client's response and keeps a copy of up to MAX_STORED_BODY bytes. */
export class CaptureTee extends Writable {
  private readonly res: ServerResponse;
  private chunks: Buffer[] = [];
  private size = 0;
  overflow = false;

  constructor(res: ServerResponse) {
    super();
    this.res = res;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (!this.overflow) {
      this.size += chunk.length;
      if (this.size > MAX_STORED_BODY) {
        this.overflow = true;
        this.chunks = [];
      } else this.chunks.push(chunk);
    }
    if (this.res.write(chunk)) cb();
    else this.res.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.res.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (err && !this.res.writableFinished) this.res.destroy();
    cb(err);
  }

  body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Sends a stored answer again: same status, headers and body, this request's own id. Returns the body's size in bytes. */
export function sendReplay(res: ServerResponse, stored: StoredResponse, requestId: string, own: Record<string, string>): number {
  let body = Buffer.from(stored.body, 'base64');
  if (stored.gatewayError) {
    // A gateway error envelope names its request; the replay answers for this one.
    try {
      const env = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      env.request_id = requestId;
      body = Buffer.from(JSON.stringify(env));
    } catch {
      // not an envelope after all: replay as stored
    }
  }
  res.writeHead(stored.status, { ...own, ...stored.headers, 'x-request-id': requestId, 'idempotent-replayed': 'true', 'content-length': String(body.length) });
  res.end(body);
  return body.length;
}
