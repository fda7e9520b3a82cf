// The one test entry point (`npm test`): format check, type-check, build what tests load, then every
// `*.test.ts` under packages/ and bench/ with the Node test runner. Extra arguments are
// passed to `node --test` (e.g. `npm test -- --test-name-pattern=policy`), or name files.
import { spawnSync } from 'node:child_process';
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
const targets = files.length > 0 ? files : globSync('{packages/*/test,bench/test}/**/*.test.ts').sort();
run(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...flags, ...targets]);
