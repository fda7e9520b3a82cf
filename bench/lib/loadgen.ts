// The load generator: always its own process (the harness pins it to core 1, beside the
// upstream, away from the proxy under test). One JSON spec in argv[2]; prints `@start` when the
// measured phase begins (after any warm-up) and `@result <json>` at the end.
//
// kinds:
//   autocannon  closed loop, N keep-alive connections for D seconds (optionally autocannon's
//               `overallRate`); latencies are taken from autocannon's `response` events with
//               sub-millisecond precision (its own histogram rounds to whole milliseconds).
//   paced       open loop at a fixed rate, requests spread evenly (about one batch a
//               millisecond) over an undici Pool; latency from each request's send time and,
//               corrected for coordinated omission, from its scheduled time.
//   ttfb        one connection, N sequential requests: time to the first body byte and to the end.
//   bulk        one request, the body counted and dropped: bytes, seconds, MiB/s.
import { createRequire } from 'node:module';
import { Agent, request as httpRequest } from 'node:http';
import { Pool, type Dispatcher } from 'undici';

export interface RequestShape {
  url: string; // full URL
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export type LoadSpec =
  | (RequestShape & { kind: 'autocannon'; connections: number; durationS: number; warmupS: number; overallRate?: number; expectStatus: number })
  | (RequestShape & { kind: 'paced'; connections: number; durationS: number; warmupS: number; rate: number; expectStatus: number })
  | (RequestShape & { kind: 'ttfb'; n: number; warmup: number; expectStatus: number })
  | (RequestShape & { kind: 'bulk'; expectBytes: number; expectStatus: number });

export interface LatencyStats {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LoadResult {
  kind: LoadSpec['kind'];
  requests: number;
  seconds: number;
  rps: number;
  bytes: number;
  errors: number;
  statuses: Record<string, number>;
  unexpected: number;
  latencyMs: LatencyStats | null;
  /** paced only: latency from the scheduled send time (coordinated-omission corrected). */
  scheduledLatencyMs?: LatencyStats | null;
  /** ttfb only: time to the first body byte. */
  ttfbMs?: LatencyStats | null;
  /** paced only: the rate asked for. */
  targetRate?: number;
  /** bulk only. */
  mibPerSec?: number;
  /** autocannon only: requests completed during the warm-up (not in the figures). */
  warmupRequests?: number;
  /** The measured phase on the monotonic clock (µs, as process.hrtime), to cut CPU profiles. */
  windowUs?: { fromUs: number; toUs: number };
  error?: string;
}

const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

class Samples {
  private buf = new Float64Array(1 << 16);
  n = 0;
  push(v: number): void {
    if (this.n === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = v;
  }
  stats(): LatencyStats | null {
    if (this.n === 0) return null;
    const s = this.buf.slice(0, this.n).sort();
    const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
    let sum = 0;
    for (const v of s) sum += v;
    const r = (v: number): number => Math.round(v * 1000) / 1000;
    return { mean: r(sum / s.length), p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), p999: r(at(0.999)), max: r(s[s.length - 1]!) };
  }
}

interface AutocannonInstance {
  on(event: 'response', fn: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
}
interface AutocannonResult {
  requests: { total: number };
  errors: number;
  timeouts: number;
  throughput: { total: number };
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, res: AutocannonResult) => void) => AutocannonInstance;

const requireCjs = createRequire(import.meta.url);
const autocannon = requireCjs('autocannon') as Autocannon;
// autocannon keeps each response body as a string (`body += chunk`, a UTF-8 decode of every
// chunk) for its body checks, which the harness does not use; with 64 KiB–5 MiB binary
// answers that decoding would make the load generator the bottleneck. Count bytes only.
(requireCjs('autocannon/lib/pipelinedRequestsQueue.js') as { prototype: { addBody(data: Buffer): void } }).prototype.addBody = function addBody(): void {};

function runAutocannon(
  spec: RequestShape & { connections: number },
  durationS: number,
  overallRate: number | undefined,
  onResponse?: (status: number, ms: number) => void,
): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const inst = autocannon(
      {
        url: spec.url,
        method: spec.method,
        headers: spec.headers,
        body: spec.body,
        connections: spec.connections,
        duration: durationS,
        ...(overallRate ? { overallRate } : {}),
        timeout: 30,
        // autocannon checks for the end of the run on this tick (default 1 s, which would
        // round every duration up to whole seconds).
        sampleInt: 100,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    if (onResponse) inst.on('response', (_c, status, _bytes, ms) => onResponse(status, ms));
  });
}

function finish(spec: LoadSpec, statuses: Record<string, number>, extra: Partial<LoadResult> & { requests: number; seconds: number }): LoadResult {
  let unexpected = 0;
  for (const [code, n] of Object.entries(statuses)) if (Number(code) !== spec.expectStatus) unexpected += n;
  return {
    kind: spec.kind,
    rps: Math.round((extra.requests / extra.seconds) * 10) / 10,
    bytes: 0,
    errors: 0,
    latencyMs: null,
    ...extra,
    statuses,
    unexpected,
  };
}

async function autocannonCell(spec: Extract<LoadSpec, { kind: 'autocannon' }>): Promise<LoadResult> {
  const warm = spec.warmupS > 0 ? await runAutocannon(spec, spec.warmupS, spec.overallRate) : null;
  const lat = new Samples();
  const statuses: Record<string, number> = {};
  process.stdout.write('@start\n');
  const fromUs = monoUs();
  const t0 = performance.now();
  const res = await runAutocannon(spec, spec.durationS, spec.overallRate, (status, ms) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    lat.push(ms);
  });
  const seconds = (performance.now() - t0) / 1000;
  return finish(spec, statuses, {
    requests: lat.n,
    seconds,
    bytes: res.throughput.total,
    errors: res.errors + res.timeouts,
    latencyMs: lat.stats(),
    warmupRequests: warm?.requests.total ?? 0,
    windowUs: { fromUs, toUs: monoUs() },
  });
}

