// Fixed-cost stub upstream for the benchmarks, run in its own process (pinned to core 1 by the
// harness). It answers the ElevenLabs paths the scenarios use with precomputed bodies, so every
// proxy in front of it is measured against the same, constant upstream cost:
//
//   GET  /v1/voices                          2 KiB JSON
//   POST /v1/text-to-speech/{voice}          64 KiB audio/mpeg (request body read first)
//   POST /v1/text-to-speech/{voice}/stream   chunked audio: 16 × 4 KiB, paced by X-Sandbox-Pace-Ms
//                                            (default 2 ms; 0 = back to back), X-Bench-Chunks
//                                            overrides the count, X-Bench-First-Byte-Ms delays
//                                            the first chunk (default 0)
//   GET  /v1/history/bench-5mb/audio         5 MiB binary, one precomputed buffer
//   GET  /v1/history/bytes-N/audio           N bytes streamed in 1 MiB writes with back-pressure
//   any request with X-Sandbox-Fault: 429    ElevenLabs-shaped 429 with Retry-After: 0
//
// A request needs `xi-api-key: sandbox_…` or `Authorization: Bearer sandbox_…` (the Portkey peer
// sends the latter), else 401: that checks that each proxy really injected the key.
// Usage: node bench/upstream.ts [port]; prints `listening <port>` once ready.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

function pseudoRandom(size: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

function voicesJson(target: number): Buffer {
  const voices: unknown[] = [];
  const names = ['Rachel', 'Drew', 'Clyde', 'Paul', 'Domi', 'Dave', 'Fin', 'Sarah'];
  for (let i = 0; voices.length < names.length; i++) {
    voices.push({
      voice_id: `bench${String(i).padStart(15, '0')}`,
      name: names[i],
      category: 'premade',
      labels: { accent: 'american', gender: i % 2 ? 'male' : 'female' },
      preview_url: `https://example.invalid/voices/${i}/preview.mp3`,
    });
  }
  const base = JSON.stringify({ voices, padding: '' });
  const pad = Math.max(0, target - base.length);
  return Buffer.from(JSON.stringify({ voices, padding: 'x'.repeat(pad) }));
}

const VOICES = voicesJson(2048);
const AUDIO_64K = pseudoRandom(64 * 1024, 7);
const BIN_5M = pseudoRandom(5 * 1024 * 1024, 11);
const CHUNK_1M = pseudoRandom(1024 * 1024, 13);
const STREAM_CHUNK = pseudoRandom(4 * 1024, 17);
const ERR_429 = Buffer.from(JSON.stringify({ detail: { status: 'too_many_concurrent_requests', message: 'Too many concurrent requests (bench stub).' } }));
const ERR_401 = Buffer.from(JSON.stringify({ detail: { status: 'invalid_api_key', message: 'Invalid API key' } }));
const ERR_404 = Buffer.from(JSON.stringify({ detail: { status: 'not_found', message: 'Not found (bench stub)' } }));

function keyOk(req: IncomingMessage): boolean {
  const k = req.headers['xi-api-key'];
  if (typeof k === 'string' && k.startsWith('sandbox_')) return true;
  const a = req.headers.authorization;
  return typeof a === 'string' && a.startsWith('Bearer sandbox_');
}

function send(res: ServerResponse, status: number, type: string, body: Buffer, extra?: Record<string, string>): void {
  res.writeHead(status, { 'content-type': type, 'content-length': body.length, ...extra });
  res.end(body);
}

function intHeader(req: IncomingMessage, name: string, def: number, max: number): number {
  const raw = req.headers[name];
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) return def;
  return Math.min(Number(raw), max);
}

function stream(req: IncomingMessage, res: ServerResponse): void {
  const pace = intHeader(req, 'x-sandbox-pace-ms', 2, 10_000);
  const chunks = intHeader(req, 'x-bench-chunks', 16, 100_000);
  const firstByte = intHeader(req, 'x-bench-first-byte-ms', 0, 60_000);
  res.writeHead(200, { 'content-type': 'audio/mpeg', 'transfer-encoding': 'chunked' });
  let sent = 0;
  let timer: NodeJS.Timeout | null = null;
  res.on('close', () => {
    if (timer) clearTimeout(timer);
  });
  const next = (): void => {
    timer = null;
    if (res.destroyed) return;
    if (pace === 0) {
      while (sent < chunks) {
        res.write(STREAM_CHUNK);
        sent++;
      }
      res.end();
      return;
    }
    res.write(STREAM_CHUNK);
    sent++;
    if (sent >= chunks) res.end();
    else timer = setTimeout(next, pace);
  };
  if (firstByte > 0) {
    res.flushHeaders();
    timer = setTimeout(next, firstByte);
  } else next();
}

function bulk(res: ServerResponse, size: number): void {
  res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': size });
  let left = size;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK_1M.length);
      left -= n;
      const ok = res.write(n === CHUNK_1M.length ? CHUNK_1M : CHUNK_1M.subarray(0, n));
      if (left === 0) {
        res.end();
        return;
      }
      if (!ok) {
        res.once('drain', pump);
        return;
      }
    }
  };
  res.on('close', () => {
    left = 0;
  });
  pump();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (!keyOk(req)) return send(res, 401, 'application/json', ERR_401);
  if (req.headers['x-sandbox-fault'] === '429') {
    return send(res, 429, 'application/json', ERR_429, { 'retry-after': '0' });
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (req.method === 'GET' && path === '/v1/voices') return send(res, 200, 'application/json', VOICES);
  if (req.method === 'POST' && path.startsWith('/v1/text-to-speech/')) {
    if (path.endsWith('/stream')) return stream(req, res);
    return send(res, 200, 'audio/mpeg', AUDIO_64K, { 'character-cost': '100' });
  }
  const m = /^\/v1\/history\/([^/]+)\/audio$/.exec(path);
  if (req.method === 'GET' && m) {
    if (m[1] === 'bench-5mb') return send(res, 200, 'audio/mpeg', BIN_5M);
    const b = /^bytes-(\d{1,13})$/.exec(m[1]!);
    if (b) return bulk(res, Number(b[1]));
  }
  return send(res, 404, 'application/json', ERR_404);
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (req.method === 'GET' || req.method === 'HEAD') {
    handle(req, res);
    req.resume();
    return;
  }
  // Read the whole request body first, as a real provider does before answering.
  req.on('data', () => {});
  req.on('end', () => handle(req, res));
});
server.headersTimeout = 0;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
const stop = (): void => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
