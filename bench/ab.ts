// `npm run bench:ab -- <rev>`: is this checkout faster than revision <rev>? Both builds of Portico
// (on SQLite) run side by side on core 0, each under its own load generator (core 1, beside the
// upstream), at the same time; their CPU time per request comes from /proc. On a shared VM
// whose speed drifts by 10–20% from one minute to the next, two cells measured in turn differ by
// more than most changes do; measured at the same time, both builds see the same drift. Each
// session starts both anew (a process's JIT decisions move its speed by a few percent for its
// whole life), runs `--warmup` rounds that are not counted and then the rest of `--rounds`; the
// result is the mean ratio over sessions with its standard error (which understates the spread
// from run to run: the same code on both sides has measured 0.97–1.01). Two warm-up rounds, because the
// second round of a fresh Portico still pays for its JIT: beside (b), 5 sessions of 8 rounds gave
// B/A 1.41 on average in round 2 (1.23–1.55) against 1.20 in rounds 3–8.
//
// Options: --sessions=N (4), --rounds=N (6 in all), --warmup=N (2, not counted), --seconds=S (2 per round),
// --scenario=json|tts|… (json), --connections=N (25 per build), --target=d|g (d: Portico on SQLite;
// g: the same with limits through Redis, each build with its own key prefix). `<rev>` is anything git resolves
// (a commit, HEAD~1, a branch); its worktree goes to .bench-tmp/ab-<commit>/ and is reused.
// `--against=b` (no <rev>) measures this checkout against baseline (b), the few-dozen-line undici
// proxy, in the same way: the throughput goal (≥ 85% of (b)) is a CPU ratio of at most 1/0.85.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadSpec } from './lib/loadgen.ts';
import { Loadgen } from './lib/loadgen-process.ts';
import { cpuUs, start, stopOnSignal } from './lib/proc.ts';
import { requestFor, SCENARIOS, scenario, type ScenarioId } from './lib/scenarios.ts';
import { startTarget, type Env, type Running } from './lib/targets.ts';
import { THROUGHPUT_GOAL } from './lib/report.ts';
import { sideA } from './lib/worktree.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = process.execPath;

