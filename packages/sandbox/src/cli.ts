// `portico sandbox` / `npm run sandbox`: start the fakes, print one line per service, stay up
// until SIGINT or SIGTERM.
import { DEFAULT_PACE_MS, DEFAULT_VIDEO_JOB_MS, startSandbox, type SandboxOptions } from './sandbox.ts';
import { FAULT_HELP } from './faults.ts';

export const DEFAULT_CLI_PORT = 9100;

export const SANDBOX_HELP = `Usage: portico sandbox [--port N] [--host H] [--video-job-ms N] [--pace-ms N]

Serves local fakes of the built-in services, each on its own port from N:
  elevenlabs on N, heygen on N+1 (default N = ${DEFAULT_CLI_PORT}; 0 = any free ports)
and prints one line per service: "<slug> http://127.0.0.1:<port>".

Options:
  --port N          first port (default ${DEFAULT_CLI_PORT})
  --host H          listen address (default 127.0.0.1)
  --video-job-ms N  time for a video job to complete (default ${DEFAULT_VIDEO_JOB_MS})
  --pace-ms N       pause between streamed audio chunks (default ${DEFAULT_PACE_MS}; 0 = none)
  -h, --help        this text

Keys: any key starting with "sandbox_" is valid (xi-api-key / X-Api-Key).
Faults: X-Sandbox-Fault or ?sandbox_fault= one of ${FAULT_HELP}.
Also: X-Sandbox-Delay-Ms, X-Sandbox-Pace-Ms, X-Sandbox-Retry-After, X-Sandbox-Job: fail;
GET /sandbox/bytes?size=N, ANY /sandbox/echo. See packages/sandbox/README.md.`;

function intArg(name: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined || !/^\d+$/.test(raw)) throw new Error(`${name} needs a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`${name} must be between ${min} and ${max}`);
  return n;
}

/** Parses the arguments after `sandbox`; null means --help was asked for. */
export function parseSandboxArgs(argv: string[]): SandboxOptions | null {
  const opts: SandboxOptions = { port: DEFAULT_CLI_PORT };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined => (eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : argv[++i]);
    switch (name) {
      case '-h':
      case '--help':
        return null;
      case '--port':
        opts.port = intArg('--port', value(), 0, 65534);
        break;
      case '--host': {
        const h = value();
        if (!h) throw new Error('--host needs an address');
        opts.host = h;
        break;
      }
      case '--video-job-ms':
        opts.videoJobMs = intArg('--video-job-ms', value(), 0, 3_600_000);
        break;
      case '--pace-ms':
        opts.paceMs = intArg('--pace-ms', value(), 0, 10_000);
        break;
      default:
        throw new Error(`unknown option ${arg} (see --help)`);
    }
  }
  return opts;
}

export async function runSandboxCli(argv: string[]): Promise<void> {
  const opts = parseSandboxArgs(argv);
  if (!opts) {
    process.stdout.write(`${SANDBOX_HELP}\n`);
    return;
  }
  const sandbox = await startSandbox(opts);
  for (const s of sandbox.services) process.stdout.write(`${s.slug} ${s.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await sandbox.close();
}
