// `npm run bench` — Portico's benchmark harness. Starts a fixed-cost upstream (bench/upstream.ts)
// and, in turn, each proxy in front of it, drives the same load through each with a separate
// load-generator process, and writes bench/RESULTS.md and bench/results.json. See bench/README.md.
//
//   npm run bench                  full run (every target, 10 s cells; under 15 minutes)
//   npm run bench -- --quick       short cells, no Portkey unless --with-peer (under 2 minutes)
//   npm run bench -- --smoke       1 s, (a), (b) and Portico on SQLite, small JSON only (the test)
//   npm run bench -- --profile     Portico under --cpu-prof on small JSON; prints the top functions
// Options: --with-peer, --no-peer, --only=a,b,d, --scenarios=json,tts, --duration=S, --connections=N, --out=DIR.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from './lib/loadgen.ts';
import { Loadgen } from './lib/loadgen-process.ts';
import { canPin, cpuUs, rssKb, sampleRss, start, stopOnSignal, type Proc } from './lib/proc.ts';
import { BULK_BYTES, BULK_SCENARIO, SCENARIOS, TTFB_SCENARIO, requestFor, scenario, type ScenarioId } from './lib/scenarios.ts';
import { Skip, TARGETS, startTarget, type Env, type Running, type TargetId } from './lib/targets.ts';
import { renderMarkdown, type Results, type CellResult, type TargetResult, evaluateGoals } from './lib/report.ts';
import { summarizeProfile, formatProfile } from './lib/cpuprofile.ts';
import { probePauses } from './lib/stalls.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;

type Mode = 'full' | 'quick' | 'smoke' | 'profile';

/** Warm-up before each paced window: the window's new connections open in it, not in the figures. */
const PACED_WARMUP_S = 0.5;

interface Settings {
  mode: Mode;
  targets: TargetId[];
  scenarios: ScenarioId[];
  /** Rounds over every scenario and target, alternating the order; each figure is the best round's. */
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  ttfbN: number;
  ttfbWarmup: number;
  fixedRateS: number;
  /** Paced cells per round and target: short windows, every target in turn (see measure). */
  pacedWindows: number;
  pacedWindowS: number;
  /** Seconds the pause probe spins on each core, before and after the run (0: no probe). */
  pauseProbeS: number;
  fixedRateTargets: TargetId[];
  bulkTargets: TargetId[];
  outDir: string;
  /** --profile --rate=N: paced load instead of closed-loop autocannon. */
  profileRate?: number;
}

