// Test set-up for the admin panel: a built panel, a real gateway (the gateway's own harness) with
// the sandbox upstreams, and a real headless Chromium driven by playwright-core.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startSandbox, type Sandbox } from '../../sandbox/src/index.ts';
import { startGateway, type TestGateway } from '../../gateway/test/helpers.ts';

export const PANEL_DIR = fileURLToPath(new URL('..', import.meta.url));
export const DIST_DIR = join(PANEL_DIR, 'dist');
export const REPO_DIR = fileURLToPath(new URL('../../..', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Builds the panel when dist/ is missing or older than its sources (`npm test` has already built
 * it; this covers running one test file directly).
 */
export function ensureBuilt(): void {
  const index = join(DIST_DIR, 'index.html');
  const sources = Math.max(
    newest(join(PANEL_DIR, 'src')),
    statSync(join(PANEL_DIR, 'index.html')).mtimeMs,
    statSync(join(PANEL_DIR, 'vite.config.ts')).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const r = spawnSync(process.execPath, [join(REPO_DIR, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: PANEL_DIR, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status})`);
}

/** Debian's chromium, installed with apt-get when absent (never a tool's own browser download). */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  }
  if (r.status !== 0 || !existsSync(CHROMIUM)) throw new Error('could not install chromium with apt-get');
}

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

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A fresh Chromium profile (its own user-data-dir, removed on close). */
export async function launchBrowser(opts: { viewport?: { width: number; height: number } } = {}): Promise<Browser> {
  ensureChromium();
  const userDataDir = mkdtempSync(join(tmpdir(), 'portico-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: opts.viewport ?? { width: 1280, height: 860 },
    colorScheme: 'light',
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface Stack {
  gw: TestGateway;
  sandbox: Sandbox;
  /** Base URL of the panel, e.g. http://127.0.0.1:PORT/admin */
  panel: string;
  close(): Promise<void>;
}

/** The sandbox upstreams and a gateway pointed at them. */
export async function startStack(): Promise<Stack> {
  const sandbox = await startSandbox({ port: 0 });
  const env: Record<string, string> = {};
  for (const s of sandbox.services) env[`PORTICO_BASE_URL_${s.slug.toUpperCase().replace(/-/g, '_')}`] = s.url;
  let gw: TestGateway;
  try {
    gw = await startGateway({ env });
  } catch (err) {
    await sandbox.close();
    throw err;
  }
  return {
    gw,
    sandbox,
    panel: `${gw.url}/admin`,
    async close() {
      await gw.close();
      await sandbox.close();
    },
  };
}

/** The `portico_session` cookie of a Set-Cookie header and its attributes. */
export function parseSetCookie(header: string | null): { value: string; attrs: Map<string, string> } | null {
  if (!header) return null;
  const [first, ...rest] = header.split(';').map((s) => s.trim());
  const eq = first!.indexOf('=');
  if (first!.slice(0, eq) !== 'portico_session') return null;
  const attrs = new Map<string, string>();
  for (const a of rest) {
    const i = a.indexOf('=');
    attrs.set((i < 0 ? a : a.slice(0, i)).toLowerCase(), i < 0 ? '' : a.slice(i + 1));
  }
  return { value: first!.slice(eq + 1), attrs };
}
