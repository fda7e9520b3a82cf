// Stage 5: send the request upstream with undici. One Agent per gateway process keeps a
// keep-alive pool per upstream origin; no per-request agent or connection.
import { Agent, type Dispatcher } from 'undici';
import type { Readable, Writable } from 'node:stream';

export const upstreamAgent = new Agent({
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  connections: 256,
  connect: { timeout: 10_000 },
});

export interface UpstreamCall {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, string | string[]>;
  body: string | Readable | null;
  timeoutMs: number;
  signal: AbortSignal;
}

export type ResponseFactory = (data: { statusCode: number; headers: Record<string, string | string[] | undefined> }) => Writable;

/**
 * Streams the upstream response into whatever writable `factory` picks for its status
 * (the client's response, or a small sink when Portico answers instead). Resolves when the
 * body has been fully written; rejects on transport errors and timeouts.
 */
export function dispatch(call: UpstreamCall, factory: ResponseFactory): Promise<unknown> {
  const opts: Dispatcher.RequestOptions = {
    origin: call.origin,
    path: call.path,
    method: call.method as Dispatcher.HttpMethod,
    headers: call.headers,
    body: call.body,
    // SPEC §7: the timeout bounds the first byte and every idle gap, not the whole transfer.
    headersTimeout: call.timeoutMs,
    bodyTimeout: call.timeoutMs,
    signal: call.signal,
  };
  return upstreamAgent.stream(opts, factory as Dispatcher.StreamFactory);
}
