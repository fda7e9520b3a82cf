// Starts Portico for the benchmark when the CLI (`node packages/cli/src/main.ts serve`) is not
// there yet: the same `serve(process.env)` entry point the CLI calls, with the same PORTICO_* env.
//
// With BENCH_PORTICO_SEED=1 (used only when the admin API cannot bootstrap the gateway), it
// starts the gateway in-process instead, seeds an organization, an admin API key and a platform
// ElevenLabs credential with the gateway tests' fixtures, and prints `seeded <json>` once
// listening. The harness says in its results which way Portico was started and bootstrapped.
import { serve } from '../packages/gateway/src/index.ts';

if (process.env.BENCH_PORTICO_SEED === '1') {
  const { loadConfig, createGateway } = await import('../packages/gateway/src/index.ts');
  const { seedOrg, seedKey, seedCredential } = await import('../packages/gateway/test/fixtures.ts');
  const config = loadConfig(process.env);
  const gateway = await createGateway(config);
  const url = await gateway.listen();
  // The fixtures only use `.gateway` of a test gateway.
  const gw = { gateway } as unknown as Parameters<typeof seedOrg>[0];
  const org = process.env.BENCH_ORG ?? 'bench';
  await seedOrg(gw, org);
  const key = await seedKey(gw, org, 'admin');
  await seedCredential(gw, { service: 'elevenlabs', scope: 'platform', key: process.env.BENCH_KEY ?? 'sandbox_bench_key' });
  process.stdout.write(`seeded ${JSON.stringify({ url, key })}\n`);
  const stop = (): void =>
    void gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  await serve(process.env);
}
