// One invoke's traffic control after admission (SPEC §13): its concurrency lease, its
// idempotency reservation, the copy of a JSON answer to store, the units the upstream reported,
// and the usage row written when the response closes (success, error or client gone).
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks'; // not the global: a getter
import type { Writable } from 'node:stream';
import type { Context } from '../context.ts';
import { GatewayError } from '../errors.ts';
import type { OrgView, ServiceView } from '../registry.ts';
import type { Lease, Reservation, StoredResponse } from '../state/index.ts';
import type { InvokeRequest } from '../proxy/parse-invoke.ts';
import type { Target } from '../proxy/resolve-endpoint.ts';
import type { InvokeCall } from '../proxy/route.ts';
import { headerRecord, startRelay, type HeaderList } from '../proxy/relay-response.ts';
import { ClientGone } from '../proxy/dispatch.ts';
import { monthOf } from './calendar.ts';
import { CaptureTee, fingerprint, idempotencyKey, sendReplay, storableHeaders } from './idempotency.ts';
import type { UsageRecorder } from './usage.ts';

const kTraffic = Symbol('traffic');
type Metered = ServerResponse & { [kTraffic]: Traffic };

/** The response's 'close' listener: one shared function, no closure or once-wrapper per request. */
function finishTraffic(this: ServerResponse): void {
  (this as Metered)[kTraffic].finish();
}

