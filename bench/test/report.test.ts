// Goal verdicts of bench/RESULTS.md: the p99 budget is only judged when the baseline's own tail
// leaves room to read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateGoals, steadiness, type Results } from '../lib/report.ts';

function results(directP99: number, porticoP99: number, floorP99?: number): Results {
  const paced = (p99: number) => ({
    kind: 'rate-paced',
    scenario: 'json',
    ok: true,
    rps: 1000,
    latencyMs: { mean: 1, p50: 0.5, p90: 0.8, p99, p999: p99, max: p99 },
  });
  return {
    targets: [
      { id: 'direct', cells: [paced(directP99)] },
      { id: 'portico-sqlite', cells: [paced(porticoP99)] },
      ...(floorP99 === undefined ? [] : [{ id: 'undici', cells: [paced(floorP99)] }]),
    ],
    fixedRate: { rate: 1000, source: 'test' },
  } as unknown as Results;
}

test('p99 added latency: met, not met, or inconclusive when the baseline alone is over 5 ms or the floor (b) adds 2 ms', () => {
  const goal = (r: Results) => evaluateGoals(r).find((g) => g.name === 'p99 added latency at half max rate')!;
  const met = goal(results(1.5, 3.0));
  assert.equal(met.pass, true);
  assert.equal(met.inconclusive, undefined);
  assert.equal(goal(results(1.5, 4.0)).pass, false);
  const noisy = goal(results(17.5, 15.2));
  assert.equal(noisy.inconclusive, "(a)'s own paced p99 is 17.50 ms at this rate");
  const floorSlow = goal(results(2.5, 12.0, 9.0));
  assert.equal(floorSlow.pass, false);
  assert.equal(floorSlow.inconclusive, '(b), the few-dozen-line proxy, itself adds +6.50 ms at this rate');
  assert.match(floorSlow.measured, /\(b\) at the same rate: \+6\.50 ms \(p99 9\.00\)/);
  assert.equal(goal(results(1.5, 3.0, 2.0)).inconclusive, undefined, 'a floor within budget leaves the verdict as it is');
});

test("p99 added latency is read off each target's median paced window, so one paused window decides nothing", () => {
  const windows = (...p99s: number[]) =>
    p99s.map((p99, window) => ({
      kind: 'rate-paced',
      scenario: 'json',
      ok: true,
      window,
      rps: 1000,
      latencyMs: { mean: 1, p50: 0.5, p90: 0.8, p99, p999: p99, max: p99 },
    }));
  const r = {
    settings: { rounds: 2, pacedWindows: 2 },
    targets: [
      // One window of (a) caught a 30 ms pause of the VM; one of Portico's caught 9 ms.
      { id: 'direct', cells: windows(1.2, 30, 1.0, 1.1) },
      { id: 'portico-sqlite', cells: windows(2.0, 9.0, 3.0, 2.9) },
    ],
    fixedRate: { rate: 1000, source: 'test' },
  } as unknown as Results;
  const goal = evaluateGoals(r).find((g) => g.name === 'p99 added latency at half max rate')!;
  // Lower medians: (a) 1.1 ms, Portico 2.9 ms.
  assert.match(goal.measured, /^paced: \+1\.80 ms \(p99 2\.90 vs 1\.10\)/);
  assert.match(goal.goal, /median window of 4/);
  assert.equal(goal.pass, true);
  assert.equal(goal.inconclusive, undefined);
});

test("the throughput goal also gives each round's own ratio, from cells measured seconds apart", () => {
  const load = (rps: number, round: number) => ({ kind: 'load', scenario: 'json', ok: true, round, rps, latencyMs: null });
  const r = {
    settings: { rounds: 2 },
    targets: [
      { id: 'undici', cells: [load(20_000, 0), load(24_000, 1)] },
      { id: 'portico-sqlite', cells: [load(17_000, 0), load(18_000, 1)] },
    ],
    fixedRate: null,
  } as unknown as Results;
  const goal = evaluateGoals(r).find((g) => g.name === 'throughput, small JSON')!;
  // Best rounds: 18,000 / 24,000 = 75%; round by round 85% and 75%.
  assert.match(goal.measured, /^75\.0% \(18,000 vs 24,000 req\/s\)/);
  assert.match(goal.measured, /round by round 85\.0%, 75\.0%$/);
  assert.equal(goal.pass, false);
});

test('the header flags a run in which (a) itself changed speed between rounds, or (b) alone moved', () => {
  const direct = (...rps: number[]) =>
    ({ targets: [{ id: 'direct', cells: rps.map((x, round) => ({ kind: 'load', scenario: 'json', ok: true, round, rps: x })) }] }) as unknown as Results;
  assert.match(steadiness(direct(30_739, 20_590))!, /30,739 \/ 20,590 req\/s in rounds 1 \/ 2 \(33% apart\) — \*\*the machine changed speed/);
  assert.doesNotMatch(steadiness(direct(28_579, 29_743))!, /changed speed/);
  assert.equal(steadiness(direct(28_579)), null, 'one round: nothing to compare');
  const withB = (a: number[], b: number[]) =>
    ({
      targets: [
        { id: 'direct', cells: a.map((x, round) => ({ kind: 'load', scenario: 'json', ok: true, round, rps: x })) },
        { id: 'undici', cells: b.map((x, round) => ({ kind: 'load', scenario: 'json', ok: true, round, rps: x })) },
      ],
    }) as unknown as Results;
  const moved = steadiness(withB([10_243, 10_150], [2_700, 8_901]))!;
  assert.match(moved, /\(a\) small JSON 10,243 \/ 10,150 req\/s in rounds 1 \/ 2 \(1% apart\); \(b\) 2,700 \/ 8,901 req\/s in rounds 1 \/ 2 \(70% apart\)/);
  assert.match(moved, /\*\*\(b\) moved between rounds while \(a\) did not/);
  assert.doesNotMatch(steadiness(withB([10_243, 10_150], [8_800, 8_901]))!, /moved|changed speed/);
});
