// The one test entry point (`npm test`): format check, type-check, build what tests load, then every
// `*.test.ts` under packages/ and bench/ with the Node test runner. Extra arguments are
// passed to `node --test` (e.g. `npm test -- --test-name-pattern=policy`), or name files.
import { spawn, spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const args = process.argv.slice(2);
const files = args.filter((a) => a.endsWith('.ts'));
const flags = args.filter((a) => !a.endsWith('.ts'));

if (files.length === 0) {
  run(process.execPath, ['node_modules/prettier/bin/prettier.cjs', '--check', '--log-level', 'warn', '.']);
  run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
  run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'packages/admin-ui/tsconfig.json']);
  run('npm', ['run', 'build', '--silent']);
}
const targets = files.length > 0 ? files : globSync('{packages/*/test,bench/test,scripts}/**/*.test.ts').sort();
// A test file whose process never exits (a failure that left a server open) would hold the run,
// and CI, until its own time limit: the whole run is bounded instead, and everything it started
// is stopped. (node's --test-force-exit is no answer: it ended a file of describe blocks halfway,
// reporting the tests it had run as a pass.) The test processes get their own process group so
// that all of them can be stopped together.
// PORTICO_TEST_LIMIT_MIN changes the bound (scripts/test.test.ts sets it low).
const LIMIT_MIN = Number(process.env.PORTICO_TEST_LIMIT_MIN ?? 40);
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...flags, ...targets], {
  stdio: 'inherit',
  detached: true,
});
const stopAll = (signal: NodeJS.Signals): void => {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* already gone */
  }
};
const timer = setTimeout(() => {
  console.error(`npm test: the test run took over ${LIMIT_MIN} minutes (a test process did not exit); stopping it`);
  stopAll('SIGKILL');
  process.exit(1);
}, LIMIT_MIN * 60_000);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stopAll(signal));
child.on('exit', (code, signal) => {
  clearTimeout(timer);
  process.exit(code ?? (signal ? 1 : 0));
});