async function pacedPhase(pool: Pool, spec: Extract<LoadSpec, { kind: 'paced' }>, durationS: number, record: boolean) {
  const u = new URL(spec.url);
  const lat = new Samples();
  const sched = new Samples();
  const statuses: Record<string, number> = {};
  let errors = 0;
  let bytes = 0;
  const total = Math.max(1, Math.round(spec.rate * durationS));
  const interval = 1000 / spec.rate;
  let sent = 0;
  let done = 0;
  const opts: Dispatcher.DispatchOptions = {
    path: u.pathname + u.search,
    method: spec.method as Dispatcher.HttpMethod,
    headers: spec.headers,
    body: spec.body ?? null,
  };
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const settle = (): void => {
      if (++done === total) resolve();
    };
    // undici's low-level handler: no stream objects per request, so the client stays cheap.
    const fire = (scheduled: number): void => {
      const s = performance.now();
      let status = 0;
      pool.dispatch(opts, {
        onRequestStart() {},
        onResponseStart(_c, statusCode) {
          status = statusCode;
        },
        onResponseData(_c, chunk) {
          bytes += chunk.length;
        },
        onResponseEnd() {
          const end = performance.now();
          if (record) {
            statuses[status] = (statuses[status] ?? 0) + 1;
            lat.push(end - s);
            sched.push(end - scheduled);
          }
          settle();
        },
        onResponseError() {
          errors++;
          settle();
        },
      });
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
      while (sent < due) fire(t0 + sent++ * interval);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
  return { lat, sched, statuses, errors, bytes, seconds: (performance.now() - t0) / 1000, total };
}

async function pacedCell(spec: Extract<LoadSpec, { kind: 'paced' }>): Promise<LoadResult> {
  const pool = new Pool(new URL(spec.url).origin, { connections: spec.connections, keepAliveTimeout: 30_000 });
  try {
    if (spec.warmupS > 0) await pacedPhase(pool, spec, spec.warmupS, false);
    process.stdout.write('@start\n');
    const fromUs = monoUs();
    const r = await pacedPhase(pool, spec, spec.durationS, true);
    return finish(spec, r.statuses, {
      windowUs: { fromUs, toUs: monoUs() },
      requests: r.lat.n,
      seconds: r.seconds,
      bytes: r.bytes,
      errors: r.errors,
      latencyMs: r.lat.stats(),
      scheduledLatencyMs: r.sched.stats(),
      targetRate: spec.rate,
    });
  } finally {
    await pool.close();
  }
}

function oneRequest(
  agent: Agent | undefined,
  spec: RequestShape,
  onData?: (n: number) => void,
): Promise<{ status: number; ttfb: number; total: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const u = new URL(spec.url);
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.body !== undefined) headers['content-length'] = String(Buffer.byteLength(spec.body));
    const t0 = performance.now();
    let ttfb = -1;
    let bytes = 0;
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: spec.method, headers, agent }, (res) => {
      res.on('data', (chunk: Buffer) => {
        if (ttfb < 0) ttfb = performance.now() - t0;
        bytes += chunk.length;
        onData?.(chunk.length);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ttfb: ttfb < 0 ? performance.now() - t0 : ttfb, total: performance.now() - t0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(spec.body);
  });
}

