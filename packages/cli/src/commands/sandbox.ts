// `portico sandbox`: local fakes of every built-in provider (SPEC §10). The sandbox package
// owns the options and the help text; this only maps its argument errors to usage errors.
import type { Command } from '../lib/command.ts';
import { UsageError } from '../lib/errors.ts';

export const sandboxCommand: Command = {
  name: 'sandbox',
  summary: 'Serve local fakes of every built-in service (elevenlabs on --port N, heygen on N+1).',
  options: {
    port: { type: 'string', value: 'N', help: 'first port (0 = any free ports)' },
  },
  async run() {
    // Not used: main.ts hands the arguments to runSandbox.
  },
};

export async function runSandbox(argv: string[]): Promise<number> {
  const { parseSandboxArgs, runSandboxCli } = await import('@portico/sandbox');
  try {
    parseSandboxArgs(argv);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/ \(see --help\)$/, ''), 'sandbox');
  }
  await runSandboxCli(argv);
  return 0;
}
