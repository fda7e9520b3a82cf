// `portico` — the Portico command line (SPEC §12). Run through bin/portico.js, or directly with
// `node packages/cli/src/main.ts …` (Node >= 22.18 strips the types).
//
// Every failure is ONE line on stderr, `portico: <reason>`: exit 1 when the work failed, 2 when
// the command line is wrong.
import { readFileSync } from 'node:fs';
import { commandHelp, groupHelp, runCommand, runGroup, splitCommand, usageLine, type Command, type Group } from './lib/command.ts';
import { CliError, UsageError, oneLine } from './lib/errors.ts';
import { serveCommand } from './commands/serve.ts';
import { migrateCommand } from './commands/migrate.ts';
import { rotateMasterKeyCommand } from './commands/rotate-master-key.ts';
import { runSandbox, sandboxCommand } from './commands/sandbox.ts';
import { demoCommand } from './commands/demo.ts';
import { orgsGroup } from './commands/orgs.ts';
import { keysGroup } from './commands/keys.ts';
import { credentialsGroup } from './commands/credentials.ts';
import { servicesGroup } from './commands/services.ts';
import { policyGroup } from './commands/policy.ts';
import { invokeCommand } from './commands/invoke.ts';

const ENTRIES: (Command | Group)[] = [
  serveCommand,
  migrateCommand,
  rotateMasterKeyCommand,
  sandboxCommand,
  demoCommand,
  orgsGroup,
  keysGroup,
  credentialsGroup,
  servicesGroup,
  policyGroup,
  invokeCommand,
];

function isGroup(e: Command | Group): e is Group {
  return 'commands' in e;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function mainHelp(): string {
  const rows = ENTRIES.map((e) => [isGroup(e) ? `${e.name} <command>` : usageLine(e).replace(/^portico /, ''), e.summary] as const);
  const w = Math.max(...rows.map(([u]) => u.length));
  return (
    [
      'Usage: portico <command> [options]',
      '',
      'Portico: an API gateway for paid AI media services.',
      '',
      'Commands:',
      ...rows.map(([u, s]) => `  ${u.padEnd(w)}  ${s}`),
      '',
      'Admin commands and invoke talk to a running gateway: --url or $PORTICO_URL (default',
      'http://127.0.0.1:8080), and --key or $PORTICO_ADMIN_TOKEN / $PORTICO_API_KEY (admin commands',
      'also read ./data/admin-token). Every command takes --help; most take --json.',
      '',
      "Run 'portico <command> --help' for details.",
    ].join('\n') + '\n'
  );
}

async function main(argv: string[]): Promise<number> {
  const valued = new Set(['--url', '--key', '--org']);
  const { name, rest } = splitCommand(argv, valued);
  if (name === undefined) {
    if (rest.includes('--version') || rest.includes('-V')) {
      process.stdout.write(`portico ${version()}\n`);
      return 0;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(mainHelp());
      return 0;
    }
    throw new UsageError(rest.length ? `unknown option '${rest[0]}'` : 'missing command');
  }
  if (name === 'help') {
    const topic = ENTRIES.find((e) => e.name === rest[0]);
    process.stdout.write(!topic ? mainHelp() : isGroup(topic) ? groupHelp(topic) : commandHelp(topic));
    return 0;
  }
  if (name === 'version') {
    process.stdout.write(`portico ${version()}\n`);
    return 0;
  }
  const entry = ENTRIES.find((e) => e.name === name);
  if (!entry) throw new UsageError(`unknown command '${name}'`);
  if (entry === sandboxCommand) return runSandbox(rest);
  return isGroup(entry) ? runGroup(entry, rest) : runCommand(entry, rest);
}

// A closed pipe (`portico orgs list | head -1`) ends the output, not the program with a trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      const hint = err.command ? `portico ${err.command} --help` : 'portico --help';
      process.stderr.write(`portico: ${oneLine(err.message)} (see '${hint}')\n`);
      process.exitCode = 2;
    } else if (err instanceof CliError) {
      process.stderr.write(`portico: ${oneLine(err.message)}\n`);
      process.exitCode = err.exitCode;
    } else {
      const e = err as Error;
      process.stderr.write(`portico: ${oneLine(e?.message ?? String(err))}\n`);
      if (process.env.PORTICO_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
      process.exitCode = 1;
    }
  },
);
