// The harness's side of the load generator (lib/loadgen.ts --serve): one long-lived process on
// core 1, a cell per JSON line, restarted when a cell overruns its bound.
import { join } from 'node:path';
import type { LoadResult, LoadSpec } from './loadgen.ts';
import { sleep, start, type Proc } from './proc.ts';

const LOADGEN = join(import.meta.dirname, 'loadgen.ts');

/**
 * The load generator: one long-lived process on core 1 (lib/loadgen.ts --serve) that runs one
 * cell per JSON line. A cell that overruns its bound gets the process killed and a new one.
 */
export class Loadgen {
  private proc: Proc | null = null;
  private onLine: ((line: string) => void) | null = null;

  private async ensure(): Promise<Proc> {
    if (this.proc && this.proc.child.exitCode === null && this.proc.child.signalCode === null) return this.proc;
    const proc = start('loadgen', process.execPath, [LOADGEN, '--serve'], { core: 1, stdin: true, onLine: (line) => this.onLine?.(line) });
    await proc.waitForLine(/^@ready$/, 30_000);
    this.proc = proc;
    return proc;
  }

  async run(spec: LoadSpec, boundS: number, onStart: () => void): Promise<LoadResult> {
    const proc = await this.ensure();
    return new Promise((resolvePromise) => {
      const fail = (why: string): void => {
        this.onLine = null;
        clearTimeout(timer);
        this.proc = null;
        void proc.stop(2000);
        resolvePromise({ kind: spec.kind, requests: 0, seconds: 0, rps: 0, bytes: 0, errors: 1, statuses: {}, unexpected: 0, latencyMs: null, error: why });
      };
      const timer = setTimeout(() => fail(`load generator overran its ${boundS} s bound`), boundS * 1000);
      void proc.exited.then((code) => {
        if (this.onLine) fail(`load generator exited (${code}): ${proc.output().slice(-500)}`);
      });
      this.onLine = (line) => {
        if (line === '@start') onStart();
        else if (line.startsWith('@result ')) {
          clearTimeout(timer);
          this.onLine = null;
          resolvePromise(JSON.parse(line.slice(8)) as LoadResult);
        }
      };
      proc.child.stdin!.write(JSON.stringify(spec) + '\n');
    });
  }

  async close(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc) return;
    proc.child.stdin?.end();
    await Promise.race([proc.exited, sleep(3000)]);
    await proc.stop(2000);
  }
}
