// startSandbox: one server per built-in service, in catalog order from `port`.
import { fileURLToPath } from 'node:url';
import { loadAudioLibrary, type AudioLibrary } from './audio/library.ts';
import { createElevenLabs } from './elevenlabs/index.ts';
import { createHeyGen } from './heygen/index.ts';
import { loadMedia, mediaRoutes, type MediaFiles } from './media.ts';
import type { Provider, ProviderEnv } from './provider.ts';
import { sandboxRoutes } from './sandbox-routes.ts';
import { createServiceServer, type ServiceServer } from './server.ts';

export interface SandboxOptions {
  /** First port; `elevenlabs` listens on it, `heygen` on port + 1. 0 or absent: ephemeral ports. */
  port?: number;
  /** Listen address, default 127.0.0.1. */
  host?: string;
  /** Time a video/dubbing/translation job takes to complete, default 5000 ms. */
  videoJobMs?: number;
  /** Pause between streamed chunks, default 20 ms (env PORTICO_SANDBOX_PACE_MS; per request X-Sandbox-Pace-Ms). */
  paceMs?: number;
}

export interface SandboxService {
  slug: string;
  url: string;
  port: number;
}

export interface Sandbox {
  services: SandboxService[];
  close(): Promise<void>;
}

/** Built-in services in catalog order: the port order of `portico sandbox --port N`. */
const PROVIDERS: ((env: ProviderEnv) => Provider)[] = [createElevenLabs, createHeyGen];

export const DEFAULT_VIDEO_JOB_MS = 5000;
export const DEFAULT_PACE_MS = 20;

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
// Fixtures and rendered audio are shared by every sandbox of the process (they never change).
let shared: { audio: AudioLibrary; media: MediaFiles } | null = null;

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** What a client should dial: wildcard listen addresses are reached through loopback. */
function dialHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const host = opts.host ?? '127.0.0.1';
  const base = opts.port ?? 0;
  if (!Number.isInteger(base) || base < 0 || base + PROVIDERS.length - 1 > 65535) {
    throw new Error(`invalid sandbox port ${base}`);
  }
  shared ??= { audio: loadAudioLibrary(FIXTURES), media: loadMedia(FIXTURES) };
  const env: ProviderEnv = {
    videoJobMs: opts.videoJobMs ?? envNumber('PORTICO_SANDBOX_VIDEO_JOB_MS') ?? DEFAULT_VIDEO_JOB_MS,
    audio: shared.audio,
    media: shared.media,
  };
  const paceMs = opts.paceMs ?? envNumber('PORTICO_SANDBOX_PACE_MS') ?? DEFAULT_PACE_MS;

  const servers: ServiceServer[] = [];
  const services: SandboxService[] = [];
  try {
    for (const [i, make] of PROVIDERS.entries()) {
      const provider = make(env);
      const server = createServiceServer(provider, [...sandboxRoutes(), ...mediaRoutes(env.media)], paceMs);
      servers.push(server);
      let port: number;
      try {
        port = await server.listen(base === 0 ? 0 : base + i, host);
      } catch (e) {
        throw new Error(`sandbox ${provider.slug}: cannot listen on ${host}:${base === 0 ? 0 : base + i}: ${(e as Error).message}`);
      }
      services.push({ slug: provider.slug, url: `http://${dialHost(host)}:${port}`, port });
    }
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()));
    throw e;
  }
  let closed: Promise<void> | null = null;
  return {
    services,
    close: () => (closed ??= Promise.all(servers.map((s) => s.close())).then(() => undefined)),
  };
}
