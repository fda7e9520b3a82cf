// Process entry points used by the CLI: `serve`, `migrate`. They read the environment once,
// print one line and exit 1 on a configuration error, and shut down gracefully on signals.
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './logger.ts';
import { createGateway } from './server.ts';
import { openStore } from './store/db.ts';
import { migrate } from './store/migrations.ts';
import { CatalogError } from './catalog/load.ts';

function configOrExit(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`portico: invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

export async function serve(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = configOrExit(env);
  const log = createLogger(config.logLevel);
  for (const notice of config.notices) log.warn(notice);
  let gateway;
  try {
    gateway = await createGateway(config, { logger: log });
  } catch (err) {
    const reason = err instanceof CatalogError ? `invalid catalog: ${err.message}` : `start-up failed: ${(err as Error).message}`;
    process.stderr.write(`portico: ${reason}\n`);
    log.flush?.();
    process.exit(1);
  }
  const url = await gateway.listen();
  log.info({ url, database: config.database.kind }, `portico listening on ${url}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export async function runMigrations(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const config = configOrExit(env);
  const store = openStore(config.database);
  try {
    return await migrate(store);
  } finally {
    await store.close();
  }
}
