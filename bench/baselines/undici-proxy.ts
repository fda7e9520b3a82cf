// Baseline (b): the smallest reasonable Node reverse proxy. node:http server, one undici Pool
// to the upstream, `Pool.stream()` writing the upstream answer straight into the response,
// hop-by-hop headers dropped, the provider key injected. This is the floor a Node gateway's
// relay path can reach; Portico's overhead is measured against it.
// Usage: BENCH_UPSTREAM=http://127.0.0.1:PORT node bench/baselines/undici-proxy.ts [port]
// Prints `listening <port>` once ready.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';

const upstream = process.env.BENCH_UPSTREAM;
if (!upstream) throw new Error('BENCH_UPSTREAM is required');
const KEY = process.env.BENCH_KEY ?? 'sandbox_bench_key';
const pool = new Pool(upstream, { connections: 128, keepAliveTimeout: 30_000 });
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

const server = createServer((req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const name in req.headers) if (!HOP.has(name)) headers[name] = req.headers[name]!;
  headers['xi-api-key'] = KEY;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  pool.stream(
    { path: req.url!, method: req.method as Dispatcher.HttpMethod, headers, body: hasBody ? req : null },
    ({ statusCode, headers: up }) => {
      const out: Record<string, string | string[]> = {};
      for (const name in up) if (!HOP.has(name) && up[name] !== undefined) out[name] = up[name]!;
      res.writeHead(statusCode, out);
      return res;
    },
    (err) => {
      if (!err) return;
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway');
      } else res.destroy(err);
    },
  );
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
const stop = (): void => {
  server.closeAllConnections();
  server.close(() => void pool.close().finally(() => process.exit(0)));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
