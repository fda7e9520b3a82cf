// Process entry points used by the CLI: `serve`, `migrate`. They read the environment once,
// print one line and exit 1 on a configuration error, and shut down gracefully on signals.
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './logger.ts';
import { createGateway } from './server.ts';
import { openStore } from './store/db.ts';
import { migrate } from './store/migrations.ts';
import { CatalogError } from './catalog/load.ts';
import cluster, { type Worker } from 'node:cluster';
import { CLUSTER_BUS_FIELD } from './state/cluster-bus.ts';

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
  // `--workers N` / PORTICO_WORKERS: this process becomes the node:cluster primary.
  if (config.workers > 1 && cluster.isPrimary) return runWorkers(config, env);
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

/**
 * The node:cluster primary of `serve --workers N`: applies migrations once, forks N workers that
 * each run `serve` on the shared port, relays the workers' state messages to one another (used
 * without Redis on SQLite), replaces a worker that dies, and stops them all on SIGTERM/SIGINT.
 */
async function runWorkers(config: Config, env: NodeJS.ProcessEnv): Promise<void> {
  const log = createLogger(config.logLevel);
  for (const notice of config.notices) log.warn(notice);
  try {
    await runMigrations(env);
  } catch (err) {
    process.stderr.write(`portico: start-up failed: ${(err as Error).message}\n`);
    log.flush?.();
    process.exit(1);
  }
  const workers = new Set<Worker>();
  let stopping = false;
  let exitStatus = 0;
  const fork = () => {
    const worker = cluster.fork(env);
    let listening = false;
    workers.add(worker);
    worker.on('listening', () => (listening = true));
    worker.on('message', (m: unknown) => {
      if (typeof m !== 'object' || m === null || !(CLUSTER_BUS_FIELD in m)) return;
      for (const other of workers) if (other !== worker && other.isConnected()) other.send(m);
    });
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      if (stopping) {
        if (workers.size === 0) process.exit(exitStatus);
        return;
      }
      if (!listening) {
        // It failed to start (its reason is on stderr): so would the next one.
        log.error({ pid: worker.process.pid, code }, 'worker failed to start; stopping');
        stop('worker start-up failure', 1);
        return;
      }
      log.error({ pid: worker.process.pid, code, signal }, 'worker exited; starting a new one');
      setTimeout(() => {
        if (!stopping) fork();
      }, 1000).unref();
    });
  };
  const stop = (reason: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    exitStatus = exitCode;
    log.info({ reason }, 'stopping workers');
    if (workers.size === 0) process.exit(exitCode);
    for (const w of workers) w.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  for (let i = 0; i < config.workers; i++) fork();
  log.info({ workers: config.workers, pid: process.pid }, `portico primary started ${config.workers} workers`);
}
