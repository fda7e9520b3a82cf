// `npm run bench:ir -- [<rev>]`: instructions per small invoke, counted by valgrind's callgrind.
// CPU time on a shared VM moves by 10–20% from one minute to the next, and bench:ab needs six
// sessions to see a few percent; an instruction count does not move with the machine (the same
// build gives the same count within a few tenths of a percent), so a change of 1% shows in one
// run. It counts user-space instructions only: not the kernel's share (the same system calls for
// every target here, checked with strace: one read per socket, one write and one writev per
// request) nor cache misses, so it ranks changes to the gateway's own work rather than predicting
// the CPU ratio.
//
// A = Portico at <rev> (or, with no <rev>, baseline (b), the undici proxy), B = this checkout.
// Each runs under `valgrind --tool=callgrind` with instrumentation off for `--warmup` requests (so
// that the JIT settles at near-native speed), then on for 500 more, then counted for `--requests`
// (8 connections, the small-JSON scenario). Options: --requests=N (3000), --warmup=N (20000).
// Needs valgrind (Debian's package); it runs about two minutes per side.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, type Dispatcher } from 'undici';
import { start } from './lib/proc.ts';
import { requestFor, scenario } from './lib/scenarios.ts';
import { startTarget, type TargetId } from './lib/targets.ts';
import { sideA } from './lib/worktree.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONNECTIONS = 8;

function parseArgs(argv: string[]): { rev: string; requests: number; warmup: number } {
  const o = { rev: '', requests: 3000, warmup: 20_000 };
  for (const a of argv) {
    const m = /^--(requests|warmup)=(\d+)$/.exec(a);
    if (m) {
      const n = Number(m[2]);
      if (!(n > 0)) throw new Error(`--${m[1]} must be a positive integer`);
      o[m[1] as 'requests' | 'warmup'] = n;
    } else if (a.startsWith('--') || o.rev) throw new Error(`unknown argument '${a}' (usage: npm run bench:ir -- [<rev>] [--requests=N] [--warmup=N])`);
    else o.rev = a;
  }
  return o;
}

/** Instructions per request of one target, under callgrind. */
async function count(target: TargetId, root: string, upstream: string, o: { requests: number; warmup: number }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-ir-'));
  try {
    // The harness starts targets with `env.node`: here a wrapper that runs node under callgrind.
    const wrapper = join(dir, 'node');
    writeFileSync(
      wrapper,
      `#!/bin/sh\nexec valgrind -q --tool=callgrind --instr-atstart=no --smc-check=all-non-file --callgrind-out-file=${dir}/cg.%p ${process.execPath} "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    const t = await startTarget(target, { root, tmp: dir, node: wrapper, upstream, pgUrl: '', startFactor: 4, log: () => {} });
    try {
      const pid = t.proc!.pid;
      const req = requestFor(t.dialect, scenario('json'));
      const url = new URL(req.url);
      const pool = new Pool(url.origin, { connections: CONNECTIONS });
      const drive = async (n: number): Promise<void> => {
        let left = n;
        await Promise.all(
          Array.from({ length: CONNECTIONS }, async () => {
            while (left-- > 0) {
              const r = await pool.request({
                path: url.pathname + url.search,
                method: req.method as Dispatcher.HttpMethod,
                headers: req.headers,
                body: req.body,
              });
              await r.body.dump();
              if (r.statusCode !== 200) throw new Error(`${target}: status ${r.statusCode}`);
            }
          }),
        );
      };
      const control = (flag: string): void => void execFileSync('callgrind_control', [flag, String(pid)], { stdio: 'ignore' });
      await drive(o.warmup);
      control('--instr=on');
      await drive(500); // code translated again under instrumentation
      control('--zero');
      await drive(o.requests);
      control('--dump');
      await pool.close();
      const dump = readdirSync(dir).find((f) => f.startsWith(`cg.${pid}.`));
      const summary = dump && /^summary: (\d+)/m.exec(readFileSync(join(dir, dump), 'utf8'));
      if (!summary) throw new Error(`${target}: callgrind wrote no dump`);
      return Number(summary[1]) / o.requests;
    } finally {
      await t.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (spawnSync('valgrind', ['--version']).error) throw new Error('valgrind not found (Debian: apt-get install valgrind)');
  const a = sideA(ROOT, o.rev, 'portico-sqlite');
  console.log(`A = ${a.label}, B = this checkout; small JSON, ${o.requests} requests counted after ${o.warmup}`);
  const upstream = start('upstream', process.execPath, [join(ROOT, 'bench/upstream.ts')], { core: 1 });
  try {
    const up = await upstream.waitForLine(/^listening (\d+)/, 15_000);
    const origin = `http://127.0.0.1:${up[1]}`;
    const ia = await count(a.target, a.root, origin, o);
    console.log(`A: ${Math.round(ia)} instructions per request`);
    const ib = await count('portico-sqlite', ROOT, origin, o);
    console.log(`B: ${Math.round(ib)} instructions per request`);
    console.log(`B/A instructions per request: ${(ib / ia).toFixed(3)}`);
  } finally {
    await upstream.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:ir: ${err.message}`);
    process.exit(1);
  },
);
