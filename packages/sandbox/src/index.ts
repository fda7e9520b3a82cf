// @portico/sandbox: local fakes of the built-in services (SPEC §10).
export { startSandbox, DEFAULT_PACE_MS, DEFAULT_VIDEO_JOB_MS } from './sandbox.ts';
export type { Sandbox, SandboxOptions, SandboxService } from './sandbox.ts';
export { runSandboxCli, parseSandboxArgs, SANDBOX_HELP, DEFAULT_CLI_PORT } from './cli.ts';
export { FIXTURE_IDS } from './fixtures.ts';
