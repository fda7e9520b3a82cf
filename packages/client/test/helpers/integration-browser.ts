// Browser test set-up: Debian's Chromium (installed with apt when absent, never a tool's own
// download), the SDK's built `dist/`, and a small page server on its own origin.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLIENT = join(ROOT, 'packages/client');
export const DIST = join(CLIENT, 'dist');

function run(cmd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, timeout: timeoutMs, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ ok: !err, output: `${stdout}${stderr}${err && !stderr ? String(err) : ''}`.trim() });
    });
  });
}

function lastLines(text: string, n = 3): string {
  return text.split('\n').filter(Boolean).slice(-n).join(' | ');
}

/**
 * Makes sure /usr/bin/chromium exists, installing Debian's package with apt when it does not.
 * Resolves to null when Chromium is there, else to the reason to skip (printed once).
 */
export async function ensureChromium(): Promise<string | null> {
  if (existsSync(CHROMIUM)) return null;
  let reason: string;
  if (process.platform !== 'linux' || typeof process.getuid !== 'function' || process.getuid() !== 0) {
    reason = `${CHROMIUM} is absent and installing it needs root on Debian (apt-get install -y chromium)`;
  } else {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    console.log(`# ${CHROMIUM} absent: apt-get install -y chromium`);
    let r = await run('apt-get', ['install', '-y', 'chromium'], 600_000, env);
    if (!r.ok) {
      // A fresh image has no package lists yet.
      const update = await run('apt-get', ['update'], 300_000, env);
      if (update.ok) r = await run('apt-get', ['install', '-y', 'chromium'], 600_000, env);
    }
    reason = r.ok && existsSync(CHROMIUM) ? '' : `apt-get install -y chromium failed: ${lastLines(r.output)}`;
  }
  if (!reason) return null;
  console.log(`# skipping browser tests: ${reason}`);
  return reason;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds the SDK into packages/client/dist when it is missing or older than src/. */
export async function ensureDist(): Promise<void> {
  const entry = join(DIST, 'index.js');
  if (existsSync(entry) && statSync(entry).mtimeMs >= newestMtime(join(CLIENT, 'src'))) return;
  console.log(`# building the SDK: tsc -p packages/client/tsconfig.build.json`);
  const r = await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', join(CLIENT, 'tsconfig.build.json')], 120_000);
  if (!r.ok || !existsSync(entry)) throw new Error(`building the SDK failed: ${r.output}`);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
};

export const TEST_PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Portico SDK browser test</title>
<audio id="player" preload="auto"></audio>
<script type="module">
  import { ExternalProxyClient, ProxyError } from './dist/index.js';
  window.Portico = { ExternalProxyClient, ProxyError };
  window.porticoReady = true;
</script>
</html>
`;

export interface PageServer {
  url: string;
  origin: string;
  close(): Promise<void>;
}

/** Serves the test page at `/` and the built SDK under `/dist/`, on 127.0.0.1 and its own port. */
export async function startPageServer(html: string = TEST_PAGE): Promise<PageServer> {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    try {
      if (path === '/' || path === '/index.html') {
        res.writeHead(200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-store' }).end(html);
        return;
      }
      if (path.startsWith('/dist/')) {
        const file = normalize(join(DIST, path.slice('/dist/'.length)));
        if (file.startsWith(DIST + sep)) {
          const body = await readFile(file);
          res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
          return;
        }
      }
    } catch {
      // fall through to 404
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
