// SPEC §5: binary bodies are never buffered whole. 1 GB through a gateway process must grow
// its resident memory by less than 64 MB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, MASTER_KEY, startGateway } from './helpers.ts';
import { seedCredential, seedKey, seedOrg, startStub } from './fixtures.ts';

const GB = 1024 * 1024 * 1024;
// `npm start` runs the gateway with no Node flags; MEMFLAGS adds some for experiments. Memory
// stays bounded by proxy/dispatch.ts asking for a young-generation GC every 16 MiB relayed.
const SERVE_FLAGS = '';

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

test('1 GB binary relay grows the gateway RSS by less than 64 MB', { timeout: 120_000 }, async () => {
  const chunk = Buffer.alloc(1024 * 1024, 0x5a);
  const stub = await startStub(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(GB) });
    for (let sent = 0; sent < GB; sent += chunk.length) {
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  });
  const dir = mkdtempSync(join(tmpdir(), 'portico-mem-'));
  const env = {
    PORTICO_DATABASE_URL: `sqlite:${join(dir, 'p.db')}`,
    PORTICO_ADMIN_TOKEN: ADMIN_TOKEN,
    PORTICO_MASTER_KEY: MASTER_KEY,
    PORTICO_BASE_URL_ELEVENLABS: stub.url,
    PORTICO_LOG_LEVEL: 'warn',
  };
  // Seed the database in-process, then run the gateway as its own process on the same file.
  const seeder = await startGateway({ env });
  await seedOrg(seeder, 'acme');
  const key = await seedKey(seeder, 'acme');
  await seedCredential(seeder, { service: 'elevenlabs', scope: 'platform', key: 'sandbox_mem_key' });
  await seeder.gateway.close();

  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [...(process.env.MEMFLAGS ?? SERVE_FLAGS).split(' ').filter(Boolean), join(import.meta.dirname, 'serve-entry.ts')], {
    env: { ...process.env, ...env, PORTICO_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(url + '/readyz').then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Warm up the path once so start-up allocations are not counted as growth.
    const call = () =>
      fetch(url + '/api/v1/external-proxy/elevenlabs/get-history-audio', {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ path_params: { history_item_id: 'h' } }),
      });
    const start = rssOf(child.pid!);
    let peak = start;
    const samples: number[] = [];
    const sampler = setInterval(() => {
      const now = rssOf(child.pid!);
      samples.push(Math.round(now / 2 ** 20));
      peak = Math.max(peak, now);
    }, 50);
    const res = await call();
    assert.equal(res.status, 200);
    let received = 0;
    const began = performance.now();
    for await (const part of res.body as unknown as AsyncIterable<Uint8Array>) received += part.byteLength;
    const seconds = (performance.now() - began) / 1000;
    clearInterval(sampler);
    if (process.env.MEMTRACE) console.log('# samples', samples.join(' '));
    assert.equal(received, GB);
    const growth = peak - start;
    console.log(
      `# 1 GB relayed in ${seconds.toFixed(1)} s (${(1024 / seconds).toFixed(0)} MB/s); RSS ${(start / 2 ** 20).toFixed(0)} → peak ${(peak / 2 ** 20).toFixed(0)} MB (+${(growth / 2 ** 20).toFixed(1)} MB)`,
    );
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MB`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await stub.close();
  }
});
