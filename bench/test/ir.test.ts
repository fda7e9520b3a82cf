// `npm run bench:ir`: one short count of (b) and this checkout under callgrind, and bad arguments
// refused with a reason. No figure is checked, only that both were counted and the ratio printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { runScript } from './run-script.ts';

const runIr = (args: string[], timeoutMs: number) => runScript('bench/ir.ts', args, timeoutMs);
const noValgrind = spawnSync('valgrind', ['--version']).error ? 'valgrind is not installed' : false;

test('npm run bench:ir: (b) and this checkout counted under callgrind, the ratio printed', { timeout: 240_000, skip: noValgrind }, async () => {
  const { code, output } = await runIr(['--requests=50', '--warmup=200'], 220_000);
  assert.equal(code, 0, output.slice(-3000));
  assert.match(output, /^A = \(b\), the undici proxy baseline, B = this checkout; small JSON, 50 requests counted after 200$/m);
  assert.match(output, /^A: [1-9]\d* instructions per request$/m);
  assert.match(output, /^B: [1-9]\d* instructions per request$/m);
  assert.match(output, /^B\/A instructions per request: \d+\.\d{3}$/m);
});

test('npm run bench:ir: bad arguments are refused with the reason', async () => {
  const bad = await runIr(['--requests=0'], 30_000);
  assert.equal(bad.code, 1);
  assert.match(bad.output, /^bench:ir: --requests must be a positive integer/m);
  const two = await runIr(['HEAD', 'HEAD~1'], 30_000);
  assert.equal(two.code, 1);
  assert.match(two.output, /^bench:ir: unknown argument 'HEAD~1' \(usage: npm run bench:ir -- \[<rev>\]/m);
  const unknown = await runIr(['no-such-revision-xyz'], 30_000);
  assert.equal(unknown.code, 1);
  assert.match(unknown.output, /^bench:ir: /m);
});
