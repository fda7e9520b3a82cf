// Traffic control for invokes (SPEC §13): limits, idempotency and usage metering. The invoke
// route calls `admitInvoke` once the organization is known; everything else hangs off the
// Traffic object it returns. State shared between processes lives behind ctx.state.
import type { Context } from '../context.ts';
import { GatewayError } from '../errors.ts';
import type { OrgView } from '../registry.ts';
import type { InvokeCall } from '../proxy/route.ts';
import type { AdmitResult, MonthlyUsage } from '../state/index.ts';
import { monthOf, type Month } from './calendar.ts';
import { Traffic } from './traffic.ts';
import { UsageRecorder } from './usage.ts';

export { Traffic } from './traffic.ts';

/** Per gateway: the usage buffer and the monthly seed query. */
class Engine {
  readonly usage: UsageRecorder;
  private readonly ctx: Context;
  private seedFailing = false;

  constructor(ctx: Context) {
    this.ctx = ctx;
    this.usage = new UsageRecorder(ctx.store, ctx.log);
  }

  /** What the organization spent this month according to the usage rollups (refusals excluded). */
  async seed(org: string, fromIso: string): Promise<MonthlyUsage> {
    try {
      const row = await this.ctx.store.db
        .selectFrom('usage_rollups')
        .select((eb) => [eb.fn.sum<number | string | null>('requests').as('n'), eb.fn.sum<number | string | null>('units').as('u')])
        .where('organization', '=', org)
        .where('minute', '>=', fromIso)
        .where((eb) => eb.or([eb('status', '!=', 429), eb('upstream_status', 'is not', null)]))
        .executeTakeFirst();
      this.seedFailing = false;
      return { requests: Number(row?.n ?? 0), units: Number(row?.u ?? 0) };
    } catch (err) {
      if (!this.seedFailing) this.ctx.log.warn({ err: (err as Error).message }, 'monthly usage could not be read; quotas count from zero until it can');
      this.seedFailing = true;
      return { requests: 0, units: 0 };
    }
  }
}

const engines = new WeakMap<Context, Engine>();

function engineOf(ctx: Context): Engine {
  let e = engines.get(ctx);
  if (!e) engines.set(ctx, (e = new Engine(ctx)));
  return e;
}

/**
 * Checks the organization's limits (429 `rate_limited` / `quota_exceeded` before anything reaches
 * the upstream), sets `RateLimit-*` on the response whatever it turns out to be, and starts
 * metering. An organization without limits costs no shared-state call at all.
 */
export function admitInvoke(ctx: Context, call: InvokeCall, org: OrgView): Traffic | Promise<Traffic> {
  const e = engineOf(ctx);
  const traffic = new Traffic(ctx, e.usage, call, org);
  call.traffic = traffic;
  const l = org.limits;
  if (l.requests_per_minute === null && l.concurrent_requests === null && l.monthly_requests === null && l.monthly_units === null) return traffic;
  return admitLimited(ctx, e, call, org, traffic);
}

/** Synchronous when the shared state answers at once (a permit taken in advance, in-process counters). */
function admitLimited(ctx: Context, e: Engine, call: InvokeCall, org: OrgView, traffic: Traffic): Traffic | Promise<Traffic> {
  const now = Date.now();
  const month = monthOf(now);
  const r = ctx.state.limits.admit({
    org: org.slug,
    limits: org.limits,
    id: traffic.id,
    month: month.key,
    monthTtlS: month.ttlS,
    seed: () => e.seed(org.slug, month.startIso),
  });
  return r instanceof Promise ? r.then((x) => admitted(call, org, traffic, x, now, month)) : admitted(call, org, traffic, r, now, month);
}

/** The verdict: RateLimit-* fields for every answer from here on; a refusal is thrown (429). */
function admitted(call: InvokeCall, org: OrgView, traffic: Traffic, r: AdmitResult, now: number, month: Month): Traffic {
  const l = org.limits;
  const rpm = l.requests_per_minute;
  if (rpm !== null) {
    // With the request's own fields, so that every answer carries them: relayed, replayed or error.
    call.own['ratelimit-limit'] = String(rpm);
    call.own['ratelimit-remaining'] = String(Math.max(0, rpm - r.windowCount));
    call.own['ratelimit-reset'] = String(Math.ceil(r.windowResetMs / 1000));
  }
  if (r.verdict === 'ok') {
    traffic.lease = r.lease;
    return traffic;
  }
  let retryAfterS = 1; // concurrency: a slot frees as soon as a request ends
  if (r.verdict === 'quota_exceeded') retryAfterS = (month.endMs - now) / 1000;
  else if (r.verdict === 'rate_limited') retryAfterS = r.windowResetMs > 0 ? r.windowResetMs / 1000 : 60;
  throw new GatewayError(r.verdict === 'quota_exceeded' ? 'quota_exceeded' : 'rate_limited', {
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterS))) },
  });
}

/** Writes buffered usage rows now (the usage report reads its own process's latest rows). */
export function flushUsage(ctx: Context): Promise<void> {
  return engines.get(ctx)?.usage.flush() ?? Promise.resolve();
}

/** On shutdown, after the last request: the final usage flush. */
export async function closeTraffic(ctx: Context): Promise<void> {
  const e = engines.get(ctx);
  engines.delete(ctx);
  await e?.usage.close();
}
