// Stage 5: send the request upstream with undici. One Agent per gateway process keeps a
// keep-alive pool per upstream origin; no per-request agent or connection.
//
// The answer is relayed by a small undici dispatch handler rather than `Agent.stream()`: the
// same back-pressure (pause on a full socket, resume on 'drain'), without the stream API's
// per-request AbortSignal, async resource and end-of-stream tracking, which the small-request
// benchmark showed as a large share of the gateway's own cost.
import { ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Agent, errors, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import { Sweeper, type Swept } from '../http/sweep.ts';

export const upstreamAgent = new Agent({
  // Timed by the idle sweeper below, not by undici (0: none of its per-request timers).
  headersTimeout: 0,
  bodyTimeout: 0,
  keepAliveTimeout: 30_000,
  keepAliveMaxTimeout: 600_000,
  connections: 256,
  connect: { timeout: 10_000 },
});

// Relayed bodies arrive as one fresh 64 KiB buffer per socket read. V8 frees a buffer's memory
// only when a young-generation GC finds it dead, and with a young generation sized for small
// requests that can be tens of MiB of bodies later. So, every RELAY_GC_BYTES relayed by this
// process in large answers, ask for a minor GC: resident memory stays bounded on long binary
// relays whatever the heap settings, at the cost of one scavenge per 16 MiB. Only the bytes of
// an answer past its first LARGE_ANSWER_BYTES count: small answers allocate enough on the heap
// to keep young GCs frequent, and forced GCs cost them more than the GC itself (measured: with
// them, perf finds ~4 µs per small invoke in V8's inline-cache misses, which then stay).
const RELAY_GC_BYTES = 16 * 1024 * 1024;
const LARGE_ANSWER_BYTES = 1024 * 1024;
setFlagsFromString('--expose-gc');
const minorGc = runInNewContext('gc') as (options: { type: 'minor'; execution: 'async' | 'sync' }) => void;
let relayedSinceGc = 0;

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

/** Where an answer's body goes: the client's response, a tee, or a small sink. */
export interface Destination {
  write(chunk: Buffer): boolean;
  end(): unknown;
  once(event: 'drain' | 'finish', listener: () => void): unknown;
  readonly writableNeedDrain: boolean;
}

export interface UpstreamCall {
  origin: string;
  path: string;
  method: string;
  /** As undici takes them: an object, or a flat name, value, … list. */
  headers: Record<string, string | string[]> | string[];
  body: string | Readable | null;
  timeoutMs: number;
  /**
   * Filled with this request while it runs, so that the caller can cut it (the client left).
   * A 'close' listener per request on the client's response would do the same, but it made V8
   * keep every request's objects through two young-generation GCs (measured: 16% of all
   * allocations promoted instead of 1%), so the invoke path reuses the one it already has.
   */
  link?: { upstream: { abort(err: Error): void } | null };
  /** Counts the body bytes written while `relaying` (the bytes the client got). */
  tally?: { relaying: boolean; bytesOut: number };
}

/** Picks the destination of the body once the status and headers are known. */
export type ResponseFactory = (statusCode: number, headers: UpstreamHeaders) => Destination;

/** The client went away: the upstream request was cut on purpose. */
export class ClientGone extends Error {
  override readonly name = 'ClientGone';
}

/**
 * Streams the upstream response into whatever `factory` picks for its status. Resolves once
 * the body has been handed to it in full; rejects on transport errors, timeouts and a client
 * that left (ClientGone).
 */
export function dispatch(call: UpstreamCall, factory: ResponseFactory): Promise<void> {
  // `call` is undici's options as it is (origin, path, method, headers, body; it ignores the
  // rest): no second object per request.
  return new Promise((resolve, reject) => {
    upstreamAgent.dispatch(call as Dispatcher.DispatchOptions, new RelayHandler(call, factory, resolve, reject));
  });
}

/**
 * SPEC §7: the upstream timeout bounds the first byte and every idle gap, not the whole transfer.
 * undici can time this per request, but it arms a new timer for every request and keeps each
 * cleared one in its list for up to a second, so every request leaves an object that survives
 * young GCs (measured: a fifth of what a small-JSON load promotes). Here one timer checks every
 * request in flight (see Sweeper). Progress only raises a flag, which the sweep turns into a time
 * (no clock read per event): a timeout fires no earlier than it is due and at most two ticks
 * late. undici's rules are kept: no headers timeout while a streamed upload is still being sent,
 * and no body timeout while the client's back-pressure holds the relay.
 */
const TICK_MS = 100;
const idle = new Sweeper<RelayHandler>(TICK_MS, (h, now) => {
  if (h.moved || h.busy()) {
    h.moved = false;
    h.since = now;
    return false;
  }
  if (now - h.since < h.timeoutMs) return false;
  h.timedOut();
  return true;
});

class RelayHandler implements Dispatcher.DispatchHandler {
  readonly timeoutMs: number;
  /** Progress since the sweeper's last visit; when a visit last saw progress (performance.now()); the sweeper's links. */
  moved = true;
  since = 0;
  sweepPrev: Swept | null = null;
  sweepNext: Swept | null = null;
  private paused = false;
  private readonly call: UpstreamCall;
  private readonly factory: ResponseFactory;
  private readonly resolve: () => void;
  private readonly reject: (err: Error) => void;
  private controller: Dispatcher.DispatchController | null = null;
  private dest: Destination | null = null;
  private settled = false;
  private cut: Error | null = null;
  private onDrain: (() => void) | null = null;
  /** Body bytes received so far. */
  private bytes = 0;

  constructor(call: UpstreamCall, factory: ResponseFactory, resolve: () => void, reject: (err: Error) => void) {
    this.call = call;
    this.factory = factory;
    this.resolve = resolve;
    this.reject = reject;
    this.timeoutMs = call.timeoutMs;
    if (call.link) call.link.upstream = this;
  }

  /** Not idle by the upstream's doing: an upload still being sent, or the client holding the relay back. */
  busy(): boolean {
    if (this.dest === null) {
      const body = this.call.body;
      return body !== null && typeof body !== 'string' && !body.readableEnded;
    }
    return this.paused;
  }

  timedOut(): void {
    this.abort(this.dest === null ? new errors.HeadersTimeoutError() : new errors.BodyTimeoutError());
  }

  abort(err: Error): void {
    if (this.settled) return;
    this.cut = err;
    this.controller?.abort(err);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cut) controller.abort(this.cut);
    // From here on, as undici's own timers: the request is on a connection.
    else if (!this.settled) idle.add(this);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: UpstreamHeaders): void {
    this.moved = true;
    if (statusCode < 200) return; // 1xx: informational, the real answer follows
    const dest = this.factory(statusCode, headers);
    this.dest = dest;
    if (dest.writableNeedDrain) this.pause(controller, dest);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const dest = this.dest;
    if (dest === null) return;
    this.moved = true;
    const tally = this.call.tally;
    if (tally !== undefined && tally.relaying) tally.bytesOut += chunk.length;
    this.bytes += chunk.length;
    if (this.bytes > LARGE_ANSWER_BYTES) {
      relayedSinceGc += chunk.length;
      if (relayedSinceGc >= RELAY_GC_BYTES) {
        relayedSinceGc = 0;
        minorGc({ type: 'minor', execution: 'async' });
      }
    }
    if (!dest.write(chunk)) this.pause(controller, dest);
  }

  private pause(controller: Dispatcher.DispatchController, dest: Destination): void {
    controller.pause();
    this.paused = true;
    this.onDrain ??= () => {
      this.paused = false;
      this.moved = true;
      controller.resume();
    };
    dest.once('drain', this.onDrain);
  }

  onResponseEnd(): void {
    const dest = this.dest;
    if (dest === null) return;
    dest.end();
    if (dest instanceof ServerResponse) this.settle(null);
    // A tee or a sink: its last write lands before it finishes.
    else dest.once('finish', () => this.settle(null));
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.settle(this.cut ?? err);
  }

  private settle(err: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    idle.delete(this);
    if (this.call.link?.upstream === this) this.call.link.upstream = null;
    if (err) this.reject(err);
    else this.resolve();
  }
}
