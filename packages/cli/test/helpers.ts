// Test helpers: run the real `portico` binary (bin/portico.js under the project's Node) as a
// child process, asynchronously, so that a gateway started in the test process keeps serving.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const NODE = join(REPO, 'node_modules/.bin/node');
export const BIN = join(REPO, 'packages/cli/bin/portico.js');

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Written to stdin, then stdin is closed (stdin is always a pipe, never a TTY). */
  input?: string;
  timeoutMs?: number;
}

/** The environment of the child: ours without any PORTICO_* variable, plus `extra`. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PORTICO_')) env[k] = v;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function startCli(args: string[], opts: RunOptions = {}): ChildProcess {
  return spawn(NODE, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: cleanEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = startCli(args, opts);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  child.stdin!.on('error', () => {});
  child.stdin!.end(opts.input ?? '');
  const timeoutMs = opts.timeoutMs ?? 90_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`portico ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout: ${Buffer.concat(out)}\nstderr: ${Buffer.concat(err)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
  });
}

export function tempDir(prefix = 'portico-cli-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** stderr holds exactly one non-empty line, starting with `portico: `. */
export function oneErrorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}:\n${stderr}`);
  if (!lines[0]!.startsWith('portico: ')) throw new Error(`stderr line does not start with 'portico: ': ${lines[0]}`);
  return lines[0]!;
}

/** Whether `buf` starts like an MP3 file: an ID3 tag or an MPEG audio frame sync (0xFF 0xE?). */
export function looksLikeMp3(buf: Buffer): boolean {
  if (buf.length < 3) return false;
  if (buf.subarray(0, 3).toString('latin1') === 'ID3') return true;
  return buf[0] === 0xff && (buf[1]! & 0xe0) === 0xe0;
}

/** Runs `fn` over `items` with at most `limit` at a time (spawning dozens of Nodes at once is slow). */
export async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}
