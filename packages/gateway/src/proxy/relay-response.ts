// Stage 6: the upstream's answer → the client's response. Headers are filtered (SPEC §5),
// bodies are streamed with back-pressure and never buffered whole.
import { Writable } from 'node:stream';
import type { ServerResponse } from 'node:http';

// Never relayed: hop-by-hop headers, cookies, CORS (Portico owns it), and the fields Portico
// sets itself. The upstream's X-Request-Id comes back as X-Upstream-Request-Id.
const DROP_RESPONSE = new Set([
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

export function relayHeaders(upstream: Record<string, string | string[] | undefined>, own: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const named = connectionNamed(upstream.connection);
  for (const name in upstream) {
    const v = upstream[name];
    if (v === undefined || DROP_RESPONSE.has(name) || name.startsWith('access-control-') || named?.has(name)) continue;
    out[name] = v;
  }
  const upstreamId = upstream['x-request-id'];
  if (upstreamId !== undefined) out['x-upstream-request-id'] = upstreamId;
  for (const name in own) out[name] = own[name]!;
  return out;
}

/** Starts the client's response and returns it as the body's destination. */
export function startRelay(res: ServerResponse, status: number, headers: Record<string, string | string[]>): ServerResponse {
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