function parseArgs(argv: string[]): {
  rev: string;
  sessions: number;
  rounds: number;
  warmup: number;
  seconds: number;
  scenario: ScenarioId;
  connections: number;
  target: 'portico-sqlite' | 'portico-limits';
  against: 'b' | null;
} {
  const opts = {
    rev: '',
    sessions: 4,
    rounds: 6,
    warmup: 2,
    seconds: 2,
    scenario: 'json' as ScenarioId,
    connections: 25,
    target: 'portico-sqlite' as 'portico-sqlite' | 'portico-limits',
    against: null as 'b' | null,
  };
  for (const a of argv) {
    const m = /^--([a-z]+)=(.+)$/.exec(a);
    if (!m) {
      if (a.startsWith('--') || opts.rev)
        throw new Error(
          `unknown argument '${a}' (usage: npm run bench:ab -- <rev> | --against=b [--sessions=N] [--rounds=N] [--warmup=N] [--seconds=S] [--scenario=ID] [--connections=N] [--target=d|g])`,
        );
      opts.rev = a;
      continue;
    }
    const [, k, v] = m as unknown as [string, string, string];
    if (k === 'scenario') {
      if (!SCENARIOS.some((s) => s.id === v)) throw new Error(`unknown scenario '${v}' (${SCENARIOS.map((s) => s.id).join(', ')})`);
      opts.scenario = v as ScenarioId;
    } else if (k === 'target') {
      if (v !== 'd' && v !== 'g') throw new Error(`--target must be d (Portico on SQLite) or g (with limits through Redis)`);
      opts.target = v === 'd' ? 'portico-sqlite' : 'portico-limits';
    } else if (k === 'against') {
      if (v !== 'b') throw new Error(`--against takes b (the undici proxy baseline)`);
      opts.against = 'b';
    } else if (k === 'sessions' || k === 'rounds' || k === 'warmup' || k === 'seconds' || k === 'connections') {
      const n = Number(v);
      if (!(n > 0) || (k !== 'seconds' && !Number.isInteger(n))) throw new Error(`--${k} must be a positive ${k === 'seconds' ? 'number' : 'integer'}`);
      opts[k] = n;
    } else throw new Error(`unknown option --${k}`);
  }
  if (opts.rev && opts.against) throw new Error('give either <rev> or --against=b, not both');
  if (!opts.rev && !opts.against) throw new Error('usage: npm run bench:ab -- <rev> (the revision to compare this checkout with), or --against=b');
  if (opts.rounds <= opts.warmup) throw new Error(`--rounds must be more than --warmup (${opts.warmup}): the first ${opts.warmup} rounds are not counted`);
  return opts;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const stderr = (xs: number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1) / xs.length));

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
  // A: the revision's build of the same target, or baseline (b) from this checkout.
  const a = sideA(ROOT, o.rev, o.target);
  console.log(`A = ${a.label}, B = this checkout (${head}${dirty ? ' + uncommitted changes' : ''}); ${o.target}, scenario ${o.scenario}`);
  console.log(
    `${o.sessions} sessions × ${o.rounds - o.warmup} measured rounds of ${o.seconds} s after ${o.warmup} warm-up rounds, ${o.connections} connections per build`,
  );

  const upstream = start('upstream', NODE, [join(ROOT, 'bench/upstream.ts')], { core: 1 });
  const loadgens = [new Loadgen(), new Loadgen()];
  const running: Running[] = [];
  const stopAll = async (): Promise<void> => {
    for (const r of running.splice(0)) await r.stop();
  };
  stopOnSignal(stopAll);
  const tmp = mkdtempSync(join(tmpdir(), 'portico-ab-'));
  try {
    const up = await upstream.waitForLine(/^listening (\d+)/, 15_000);
    const env = (root: string): Env => ({
      root,
      tmp: mkdtempSync(join(tmp, 'target-')),
      node: NODE,
      upstream: `http://127.0.0.1:${up[1]}`,
      pgUrl: '',
      log: (m) => console.log(m),
    });
    const sc = scenario(o.scenario);
    const sessions: number[] = [];
    const builds = [
      { target: a.target, root: a.root },
      { target: o.target, root: ROOT },
    ]; // [A, B]
    for (let s = 0; s < o.sessions; s++) {
      // Which build starts first, and is driven first, alternates by session, so that an effect of
      // the order cannot favour one side (same-code runs: 0.980 with A always first, 1.011 alternating).
      const bFirst = s % 2 === 1;
      const order = bFirst ? [1, 0] : [0, 1];
      const side: Running[] = []; // side[0] is A, side[1] is B
      for (const i of order) {
        side[i] = await startTarget(builds[i]!.target, env(builds[i]!.root));
        running.push(side[i]);
      }
      console.log(`session ${s + 1}: ${bFirst ? 'B' : 'A'} started and driven first`);
      const ratios: number[] = [];
      for (let round = 0; round < o.rounds; round++) {
        const cells: number[] = [];
        await Promise.all(
          order.map(async (i) => {
            const r = side[i]!;
            const spec: LoadSpec = {
              kind: 'autocannon',
              ...requestFor(r.dialect, sc),
              connections: o.connections,
              durationS: o.seconds,
              warmupS: 1,
              expectStatus: sc.expectStatus,
            };
            const pid = r.proc!.pid;
            let cpu0 = 0;
            // Alternate which load generator drives which build.
            const res = await loadgens[(i + round) % 2]!.run(spec, o.seconds + 90, () => (cpu0 = cpuUs(pid)));
            if (res.error || res.requests === 0 || res.unexpected + res.errors > 0) {
              throw new Error(`${i === 0 ? 'A' : 'B'}: ${res.error ?? `${res.requests} requests, unexpected ${res.unexpected}, errors ${res.errors}`}`);
            }
            cells[i] = (cpuUs(pid) - cpu0) / res.requests;
          }),
        );
        if (round >= o.warmup) ratios.push(cells[1]! / cells[0]!);
        console.log(
          `  session ${s + 1} round ${round + 1}${round < o.warmup ? ' (warm-up)' : ''}: A ${cells[0]!.toFixed(1)} µs, B ${cells[1]!.toFixed(1)} µs of CPU per request`,
        );
      }
      await stopAll();
      sessions.push(mean(ratios));
      console.log(`session ${s + 1}: B/A ${mean(ratios).toFixed(3)}`);
    }
    console.log(`B/A CPU per request: ${mean(sessions).toFixed(3)} ± ${stderr(sessions).toFixed(3)} (standard error over ${sessions.length} sessions)`);
    if (o.against) {
      // At full load each process saturates its share of core 0, so its req/s follow 1 / CPU per request.
      const share = 1 / mean(sessions);
      console.log(
        `B's throughput as a share of (b)'s at the same CPU: ${(share * 100).toFixed(1)}% (goal ≥ ${THROUGHPUT_GOAL * 100}%: CPU ratio ≤ ${(1 / THROUGHPUT_GOAL).toFixed(3)})`,
      );
    }
  } finally {
    await stopAll();
    for (const l of loadgens) await l.close();
    await upstream.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:ab: ${err.message}`);
    process.exit(1);
  },
);