async function ttfbCell(spec: Extract<LoadSpec, { kind: 'ttfb' }>): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < spec.warmup; i++) await oneRequest(agent, spec);
    process.stdout.write('@start\n');
    const ttfb = new Samples();
    const total = new Samples();
    const statuses: Record<string, number> = {};
    let bytes = 0;
    const t0 = performance.now();
    for (let i = 0; i < spec.n; i++) {
      const r = await oneRequest(agent, spec);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      ttfb.push(r.ttfb);
      total.push(r.total);
      bytes += r.bytes;
    }
    return finish(spec, statuses, { requests: spec.n, seconds: (performance.now() - t0) / 1000, bytes, ttfbMs: ttfb.stats(), latencyMs: total.stats() });
  } finally {
    agent.destroy();
  }
}

async function bulkCell(spec: Extract<LoadSpec, { kind: 'bulk' }>): Promise<LoadResult> {
  process.stdout.write('@start\n');
  const r = await oneRequest(undefined, spec);
  const seconds = r.total / 1000;
  const res = finish(spec, { [r.status]: 1 }, { requests: 1, seconds, bytes: r.bytes, mibPerSec: Math.round((r.bytes / 1048576 / seconds) * 10) / 10 });
  if (r.bytes !== spec.expectBytes) res.error = `received ${r.bytes} bytes, expected ${spec.expectBytes}`;
  return res;
}

async function runSpec(spec: LoadSpec): Promise<LoadResult> {
  try {
    if (spec.kind === 'autocannon') return await autocannonCell(spec);
    if (spec.kind === 'paced') return await pacedCell(spec);
    if (spec.kind === 'ttfb') return await ttfbCell(spec);
    return await bulkCell(spec);
  } catch (err) {
    return {
      kind: spec.kind,
      requests: 0,
      seconds: 0,
      rps: 0,
      bytes: 0,
      errors: 1,
      statuses: {},
      unexpected: 0,
      latencyMs: null,
      error: (err as Error).message,
    };
  }
}

// `loadgen.ts '<spec json>'` runs one cell and exits; `loadgen.ts --serve` runs one cell per
// JSON line on standard input (the harness keeps one such process for a whole run).
async function main(): Promise<void> {
  if (process.argv[2] !== '--serve') {
    const result = await runSpec(JSON.parse(process.argv[2]!) as LoadSpec);
    process.stdout.write(`@result ${JSON.stringify(result)}\n`);
    process.exit(0);
  }
  process.stdout.write('@ready\n');
  let buf = '';
  let queue = Promise.resolve();
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      queue = queue.then(async () => {
        const result = await runSpec(JSON.parse(line) as LoadSpec);
        process.stdout.write(`@result ${JSON.stringify(result)}\n`);
      });
    }
  });
  process.stdin.on('end', () => void queue.then(() => process.exit(0)));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
