// Child processes for the harness: start pinned to a core, wait for readiness, read memory and
// CPU time from /proc, stop (only the processes the harness itself started, by pid).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';

const CLK_TCK = 100; // USER_HZ on Linux

let pinning: boolean | null = null;
/** Pinning needs taskset and at least two cores; otherwise every process floats. */
export function canPin(): boolean {
  if (pinning === null) {
    pinning = availableParallelism() >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  }
  return pinning;
}

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Everything the process printed (stdout and stderr), capped, for error messages. */
  output(): string;
  /** Resolves with the first stdout line matching `re` (or rejects on exit/timeout). */
  waitForLine(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(timeoutMs?: number): Promise<void>;
}

export interface StartOptions {
  core?: 0 | 1 | null;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  onLine?: (line: string) => void;
  /** Keep standard input open as a pipe (child.stdin) instead of ignoring it. */
  stdin?: boolean;
}

export function start(name: string, cmd: string, args: string[], opts: StartOptions = {}): Proc {
  const pin = opts.core !== undefined && opts.core !== null && canPin();
  const stdio: ('ignore' | 'pipe')[] = [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'];
  const child = pin
    ? spawn('taskset', ['-c', String(opts.core), cmd, ...args], { env: opts.env ?? process.env, cwd: opts.cwd, stdio })
    : spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio });
  let out = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  let buf = '';
  const keep = (s: string): void => {
    out += s;
    if (out.length > 20_000) out = out.slice(-10_000);
  };
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (s: string) => {
    keep(s);
    buf += s;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      opts.onLine?.(line);
      for (let i = 0; i < waiters.length; i++) {
        const m = line.match(waiters[i]!.re);
        if (m) {
          waiters[i]!.resolve(m);
          waiters.splice(i--, 1);
        }
      }
    }
  });
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null)));
    child.on('error', (err) => {
      keep(`spawn error: ${err.message}\n`);
      resolve(-1);
    });
  });
  let stopping: Promise<void> | null = null;
  const proc: Proc = {
    name,
    child,
    pid: child.pid ?? -1,
    output: () => out,
    exited,
    waitForLine(re, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no line matching ${re} within ${timeoutMs} ms: ${tail(out)}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (${code}) before ready: ${tail(out)}`));
        });
      });
    },
    stop(timeoutMs = 5000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(t);
      })();
      return stopping;
    },
  };
  return proc;
}

/** An unused TCP port on 127.0.0.1 (for servers that need their port up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** The last few non-empty lines a process printed, on one line (for failure reasons). */
export function tail(text: string, lines = 3): string {
  const t = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-lines)
    .join(' | ');
  return t ? t.slice(-600) : '(no output)';
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * On Ctrl-C or a SIGTERM from a job runner, runs `stop` (which stops what the harness started)
 * and exits with the shell's code for that signal, so that nothing outlives the harness.
 */
export function stopOnSignal(stop: (signal: NodeJS.Signals) => Promise<unknown>): void {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => void stop(signal).finally(() => process.exit(code)));
  }
}

/** Polls `url` until it answers with any HTTP status (or `ok` says yes). */
export async function waitForHttp(url: string, timeoutMs: number, proc?: Proc): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (proc && proc.child.exitCode !== null) throw new Error(`${proc.name} exited (${proc.child.exitCode}): ${tail(proc.output())}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > until) throw new Error(`${url} not ready within ${timeoutMs} ms (${last})${proc ? `: ${tail(proc.output())}` : ''}`);
    await sleep(50);
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSafe(`/proc/${pid}/task`)) {
      const raw = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (raw) for (const c of raw.split(/\s+/)) out.push(Number(c));
    }
  } catch {
    /* gone */
  }
  return out;
}

function readdirSafe(dir: string): string[] {
  try {
    return existsSync(dir) ? readdirSync(dir) : [];
  } catch {
    return [];
  }
}

/** The process and all its descendants (nginx master + worker, a wrapper + its node). */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length && all.length < 64; i++) all.push(...children(all[i]!));
  return all;
}

/** Resident memory in KiB of a process tree (VmRSS from /proc/<pid>/status), or null if gone. */
export function rssKb(pid: number): number | null {
  let total = 0;
  let seen = false;
  for (const p of processTree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) {
        total += Number(m[1]);
        seen = true;
      }
    } catch {
      /* exited */
    }
  }
  return seen ? total : null;
}

/** User + system CPU time in microseconds of a process tree (from /proc/<pid>/stat). */
export function cpuUs(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const raw = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      // fields[0] is state (field 3); utime is field 14, stime field 15.
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* exited */
    }
  }
  return (ticks * 1e6) / CLK_TCK;
}

/** Samples the RSS of `pid` every `everyMs` until stopped; returns start, max and last. */
export function sampleRss(pid: number, everyMs: number): { stop(): { startKb: number; maxKb: number; endKb: number; samples: number } } {
  const startKb = rssKb(pid) ?? 0;
  let maxKb = startKb;
  let endKb = startKb;
  let samples = 1;
  const timer = setInterval(() => {
    const v = rssKb(pid);
    if (v === null) return;
    samples++;
    endKb = v;
    if (v > maxKb) maxKb = v;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const v = rssKb(pid);
      if (v !== null) {
        endKb = v;
        if (v > maxKb) maxKb = v;
      }
      return { startKb, maxKb, endKb, samples };
    },
  };
}
