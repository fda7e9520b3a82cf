// The machine's own pauses: a virtual CPU can stop running for milliseconds at a time while the
// host runs something else, and the guest kernel does not always count it as steal time. A
// request in flight through a paused core waits that long, whatever the proxy, so these pauses
// set the tail of every latency figure. The probe spins on each idle core for a few seconds
// (nothing else runs there) and records every gap between two clock readings over PAUSE_MS.
//
// `node stalls.ts <ms>` spins for <ms> and prints one JSON line; the harness pins one per core.
import { cpus } from 'node:os';
import { canPin, start } from './proc.ts';

/** A gap this long between two consecutive clock readings is a pause (a reading takes ~50 ns). */
const PAUSE_MS = 1;

export interface CorePauses {
  core: number;
  seconds: number;
  /** Gaps over PAUSE_MS. */
  pauses: number;
  longestMs: number;
  /** Share of the probe's time lost in those gaps. */
  lostPct: number;
}

function spin(ms: number): Omit<CorePauses, 'core'> {
  const t0 = performance.now();
  let last = t0;
  let pauses = 0;
  let longest = 0;
  let lost = 0;
  for (;;) {
    const t = performance.now();
    const gap = t - last;
    last = t;
    if (gap > PAUSE_MS) {
      pauses++;
      lost += gap;
      if (gap > longest) longest = gap;
    }
    if (t - t0 >= ms) break;
  }
  const seconds = (last - t0) / 1000;
  return {
    seconds: Math.round(seconds * 100) / 100,
    pauses,
    longestMs: Math.round(longest * 10) / 10,
    lostPct: Math.round((lost / (last - t0)) * 10000) / 100,
  };
}

/** Spins on cores 0 and 1 at once for `seconds`; empty when processes cannot be pinned. */
export async function probePauses(seconds: number): Promise<CorePauses[]> {
  if (!canPin()) return [];
  // Not availableParallelism(): the harness pins itself to core 1, which that would count alone.
  const cores = [0, 1].filter((c) => c < cpus().length) as (0 | 1)[];
  return Promise.all(
    cores.map(async (core) => {
      const p = start(`pauses-${core}`, process.execPath, [import.meta.filename, String(seconds * 1000)], { core });
      const m = await p.waitForLine(/^\{.*\}$/, seconds * 1000 + 30_000);
      await p.stop();
      return { core, ...(JSON.parse(m[0]) as Omit<CorePauses, 'core'>) };
    }),
  );
}

if (import.meta.main) process.stdout.write(`${JSON.stringify(spin(Number(process.argv[2] ?? 3000)))}\n`);
