// `npm test` (scripts/test.ts) bounds the whole run: a test file whose process never exits fails
// the run once the bound has passed, and its process is stopped, instead of holding CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('a test process that never exits fails the run after the bound and is stopped', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-test-bound-'));
  const pidFile = join(dir, 'pid');
  try {
    // Without NODE_TEST_CONTEXT, which would make the inner `node --test` skip its files.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(process.execPath, ['scripts/test.ts', 'scripts/fixtures/never-exits.ts'], {
      env: { ...env, PORTICO_TEST_LIMIT_MIN: '0.05', NEVER_EXITS_PID_FILE: pidFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const t0 = Date.now();
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1, output);
    assert.ok(Date.now() - t0 < 30_000);
    assert.match(output, /✔ leaves a server listening/);
    assert.match(output, /npm test: the test run took over 0\.05 minutes \(a test process did not exit\); stopping it/);
    // SIGKILLed with its process group; gone once the system has reaped it.
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (const t1 = Date.now(); alive() && Date.now() - t1 < 5000;) await new Promise((r) => setTimeout(r, 50));
    assert.equal(alive(), false, 'the test process was stopped');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