function parseArgs(argv: string[]): Settings {
  const flags = new Map<string, string | true>();
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument '${a}' (see bench/README.md)`);
    flags.set(m[1]!, m[2] ?? true);
  }
  const known = ['quick', 'full', 'smoke', 'profile', 'with-peer', 'no-peer', 'only', 'scenarios', 'duration', 'connections', 'rounds', 'out', 'rate'];
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k} (known: ${known.map((x) => `--${x}`).join(', ')})`);
  const mode: Mode = flags.has('smoke') ? 'smoke' : flags.has('profile') ? 'profile' : flags.has('quick') ? 'quick' : 'full';
  const all: TargetId[] = ['direct', 'undici', 'nginx', 'portico-sqlite', 'portico-pg', 'portkey', 'portico-limits'];
  const peer = flags.has('with-peer') || (mode === 'full' && !flags.has('no-peer'));
  const s: Settings = {
    mode,
    targets: all.filter((t) => t !== 'portkey' || peer),
    scenarios: SCENARIOS.map((x) => x.id),
    rounds: 2,
    durationS: 5,
    warmupS: 1,
    connections: 50,
    ttfbN: 500,
    ttfbWarmup: 50,
    fixedRateS: 5,
    pacedWindows: 4,
    pacedWindowS: 1.5,
    pauseProbeS: 3,
    fixedRateTargets: ['direct', 'undici', 'nginx', 'portico-sqlite', 'portico-pg', 'portkey'],
    bulkTargets: ['undici', 'nginx', 'portico-sqlite', 'portico-pg'],
    outDir: join(ROOT, 'bench'),
  };
  if (mode === 'quick') {
    Object.assign(s, {
      rounds: 1,
      durationS: 1.5,
      warmupS: 0.5,
      ttfbN: 200,
      ttfbWarmup: 20,
      fixedRateS: 2,
      pacedWindows: 2,
      pacedWindowS: 1,
      pauseProbeS: 1,
      fixedRateTargets: ['direct', 'undici', 'portico-sqlite'],
      bulkTargets: ['undici', 'portico-sqlite'],
    });
  } else if (mode === 'smoke') {
    Object.assign(s, {
      rounds: 1,
      targets: ['direct', 'undici', 'portico-sqlite'],
      scenarios: ['json'],
      durationS: 1,
      warmupS: 0.2,
      connections: 10,
      ttfbN: 0,
      pauseProbeS: 0,
      fixedRateTargets: [],
      bulkTargets: [],
      outDir: join(ROOT, '.bench-tmp/smoke'),
    });
  } else if (mode === 'profile') {
    Object.assign(s, {
      rounds: 1,
      targets: ['portico-sqlite'],
      scenarios: ['json'],
      durationS: 10,
      warmupS: 2,
      ttfbN: 0,
      pauseProbeS: 0,
      fixedRateTargets: [],
      bulkTargets: [],
    });
  }
  const only = flags.get('only');
  if (typeof only === 'string') {
    const want = only.split(',').map((x) => x.trim());
    s.targets = all.filter((t) => want.includes(t) || want.includes(TARGETS.find((d) => d.id === t)!.letter));
    if (s.targets.length === 0) throw new Error(`--only=${only} names no target (letters a–f or ${all.join(', ')})`);
  }
  const scen = flags.get('scenarios');
  if (typeof scen === 'string') {
    const want = scen.split(',').map((x) => x.trim());
    s.scenarios = SCENARIOS.map((x) => x.id).filter((id) => want.includes(id));
    if (s.scenarios.length === 0) throw new Error(`--scenarios=${scen} names no scenario (${SCENARIOS.map((x) => x.id).join(', ')})`);
  }
  const num = (name: string, min: number, max: number): number | null => {
    const v = flags.get(name);
    if (v === undefined) return null;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number between ${min} and ${max}`);
    return n;
  };
  const d = num('duration', 0.5, 120);
  if (d !== null) {
    s.durationS = d;
    s.fixedRateS = d;
  }
  const rounds = num('rounds', 1, 5);
  if (rounds !== null) s.rounds = Math.round(rounds);
  const c = num('connections', 1, 1000);
  if (c !== null) s.connections = c;
  const rate = num('rate', 1, 1_000_000);
  if (rate !== null) s.profileRate = rate;
  const out = flags.get('out');
  if (typeof out === 'string') s.outDir = resolve(out);
  return s;
}

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** Share of all cores busy over `ms` (from /proc/stat): other work on the machine skews every figure. */
async function cpuBusy(ms: number): Promise<number> {
  const read = (): [number, number] => {
    try {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
      const idle = f[3]! + (f[4] ?? 0);
      return [f.reduce((a, b) => a + b, 0), idle];
    } catch {
      return [0, 0];
    }
  };
  const [t0, i0] = read();
  await new Promise((r) => setTimeout(r, ms));
  const [t1, i1] = read();
  return t1 > t0 ? 1 - (i1 - i0) / (t1 - t0) : 0;
}

/** Busy CPU ticks of the whole machine, and of this process plus its reaped descendants. */
function cpuTicks(): { all: number; ours: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const all = f.reduce((a, b) => a + b, 0) - f[3]! - (f[4] ?? 0);
    const raw = readFileSync('/proc/self/stat', 'utf8');
    const g = raw
      .slice(raw.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // utime, stime, cutime, cstime: fields 14–17 (children's times once they are reaped)
    return { all, ours: g[11]! + g[12]! + g[13]! + g[14]! };
  } catch {
    return { all: 0, ours: 0 };
  }
}

function machine(): Omit<Results['machine'], 'loadAverage' | 'busyBeforePct' | 'otherLoadPct'> {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    /* not Linux */
  }
  return {
    cores: Math.max(availableParallelism(), cpus().length),
    model,
    node: process.version,
    kernel: release(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}

interface Watch {
  proxy: Proc | null;
  upstream: Proc;
}

const loadgen = new Loadgen();
/** Stops every running target (also on Ctrl-C). */
let stopAll: () => Promise<void> = async () => {};

type Measured = LoadResult & {
  cpu?: { proxyUsPerReq: number | null; upstreamUsPerReq: number | null };
  rss?: { startKb: number; maxKb: number; endKb: number };
};

/** One cell: measures the proxy's (and the upstream's) CPU and the proxy's RSS over the measured phase. */
async function runLoad(spec: LoadSpec, watch: Watch, boundS: number): Promise<Measured> {
  let cpu0 = 0;
  let up0 = 0;
  let sampler: ReturnType<typeof sampleRss> | null = null;
  const r = await loadgen.run(spec, boundS, () => {
    cpu0 = watch.proxy ? cpuUs(watch.proxy.pid) : 0;
    up0 = cpuUs(watch.upstream.pid);
    if (watch.proxy) sampler = sampleRss(watch.proxy.pid, spec.kind === 'bulk' ? 25 : 100);
  });
  const cpu1 = watch.proxy ? cpuUs(watch.proxy.pid) : 0;
  const up1 = cpuUs(watch.upstream.pid);
  const rss = sampler ? (sampler as ReturnType<typeof sampleRss>).stop() : undefined;
  if (r.error) return { ...r, ...(rss ? { rss } : {}) };
  const per = (us: number): number | null => (r.requests > 0 ? Math.round(us / r.requests) : null);
  return { ...r, cpu: { proxyUsPerReq: watch.proxy ? per(cpu1 - cpu0) : null, upstreamUsPerReq: per(up1 - up0) }, ...(rss ? { rss } : {}) };
}

function failure(r: Omit<LoadResult, 'kind'>): string | null {
  if (r.error) return r.error;
  if (r.requests === 0) return r.errors ? `no response, ${r.errors} errors` : 'no response completed within the cell';
  if (r.unexpected + r.errors > Math.max(0, Math.floor(r.requests * 0.001)))
    return `unexpected ${r.unexpected}, errors ${r.errors}, statuses ${JSON.stringify(r.statuses)}`;
  return null;
}

function toCell(r: Measured, kind: CellResult['kind'], scenarioId: ScenarioId, extra: Partial<CellResult> = {}): CellResult {
  const why = failure(r);
  return { ...r, ...extra, kind, scenario: scenarioId, ok: why === null, ...(why ? { failure: why } : {}) };
}

function describe(r: Omit<LoadResult, 'kind'>): string {
  if (r.error || r.requests === 0) return `failed: ${failure(r)}`;
  const lat = r.latencyMs ? `p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms` : '';
  const bad = r.unexpected || r.errors ? ` [unexpected ${r.unexpected}, errors ${r.errors}, statuses ${JSON.stringify(r.statuses)}]` : '';
  return `${r.rps} req/s ${lat}${bad}`;
}

interface Live {
  def: (typeof TARGETS)[number];
  tr: TargetResult;
  running: Running;
  watch: Watch;
  pid: number | null;
  rssPeak: number;
}

/** Starts every target up front (each on core 0, idle until its turn); records skips and failures. */
async function startAll(s: Settings, env: Env, upstream: Proc, results: Results, live: Live[]): Promise<void> {
  for (const id of s.targets) {
    const def = TARGETS.find((t) => t.id === id)!;
    const tr: TargetResult = { id, letter: def.letter, label: def.label, status: 'ok', info: {}, cells: [] };
    results.targets.push(tr);
    log(`(${def.letter}) ${def.label}: starting`);
    try {
      const running = await startTarget(id, env);
      tr.info = running.info;
      const pid = running.proc?.pid ?? null;
      const rss = pid ? rssKb(pid) : null;
      if (pid) tr.memory = { startKb: rss, peakKb: rss ?? 0, afterLoadKb: null, endKb: null };
      live.push({ def, tr, running, watch: { proxy: running.proc, upstream }, pid, rssPeak: rss ?? 0 });
    } catch (err) {
      tr.status = err instanceof Skip ? 'skipped' : 'failed';
      tr.reason = (err as Error).message.replace(/\s*\n\s*/g, ' ').slice(0, 600);
      log(`(${def.letter}) ${tr.status}: ${tr.reason}`);
    }
  }
}

/** Whether a target's process is still there; one that died is marked failed and left out. */
function alive(l: Live): boolean {
  if (l.tr.status !== 'ok') return false;
  const c = l.running.proc?.child;
  if (c && (c.exitCode !== null || c.signalCode !== null)) {
    l.tr.status = 'failed';
    const out = l.running.proc!.output().trim().split('\n').slice(-2).join(' | ').slice(0, 400);
    const how = c.signalCode
      ? `killed by ${c.signalCode}`
      : c.exitCode === 0
        ? 'exit code 0, as after a SIGTERM/SIGINT from outside the harness'
        : `exit code ${c.exitCode}`;
    l.tr.reason = `the process ended during the run (${how})${out ? `: ${out}` : ''}; figures up to then are kept`;
    log(`(${l.def.letter}) ${l.tr.reason}`);
    return false;
  }
  return true;
}

async function cellFor(
  l: Live,
  spec: LoadSpec,
  kind: CellResult['kind'],
  sid: ScenarioId,
  round: number,
  boundS: number,
  extra: Partial<CellResult> = {},
): Promise<CellResult> {
  const r = await runLoad(spec, l.watch, boundS);
  const c = toCell(r, kind, sid, { ...extra, round });
  l.tr.cells.push(c);
  if (c.rss && c.rss.maxKb > l.rssPeak) l.rssPeak = c.rss.maxKb;
  return c;
}

/**
 * The measurements, scenario by scenario with every target in turn (so that the cells being
 * compared are seconds apart, not minutes), in `rounds` rounds that alternate the order.
 */
async function measure(s: Settings, live: Live[], fixed: { rate: number | null; source: string | null }): Promise<void> {
  const bound = (seconds: number): number => seconds + 90;
  const tag = (l: Live, round: number): string => `(${l.def.letter})${s.rounds > 1 ? ` [round ${round + 1}]` : ''}`;
  for (let round = 0; round < s.rounds; round++) {
    const order = round % 2 === 0 ? live : [...live].reverse();
    for (const sid of s.scenarios) {
      const sc = scenario(sid);
      for (const l of order) {
        if (!alive(l)) continue;
        const c = await cellFor(
          l,
          {
            kind: 'autocannon',
            ...requestFor(l.running.dialect, sc),
            connections: s.connections,
            durationS: s.durationS,
            warmupS: s.warmupS,
            expectStatus: sc.expectStatus,
          },
          'load',
          sid,
          round,
          bound(s.durationS + s.warmupS),
        );
        log(`${tag(l, round)} ${sid}: ${describe(c)}`);
      }
      if (sid === 'json' && fixed.rate === null) {
        // The fixed rate: half of Portico's measured maximum (or the next source's, if Portico failed).
        for (const id of ['portico-sqlite', 'portico-pg', 'undici'] as TargetId[]) {
          const c = live.find((l) => l.tr.id === id)?.tr.cells.find((x) => x.kind === 'load' && x.scenario === 'json' && x.ok);
          if (!c) continue;
          fixed.rate = Math.max(100, Math.round(c.rps / 2));
          fixed.source = `half of ${TARGETS.find((t) => t.id === id)!.label}'s small-JSON maximum (${c.rps} req/s${s.rounds > 1 ? ', round 1' : ''})`;
          break;
        }
      }
    }
    if (s.ttfbN > 0) {
      for (const l of order) {
        if (!alive(l)) continue;
        const c = await cellFor(
          l,
          { kind: 'ttfb', ...requestFor(l.running.dialect, TTFB_SCENARIO), n: s.ttfbN, warmup: s.ttfbWarmup, expectStatus: 200 },
          'ttfb',
          'stream',
          round,
          bound(s.ttfbN * 0.2),
        );
        log(
          `${tag(l, round)} stream TTFB: ${c.ok && c.ttfbMs ? `median ${c.ttfbMs.p50} ms p99 ${c.ttfbMs.p99} ms, whole body median ${c.latencyMs?.p50} ms` : describe(c)}`,
        );
      }
    }
    if (fixed.rate !== null) {
      const rate = fixed.rate;
      const sc = scenario(s.scenarios[0] ?? 'json');
      // autocannon hands out each connection's quota per whole second from the start: stop just
      // before a whole second, or the next second's quota slips into the cell.
      const acRateS = Math.max(1, Math.round(s.fixedRateS)) - 0.05;
      for (const l of order) {
        if (!s.fixedRateTargets.includes(l.tr.id) || !alive(l)) continue;
        const req = requestFor(l.running.dialect, sc);
        const a = await cellFor(
          l,
          { kind: 'autocannon', ...req, connections: s.connections, durationS: acRateS, warmupS: s.warmupS, overallRate: rate, expectStatus: 200 },
          'rate-autocannon',
          'json',
          round,
          bound(s.fixedRateS + s.warmupS),
          { targetRate: rate },
        );
        log(`${tag(l, round)} json at ${rate} req/s (autocannon overallRate): ${describe(a)}`);
      }
      // The paced client in short windows, every target in turn: this VM pauses a core now and
      // then for up to tens of milliseconds (lib/stalls.ts), and one such pause sets a cell's p99.
      // Each target's figure is its median window (report.ts), so a pause that lands on one
      // window of one target does not decide the comparison.
      for (let w = 0; w < s.pacedWindows; w++) {
        for (const l of w % 2 === 0 ? order : [...order].reverse()) {
          if (!s.fixedRateTargets.includes(l.tr.id) || !alive(l)) continue;
          const p = await cellFor(
            l,
            {
              kind: 'paced',
              ...requestFor(l.running.dialect, sc),
              connections: s.connections,
              durationS: s.pacedWindowS,
              warmupS: PACED_WARMUP_S,
              rate,
              expectStatus: 200,
            },
            'rate-paced',
            'json',
            round,
            bound(s.pacedWindowS + PACED_WARMUP_S),
            { window: w },
          );
          log(`${tag(l, round)} json at ${rate} req/s (paced, window ${w + 1}): ${describe(p)}`);
        }
      }
    }
  }
  for (const l of live) if (l.pid && l.tr.memory && alive(l)) l.tr.memory.afterLoadKb = rssKb(l.pid);
  for (const l of live) {
    if (!s.bulkTargets.includes(l.tr.id) || !alive(l)) continue;
    const c = await cellFor(
      l,
      { kind: 'bulk', ...requestFor(l.running.dialect, BULK_SCENARIO), expectBytes: BULK_BYTES, expectStatus: 200 },
      'bulk',
      'bin5mb',
      0,
      300,
    );
    log(
      `(${l.def.letter}) 1 GiB: ${c.ok ? `${c.mibPerSec} MiB/s` : describe(c)}${c.rss ? `, RSS ${Math.round(c.rss.startKb / 1024)} → max ${Math.round(c.rss.maxKb / 1024)} MiB` : ''}`,
    );
  }
  for (const l of live) {
    if (l.pid && l.tr.memory) {
      l.tr.memory.peakKb = l.rssPeak;
      l.tr.memory.endKb = rssKb(l.pid);
    }
  }
}

