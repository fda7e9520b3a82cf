// PostgreSQL without Redis: admin changes and cool-downs reach the other processes through
// LISTEN/NOTIFY on a channel per schema. One dedicated connection listens; it reconnects after
// a failure and then drops every cache (messages may have been missed in between).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Bus, BusMessage } from './bus.ts';

type Wire = BusMessage & { o: string };

export class PgNotifyBus implements Bus {
  private readonly pool: pg.Pool;
  private readonly channel: string;
  private readonly log: Logger;
  private readonly origin = randomBytes(8).toString('hex');
  private readonly listeners: ((msg: BusMessage) => void)[] = [];
  private client: pg.Client | null = null;
  private retry: NodeJS.Timeout | null = null;
  private connected = false;
  private down = false;
  private closed = false;

  private constructor(pool: pg.Pool, schema: string | null, log: Logger) {
    this.pool = pool;
    this.channel = `portico_${schema ?? 'public'}`;
    this.log = log;
  }

  static async start(pool: pg.Pool, schema: string | null, log: Logger): Promise<PgNotifyBus> {
    const bus = new PgNotifyBus(pool, schema, log);
    await bus.connect();
    return bus;
  }

  private async connect(): Promise<void> {
    this.retry = null;
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.pool.options.connectionString, connectionTimeoutMillis: 5000 });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (n) => {
      if (n.channel !== this.channel || !n.payload) return;
      let msg: Wire;
      try {
        msg = JSON.parse(n.payload) as Wire;
      } catch {
        return;
      }
      if (msg.o !== this.origin) this.emit(msg);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel}"`);
    } catch (err) {
      client.end().catch(() => {});
      this.lost(null, err as Error);
      return;
    }
    if (this.closed) {
      client.end().catch(() => {});
      return;
    }
    this.client = client;
    const again = this.connected;
    this.connected = true;
    if (this.down) {
      this.down = false;
      this.log.info('postgres notifications resumed');
    }
    if (again) this.emit({ t: 'resync' });
  }

  private lost(client: pg.Client | null, err?: Error): void {
    if (this.closed || (client !== null && client !== this.client)) return;
    this.client = null;
    if (!this.down) {
      this.down = true;
      this.log.warn({ err: err?.message }, 'postgres notifications unavailable: admin changes in other processes are seen after reconnecting');
    }
    this.retry ??= setTimeout(() => void this.connect(), 1000);
    this.retry.unref();
  }

  private emit(msg: BusMessage): void {
    for (const l of this.listeners) l(msg);
  }

  publish(msg: BusMessage): void {
    this.pool.query('select pg_notify($1, $2)', [this.channel, JSON.stringify({ ...msg, o: this.origin })]).catch(() => {});
  }

  onMessage(listener: (msg: BusMessage) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }
}
