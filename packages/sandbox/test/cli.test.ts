// runSandboxCli / `node src/main.ts`: argument parsing, one line per service, clean stop on
// SIGTERM; startSandbox port order.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseSandboxArgs, startSandbox } from '../src/index.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('parseSandboxArgs', () => {
  test('defaults to port 9100', () => {
    assert.deepEqual(parseSandboxArgs([]), { port: 9100 });
  });
  test('--port N, --port=N, --host, --video-job-ms, --pace-ms', () => {
    assert.deepEqual(parseSandboxArgs(['--port', '0', '--host=0.0.0.0', '--video-job-ms', '100', '--pace-ms=0']), {
      port: 0,
      host: '0.0.0.0',
      videoJobMs: 100,
      paceMs: 0,
    });
  });
  test('--help / -h → null', () => {
    assert.equal(parseSandboxArgs(['--help']), null);
    assert.equal(parseSandboxArgs(['-h']), null);
  });
  test('bad input → an error naming the option', () => {
    assert.throws(() => parseSandboxArgs(['--port', 'abc']), /--port/);
    assert.throws(() => parseSandboxArgs(['--port']), /--port/);
    assert.throws(() => parseSandboxArgs(['--frobnicate']), /unknown option --frobnicate/);
  });
});

describe('startSandbox ports', () => {
  test('elevenlabs on port, heygen on port + 1, at the root path', async () => {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      try {
        const sb = await startSandbox({ port });
        try {
          assert.deepEqual(
            sb.services.map((x) => [x.slug, x.port, x.url]),
            [
              ['elevenlabs', port, `http://127.0.0.1:${port}`],
              ['heygen', port + 1, `http://127.0.0.1:${port + 1}`],
            ],
          );
          const r = await fetch(`${sb.services[0]!.url}/v1/voices`, { headers: { 'xi-api-key': 'sandbox_k' } });
          assert.equal(r.status, 200);
          await r.arrayBuffer();
        } finally {
          await sb.close();
        }
        return;
      } catch (e) {
        lastError = e;
        if (!/cannot listen/.test(String(e))) throw e;
      }
    }
    throw lastError;
  });

  test('port 0 → an ephemeral port for each service', async () => {
    const sb = await startSandbox();
    try {
      const [a, b] = sb.services;
      assert.ok(a!.port > 0 && b!.port > 0 && a!.port !== b!.port);
    } finally {
      await sb.close();
    }
  });

  test('a taken port → a clear error, nothing left listening', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(startSandbox({ port: port - 1 }), /heygen: cannot listen|elevenlabs: cannot listen/);
    } finally {
      blocker.close();
    }
  });
});

describe('the command', () => {
  test('prints "<slug> http://127.0.0.1:<port>" per service, serves, exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    const lines = await new Promise<string[]>((resolve, reject) => {
      child.stdout.on('data', (d: string) => {
        out += d;
        const l = out.split('\n').filter(Boolean);
        if (l.length >= 2) resolve(l);
      });
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^elevenlabs http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(lines[1]!, /^heygen http:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetch(`${lines[1]!.split(' ')[1]}/v3/voices`, { headers: { 'x-api-key': 'sandbox_k' } });
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
    assert.equal(out.split('\n').filter(Boolean).length, 2, 'nothing else on stdout');
  });

  test('--help prints the usage and exits 0; a bad option exits 1 with one line', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const c = spawn(process.execPath, [MAIN, ...args]);
        let o = '';
        let e = '';
        c.stdout.on('data', (d) => (o += d));
        c.stderr.on('data', (d) => (e += d));
        c.on('exit', (code) => resolve({ code, out: o, err: e }));
      });
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /Usage: portico sandbox/);
    const bad = await run(['--nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /unknown option --nope/);
  });
});
