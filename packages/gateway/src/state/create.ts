// Which SharedState a gateway process gets (SPEC §13 scale-out):
//   PORTICO_REDIS_URL set      → Redis: limits, leases, idempotency, cool-downs, invalidation shared;
//   PostgreSQL without Redis   → limits per process; invalidation and cool-downs over LISTEN/NOTIFY;
//   a `--workers` worker on SQLite → limits per worker; invalidation and cool-downs over cluster IPC;
//   otherwise                  → one process, in memory.
// Without Redis, idempotency records live in the database table `idempotency`.
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Store } from '../store/db.ts';
import type { SharedState } from './index.ts';
import { BusState, LocalBus, type Bus } from './bus.ts';
import { ClusterBus } from './cluster-bus.ts';
import { DbIdempotency } from './db-idempotency.ts';
import { MemoryLimits } from './memory.ts';
import { PgNotifyBus } from './pg-notify.ts';
import { RedisState } from './redis.ts';

export async function createState(config: Config, store: Store, log: Logger): Promise<SharedState> {
  const idempotency = new DbIdempotency(store, config.leaseMs);
  if (config.redisUrl) {
    return RedisState.connect({ url: config.redisUrl, prefix: config.redisPrefix, leaseMs: config.leaseMs, log, fallbackIdempotency: idempotency });
  }
  let bus: Bus;
  if (store.kind === 'postgres' && store.pgPool) bus = await PgNotifyBus.start(store.pgPool, store.pgSchema, log);
  else if (cluster.isWorker) bus = new ClusterBus();
  else bus = new LocalBus();
  return new BusState(bus, new MemoryLimits(), idempotency);
}