/** Content-Length as a number (node:http has already refused a malformed one). */
function declaredLength(header: string | undefined): number {
  const n = Number(header);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

let sequence = 0;
const processTag = `${process.pid.toString(36)}.${Date.now().toString(36)}`;

export class Traffic {
  private uniqueId: string | null = null;
  lease: Lease | null = null;

  private readonly ctx: Context;
  private readonly usage: UsageRecorder;
  private readonly call: InvokeCall;
  private readonly res: ServerResponse;
  private readonly org: OrgView;
  /** The connection's bytes read before this request, for a body without Content-Length; else -1. */
  private readonly read0: number;

  private units = 0;
  /** Set once the upstream answer is being relayed; the dispatcher then counts its body bytes
   * (exactly: chunked framing is not the client's data). Portico's own answers (an error, a
   * replay) set it to their body's size. */
  relaying = false;
  bytesOut = 0;
  // Idempotency
  private reservation: Reservation | null = null;
  private jsonMode = false;
  private tee: CaptureTee | null = null;
  private teeStatus = 0;
  private teeHeaders: Record<string, string | string[]> | null = null;
  private gatewayAnswer: StoredResponse | null = null;
  private settled = false;

  /** Unique per request: its sliding-window entry and lease id (made only when limits apply). */
  get id(): string {
    return (this.uniqueId ??= `${processTag}.${(sequence++).toString(36)}`);
  }

  constructor(ctx: Context, usage: UsageRecorder, call: InvokeCall, org: OrgView) {
    const res = call.res;
    this.ctx = ctx;
    this.usage = usage;
    this.call = call;
    this.res = res;
    this.org = org;
    // The socket's byte counters are read only when needed: `bytesWritten` copies the socket's
    // write queue into a new array on every read.
    this.read0 = call.req.headers['content-length'] === undefined ? (call.req.socket?.bytesRead ?? 0) : -1;
    (res as Metered)[kTraffic] = this;
    res.on('close', finishTraffic);
  }

  /**
   * Idempotency-Key (SPEC §13): replays a stored answer (true: the reply is sent), refuses a key
   * in use (409) or reused with another request (422), or reserves the key for this request.
   */
  async replayIdempotent(target: Target, invoke: InvokeRequest): Promise<boolean> {
    const key = idempotencyKey(this.call.req.headers['idempotency-key']);
    if (key === undefined) return false;
    const fp = fingerprint(target.svc.slug, target.endpoint.slug, invoke);
    const found = await this.ctx.state.idempotency.reserve(this.org.slug, key, fp);
    if ('reserved' in found) {
      this.reservation = found.reserved;
      this.jsonMode = target.endpoint.response_mode === 'json';
      this.settleBeforeEnd();
      return false;
    }
    const rec = found.existing;
    if (rec.fingerprint !== fp) throw new GatewayError('idempotency_key_reused');
    if (rec.state === 'in_flight') throw new GatewayError('idempotency_in_progress');
    // A binary or stream answer was not stored: it cannot be replayed.
    if (rec.state !== 'done' || !rec.response) throw new GatewayError('idempotency_key_reused');
    this.answeredOwn(sendReplay(this.res, rec.response, this.call.id, this.call.own));
    return true;
  }

  /** The upstream answered (every attempt): the units it reports spent. */
  upstreamAnswered(svc: ServiceView, status: number, headers: Record<string, string | string[] | undefined>): void {
    const name = svc.def.units_header;
    if (!name || status >= 400) return;
    const raw = headers[name];
    const n = Number(Array.isArray(raw) ? raw[0] : raw);
    if (Number.isFinite(n) && n > 0) this.units = Math.round(n);
  }

  /** Starts relaying the upstream answer to the client; keeps a copy when it is to be stored. */
  relay(res: ServerResponse, status: number, headers: HeaderList): Writable {
    const out = startRelay(res, status, headers);
    this.relaying = true;
    if (!this.reservation) return out;
    // SPEC §13: json answers are stored (and error answers of any mode); binary/stream are not.
    if (status < 400 && !this.jsonMode) return out;
    this.teeStatus = status;
    this.teeHeaders = storableHeaders(headerRecord(headers));
    this.tee = new CaptureTee(res);
    return this.tee;
  }

  /** Portico answered itself (an error, a replay) with a body of `bytes`; an upstream answer already being relayed keeps its own count. */
  answeredOwn(bytes: number): void {
    if (!this.relaying) this.bytesOut = bytes;
  }

  /** Portico is answering with its own error after the reservation: keep it for replays. */
  gatewayAnswered(status: number, headers: Record<string, string>, body: string): void {
    if (!this.reservation || this.gatewayAnswer) return;
    this.gatewayAnswer = {
      status,
      headers: storableHeaders(headers),
      body: Buffer.from(body).toString('base64'),
      gatewayError: headers['x-error-source'] === 'gateway',
    };
  }

  /** When the response closes (finishTraffic): the lease, units and the usage row. */
  finish(): void {
    const res = this.res;
    const done = res.writableFinished;
    if (!done) {
      // The client left first: cut the upstream request it was waiting for.
      this.call.clientGone = true;
      this.call.upstream?.abort(new ClientGone('client closed the connection'));
    }
    const status = done ? res.statusCode : 499;
    this.lease?.release();
    const l = this.org.limits;
    if (this.units > 0 && (l.monthly_units !== null || l.monthly_requests !== null)) {
      const m = monthOf(Date.now());
      this.ctx.state.limits.addUnits(this.org.slug, m.key, m.ttlS, this.units);
    }
    if (this.reservation && !this.settled) void this.settle(done);

    const principal = this.call.principal;
    this.usage.record({
      at: this.call.at,
      organization: this.org.slug,
      api_key_id: principal?.kind === 'apikey' ? principal.keyId : null,
      service: this.call.service,
      action: this.call.action,
      status,
      upstream_status: this.call.upstreamStatus,
      credential_source: this.call.credentialSource,
      bytes_in: this.read0 === -1 ? declaredLength(this.call.req.headers['content-length']) : Math.max(0, (this.call.req.socket?.bytesRead ?? 0) - this.read0),
      bytes_out: this.bytesOut,
      duration_ms: Math.round((performance.now() - this.call.started) * 10) / 10,
      units: this.units,
    });
  }

  /**
   * The record is written before the answer's last byte goes out, so that a client repeating
   * the request right after the answer never finds it still in flight.
   */
  private settleBeforeEnd(): void {
    const res = this.res;
    const end = res.end;
    res.end = ((...args: Parameters<typeof end>) => {
      res.end = end;
      void this.settle(true).then(() => end.apply(res, args));
      return res;
    }) as typeof end;
  }

  /** What a repeat of this request will get (SPEC §13). */
  private settle(done: boolean): Promise<void> {
    const r = this.reservation!;
    this.settled = true;
    if (this.gatewayAnswer) {
      // Gateway 5xx are not stored: the client may retry.
      return this.gatewayAnswer.status < 500 ? r.complete('done', this.gatewayAnswer) : r.abandon();
    }
    if (this.tee) {
      if (done && !this.tee.overflow)
        return r.complete('done', { status: this.teeStatus, headers: this.teeHeaders ?? {}, body: this.tee.body().toString('base64') });
      // The upstream answered but the copy is too large or was cut: it ran, so never again.
      return r.complete('unstorable', null);
    }
    // Relayed without a copy (a binary or stream answer): it ran, so never again.
    if (this.relaying) return r.complete('unstorable', null);
    // No upstream answer reached the client (gateway 5xx, client gone first): retry allowed.
    return r.abandon();
  }
}
