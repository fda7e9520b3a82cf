// Runs the benchmark harness in its tiny mode (`--smoke`: 1 s cells, (a), (b) and Portico on
// SQLite, small JSON only) and checks that it produces numbers and a well-formed results
// object. No timing goals here: those live in bench/RESULTS.md, never in tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Results } from '../lib/report.ts';
import { runScript } from './run-script.ts';

const runHarness = (args: string[], timeoutMs: number) => runScript('bench/run.ts', args, timeoutMs);

test('npm run bench -- --smoke produces figures for (a), (b) and Portico on SQLite', { timeout: 240_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'portico-bench-smoke-'));
  try {
    const { code, output } = await runHarness(['--smoke', `--out=${out}`], 200_000);
    assert.equal(code, 0, `harness exit code; output:\n${output.slice(-4000)}`);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Results;
    const md = readFileSync(join(out, 'RESULTS.md'), 'utf8');

    assert.equal(results.schema, 1);
    assert.equal(results.mode, 'smoke');
    assert.ok(!Number.isNaN(Date.parse(results.date)), 'date is a timestamp');
    assert.ok(results.machine.cores >= 1);
    assert.equal(typeof results.machine.model, 'string');
    assert.match(results.machine.node, /^v\d+\./);
    assert.deepEqual(
      results.settings.scenarios.map((s) => s.id),
      ['json'],
    );
    assert.deepEqual(
      results.targets.map((t) => t.id),
      ['direct', 'undici', 'portico-sqlite'],
    );
    assert.ok(Array.isArray(results.goals) && results.goals.length > 0);

    for (const t of results.targets) {
      assert.equal(t.status, 'ok', `${t.id}: ${t.reason ?? ''}\n${output.slice(-3000)}`);
      const c = t.cells.find((x) => x.kind === 'load' && x.scenario === 'json');
      assert.ok(c, `${t.id} has a small-JSON cell`);
      assert.ok(c.ok, `${t.id} cell checks passed: ${JSON.stringify(c)}`);
      assert.ok(c.rps > 0, `${t.id} req/s > 0`);
      assert.ok(c.requests > 0, `${t.id} requests > 0`);
      assert.equal(c.statuses['200'], c.requests, `${t.id}: every answer was 200`);
      assert.ok(c.latencyMs && c.latencyMs.p50 > 0 && c.latencyMs.p99 >= c.latencyMs.p50, `${t.id} latency percentiles`);
      if (t.id !== 'direct') {
        assert.ok(t.memory && (t.memory.startKb ?? 0) > 0, `${t.id} RSS read from /proc`);
        assert.ok((c.cpu?.proxyUsPerReq ?? 0) > 0, `${t.id} proxy CPU per request`);
      }
    }
    const portico = results.targets.find((t) => t.id === 'portico-sqlite')!;
    assert.ok(portico.info.started_with, 'how Portico was started is recorded');
    assert.ok(portico.info.bootstrap, 'how Portico was bootstrapped is recorded');

    assert.match(md, /^# Portico benchmark results/);
    assert.match(md, /small JSON GET/);
    assert.match(md, /\| \(d\) Portico \(SQLite\) \| [\d,]+ \|/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
