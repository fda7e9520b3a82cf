// `portico serve --workers N` without Redis and on SQLite: workers tell each other about admin
// changes and cool-downs through the cluster primary, which relays every message to the other
// workers (main.ts). Limits stay per worker in that setup.
import type { Bus, BusMessage } from './bus.ts';

export const CLUSTER_BUS_FIELD = 'porticoBus';

export class ClusterBus implements Bus {
  private readonly handler: (m: unknown) => void;
  private listener: ((msg: BusMessage) => void) | null = null;

  constructor() {
    this.handler = (m) => {
      if (typeof m === 'object' && m !== null && CLUSTER_BUS_FIELD in m) this.listener?.((m as Record<string, BusMessage>)[CLUSTER_BUS_FIELD]!);
    };
    process.on('message', this.handler);
  }

  publish(msg: BusMessage): void {
    if (process.connected) process.send?.({ [CLUSTER_BUS_FIELD]: msg });
  }

  onMessage(listener: (msg: BusMessage) => void): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    process.off('message', this.handler);
  }
}