async function runProfile(s: Settings, env: Env, upstream: Proc): Promise<void> {
  const dir = join(ROOT, '.bench-tmp', `profile-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  env.cpuProfDir = dir;
  // --only=b profiles the undici floor instead, for a side-by-side reading; --only=g Portico with Redis limits.
  const only = s.targets.length === 1 ? s.targets[0] : undefined;
  const id = only === 'undici' || only === 'portico-limits' ? only : 'portico-sqlite';
  const running = await startTarget(id, env);
  stopAll = () => running.stop();
  let r: LoadResult;
  try {
    const sc = scenario(s.scenarios[0] ?? 'json');
    const load = { ...requestFor(running.dialect, sc), connections: s.connections, durationS: s.durationS, warmupS: s.warmupS, expectStatus: sc.expectStatus };
    // --rate=N: paced at N req/s, so that two targets' profiles compare at the same load.
    r = await runLoad(
      s.profileRate === undefined ? { kind: 'autocannon', ...load } : { kind: 'paced', ...load, rate: s.profileRate },
      { proxy: running.proc, upstream },
      s.durationS + s.warmupS + 90,
    );
    log(`profiled run: ${describe(r)}`);
  } finally {
    await running.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile written into ${dir} (did Portico exit cleanly on SIGTERM?)`);
  const summary = summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')), ROOT, r.windowUs);
  const title = `CPU profile of ${TARGETS.find((t) => t.id === id)!.label}, ${scenario(s.scenarios[0] ?? 'json').label}`;
  const text = formatProfile(summary, { top: 30, requests: r.windowUs ? r.requests : undefined, rps: r.rps, windowed: !!r.windowUs, title });
  writeFileSync(join(dir, 'top.txt'), text);
  process.stdout.write(text);
  process.stdout.write(
    `\nprofile: ${relative(ROOT, join(dir, file))} (open in Chrome DevTools › Performance, or VS Code)\nsummary: ${relative(ROOT, join(dir, 'top.txt'))}\n`,
  );
}

