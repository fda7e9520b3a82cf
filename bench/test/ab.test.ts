// `npm run bench:ab`: runs it for one short session against HEAD (the same code on both sides)
// and checks that it measures both builds and prints the ratio; and that bad arguments are
// refused with a reason. No timing goal: the ratio itself is not checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScript } from './run-script.ts';

const runAb = (args: string[], timeoutMs: number) => runScript('bench/ab.ts', args, timeoutMs);

test('npm run bench:ab -- HEAD: both builds measured side by side, which starts first alternating, the ratio printed', { timeout: 240_000 }, async () => {
  const { code, output } = await runAb(['HEAD', '--sessions=2', '--rounds=2', '--warmup=1', '--seconds=0.5', '--connections=5'], 210_000);
  assert.equal(code, 0, output.slice(-3000));
  assert.match(output, /^A = [0-9a-f]{12} \(HEAD\), B = this checkout/m);
  assert.match(output, /^session 1: A started and driven first$/m);
  assert.match(output, /^session 2: B started and driven first$/m);
  for (const s of [1, 2]) assert.match(output, new RegExp(`session ${s} round 2: A \\d+\\.\\d µs, B \\d+\\.\\d µs of CPU per request`));
  assert.match(output, /^B\/A CPU per request: \d+\.\d{3} ± \d\.\d{3} \(standard error over 2 sessions\)$/m);
});

test('npm run bench:ab -- --against=b: this checkout measured beside baseline (b), the throughput share printed', { timeout: 180_000 }, async () => {
  const { code, output } = await runAb(['--against=b', '--sessions=1', '--rounds=2', '--warmup=1', '--seconds=0.5', '--connections=5'], 150_000);
  assert.equal(code, 0, output.slice(-3000));
  assert.match(output, /^A = \(b\), the undici proxy baseline, B = this checkout/m);
  assert.match(output, /session 1 round 2: A \d+\.\d µs, B \d+\.\d µs of CPU per request/);
  assert.match(output, /^B\/A CPU per request: \d+\.\d{3} ± 0\.000 \(standard error over 1 sessions\)$/m);
  assert.match(output, /^B's throughput as a share of \(b\)'s at the same CPU: \d+\.\d% \(goal ≥ 85%: CPU ratio ≤ 1\.176\)$/m);
});

test('npm run bench:ab: bad arguments are refused with the reason', async () => {
  const none = await runAb([], 30_000);
  assert.equal(none.code, 1);
  assert.match(none.output, /^bench:ab: usage: npm run bench:ab -- <rev>/m);
  const bad = await runAb(['HEAD', '--rounds=1'], 30_000);
  assert.equal(bad.code, 1);
  assert.match(bad.output, /--rounds must be more than --warmup \(2\): the first 2 rounds are not counted/);
  const both = await runAb(['HEAD', '--against=b'], 30_000);
  assert.equal(both.code, 1);
  assert.match(both.output, /give either <rev> or --against=b, not both/);
  const other = await runAb(['--against=c'], 30_000);
  assert.equal(other.code, 1);
  assert.match(other.output, /--against takes b/);
  const unknown = await runAb(['no-such-revision-xyz'], 30_000);
  assert.equal(unknown.code, 1);
  assert.match(unknown.output, /^bench:ab: /m);
});
