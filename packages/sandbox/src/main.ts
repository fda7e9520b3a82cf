// Direct entry: `node packages/sandbox/src/main.ts --port 9100` (the CLI package wraps the same).
import { runSandboxCli } from './cli.ts';

runSandboxCli(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`portico sandbox: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