async function main(): Promise<void> {
  const s = parseArgs(process.argv.slice(2));
  const began = performance.now();
  const host = machine();
  const loadBefore = loadavg()[0]!;
  const busyBefore = await cpuBusy(1000);
  const ticks0 = cpuTicks();
  if (canPin()) spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const tmp = join(ROOT, '.bench-tmp', `run-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  log(
    `mode ${s.mode}; targets ${s.targets.join(', ')}; ${canPin() ? 'proxy pinned to core 0, upstream and load generator to core 1' : 'no CPU pinning (needs taskset and 2 cores)'}`,
  );

  const upstream = start('upstream', NODE, [join(ROOT, 'bench/upstream.ts')], { core: 1 });
  const m = await upstream.waitForLine(/^listening (\d+)/, 15_000);
  const env: Env = {
    root: ROOT,
    tmp,
    node: NODE,
    upstream: `http://127.0.0.1:${m[1]}`,
    pgUrl: process.env.PORTICO_BENCH_PG_URL ?? process.env.PORTICO_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    log,
  };
  let cleaned: Promise<void> | null = null;
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      await loadgen.close();
      await upstream.stop();
      rmSync(tmp, { recursive: true, force: true });
    })());
  stopOnSignal((signal) => {
    log(`${signal}: stopping everything the harness started`);
    return Promise.allSettled([stopAll(), cleanup()]);
  });

  try {
    if (s.mode === 'profile') {
      await runProfile(s, env, upstream);
      return;
    }
    const results: Results = {
      schema: 1,
      date: new Date().toISOString(),
      mode: s.mode,
      machine: {
        ...host,
        busyBeforePct: Math.round(busyBefore * 1000) / 10,
        otherLoadPct: null,
        loadAverage: { before: Math.round(loadBefore * 100) / 100, after: 0 },
      },
      settings: {
        pinned: canPin(),
        rounds: s.rounds,
        connections: s.connections,
        durationS: s.durationS,
        warmupS: s.warmupS,
        ttfbRequests: s.ttfbN,
        fixedRateS: s.fixedRateS,
        pacedWindows: s.pacedWindows,
        pacedWindowS: s.pacedWindowS,
        bulkBytes: BULK_BYTES,
        scenarios: s.scenarios.map((id) => ({ id, label: scenario(id).label })),
      },
      targets: [],
      fixedRate: null,
      goals: [],
      elapsedS: 0,
    };
    if (s.pauseProbeS > 0) {
      log(`pause probe: spinning ${s.pauseProbeS} s on each core`);
      results.machine.pauses = { before: await probePauses(s.pauseProbeS), after: [] };
    }
    const live: Live[] = [];
    const fixed = { rate: null as number | null, source: null as string | null };
    try {
      await startAll(s, env, upstream, results, live);
      stopAll = () => Promise.allSettled(live.map((l) => l.running.stop())).then(() => {});
      await measure(s, live, fixed);
    } finally {
      await stopAll();
      log('targets stopped');
    }
    if (results.machine.pauses) results.machine.pauses.after = await probePauses(s.pauseProbeS);
    results.targets.sort((x, y) => x.letter.localeCompare(y.letter));
    if (fixed.rate !== null) results.fixedRate = { rate: fixed.rate, source: fixed.source! };
    results.machine.loadAverage.after = Math.round(loadavg()[0]! * 100) / 100;
    // Everything the harness started is stopped and reaped now, so their CPU time is in ours.
    await cleanup();
    const ticks1 = cpuTicks();
    const capacity = ((performance.now() - began) / 1000) * 100 * host.cores;
    if (ticks1.all > ticks0.all && capacity > 0) {
      const other = Math.max(0, ticks1.all - ticks0.all - (ticks1.ours - ticks0.ours));
      results.machine.otherLoadPct = Math.round((other / capacity) * 1000) / 10;
    }
    results.goals = evaluateGoals(results);
    results.elapsedS = Math.round((performance.now() - began) / 100) / 10;
    mkdirSync(s.outDir, { recursive: true });
    const md = renderMarkdown(results);
    writeFileSync(join(s.outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    // The hand-written analysis (where Portico's time goes) travels with every generated report.
    const analysis = join(ROOT, 'bench', 'ANALYSIS.md');
    writeFileSync(join(s.outDir, 'RESULTS.md'), existsSync(analysis) ? `${md}\n${readFileSync(analysis, 'utf8')}` : md);
    process.stdout.write(md);
    log(`done in ${results.elapsedS} s; wrote ${relative(ROOT, join(s.outDir, 'RESULTS.md'))} and ${relative(ROOT, join(s.outDir, 'results.json'))}`);
  } finally {
    await cleanup();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
