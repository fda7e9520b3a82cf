// Stage 6: the upstream's answer → the client's response. Headers are filtered (SPEC §5),
// bodies are streamed with back-pressure and never buffered whole.
import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';

// Never relayed: hop-by-hop headers, cookies, CORS (Portico owns it), and the fields Portico
// sets itself. The upstream's X-Request-Id comes back as X-Upstream-Request-Id.
const DROP = 1;
// Relayed unless Portico sets the field itself on this answer (its value wins).
const YIELD = 2;
const RESPONSE_RULES = new Map<string, typeof DROP | typeof YIELD>([
  ...[
    'connection',
    'keep-alive',
    'proxy-authenticate',
    'proxy-authorization',
    'te',
    'trailer',
    'transfer-encoding',
    'upgrade',
    'set-cookie',
    'x-request-id',
    'x-error-source',
    'x-credential-source',
    'date',
    'ratelimit-limit',
    'ratelimit-remaining',
    'ratelimit-reset',
    'ratelimit-policy',
    'ratelimit',
  ].map((name) => [name, DROP] as const),
  ...['vary', 'deprecation', 'sunset', 'x-upstream-request-id'].map((name) => [name, YIELD] as const),
]);

/**
 * The header names a Connection field lists (RFC 9110 §7.6.1), to drop them too; null for none.
 * The usual values (keep-alive, close) name no other header, so they cost no Set.
 */
export function connectionNamed(connection: string | string[] | undefined): Set<string> | null {
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return null;
  const v = String(connection).toLowerCase();
  if (v === 'keep-alive' || v === 'close') return null;
  return new Set(v.split(',').map((s) => s.trim()));
}

/**
 * A header list as node:http's writeHead and undici take it: name, value, name, value, … A flat
 * array is filled by pushes, where an object built key by key costs a megamorphic store per
 * field, and is read back without a for-in over the object's keys.
 */
export type HeaderList = (string | string[])[];

/** The upstream's answer fields Portico relays, then its own (`own`, and X-Error-Source when `errorSource` is given). */
export function relayHeaders(upstream: Record<string, string | string[] | undefined>, own: Record<string, string>, errorSource?: string): HeaderList {
  const out: HeaderList = [];
  const named = connectionNamed(upstream.connection);
  const upstreamId = upstream['x-request-id'];
  for (const name in upstream) {
    const v = upstream[name];
    if (v === undefined || name.startsWith('access-control-') || named?.has(name)) continue;
    const rule = RESPONSE_RULES.get(name);
    if (rule === DROP) continue;
    if (rule === YIELD && (own[name] !== undefined || (name === 'x-upstream-request-id' && upstreamId !== undefined))) continue;
    out.push(name, v);
  }
  if (upstreamId !== undefined) out.push('x-upstream-request-id', upstreamId);
  for (const name in own) out.push(name, own[name]!);
  if (errorSource !== undefined) out.push('x-error-source', errorSource);
  return out;
}

/** A header list as an object (the rare paths that keep a copy of an answer's fields). */
export function headerRecord(list: HeaderList): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < list.length; i += 2) out[list[i] as string] = list[i + 1]!;
  return out;
}

/** Starts the client's response and returns it as the body's destination. */
export function startRelay(res: ServerResponse, status: number, headers: HeaderList): ServerResponse {
  res.writeHead(status, headers);
  return res;
}

/** Collects at most `max` bytes of a body Portico will not relay (to read the provider's error code). */
export class BoundedSink extends Writable {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly max: number;

  constructor(max = 64 * 1024) {
    super();
    this.max = max;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.size < this.max) {
      const part = chunk.subarray(0, this.max - this.size);
      this.chunks.push(part);
      this.size += part.length;
    }
    cb();
  }

  body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
