// `portico demo`: the whole product in one command. Starts the sandbox providers and a gateway
// on a throwaway SQLite file, creates an organization, a key and credentials through the admin
// API, then makes real calls through the gateway (voices, text-to-speech, a video job) and
// prints, for each, the equivalent curl and SDK line.
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { intOption, type Command } from '../lib/command.ts';
import { CliError, oneLine } from '../lib/errors.ts';
import { ADMIN, PROXY, api, ensureOk, send, type Connection } from '../lib/http.ts';
import { humanBytes, out, plural } from '../lib/output.ts';

const OUT_DIR = 'demo-output';
const VOICE_ID = 'JBFqnCBsd6RMkjVDRZzb';
/** Used when the avatar list is empty or shaped unexpectedly. */
const FALLBACK_AVATAR = 'Abigail_expressive_2024112501';
const FALLBACK_HEYGEN_VOICE = '1bd001e7e50f421d891986aad5158bc8';

interface Payload {
  path_params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

interface SandboxHandle {
  services: { slug: string; url: string; port: number }[];
  close(): Promise<void>;
}

interface GatewayHandle {
  listen(): Promise<string>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Printing the equivalent calls

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/.:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function curlLine(service: string, action: string, payload: Payload, output?: string): string {
  const body = JSON.stringify(payload);
  return (
    `curl -sS -X POST "$PORTICO_URL${PROXY}/${service}/${action}" -H "Authorization: Bearer $PORTICO_API_KEY" ` +
    `-H 'Content-Type: application/json' -d ${shellQuote(body)}${output ? ` -o ${shellQuote(output)}` : ''}`
  );
}

/** A JSON value as a JavaScript literal: bare keys when possible, single-quoted strings. */
export function jsLiteral(v: unknown): string {
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(jsLiteral).join(', ')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).map(([k, x]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : jsLiteral(k)}: ${jsLiteral(x)}`);
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  return JSON.stringify(v);
}

export function sdkLine(service: string, action: string, payload: Payload): string {
  return `await client.invoke('${service}', '${action}', ${jsLiteral(payload)})`;
}

// ---------------------------------------------------------------------------------------------

class Demo {
  private readonly tmp: string;
  private sandbox: SandboxHandle | null = null;
  private gateway: GatewayHandle | null = null;
  private closing: Promise<void> | null = null;
  step = 'starting';

  constructor() {
    this.tmp = mkdtempSync(join(tmpdir(), 'portico-demo-'));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.gateway?.close().catch(() => {});
      await this.sandbox?.close().catch(() => {});
      rmSync(this.tmp, { recursive: true, force: true });
    })();
    return this.closing;
  }

  async start(videoJobMs: number, gatewayPort: number): Promise<{ url: string; adminToken: string; sandbox: SandboxHandle }> {
    this.step = 'starting the sandbox';
    const { startSandbox } = await import('@portico/sandbox');
    const sandbox = (await startSandbox({ port: 0, videoJobMs })) as SandboxHandle;
    this.sandbox = sandbox;

    this.step = 'starting the gateway';
    const adminToken = 'ptc_admin_demo_' + randomBytes(18).toString('base64url');
    const env: NodeJS.ProcessEnv = {
      PORTICO_HOST: '127.0.0.1',
      PORTICO_PORT: String(gatewayPort),
      PORTICO_DATABASE_URL: `sqlite:${join(this.tmp, 'demo.db')}`,
      PORTICO_DATA_DIR: this.tmp,
      PORTICO_ADMIN_TOKEN: adminToken,
      PORTICO_MASTER_KEY: randomBytes(32).toString('base64'),
      PORTICO_LOG_LEVEL: process.env.PORTICO_LOG_LEVEL || 'error',
    };
    for (const s of sandbox.services) env[`PORTICO_BASE_URL_${s.slug.toUpperCase().replace(/-/g, '_')}`] = s.url;
    const { createGateway, loadConfig } = await import('@portico/gateway');
    const gateway = await createGateway(loadConfig(env, this.tmp));
    this.gateway = gateway;
    const url = await gateway.listen();
    return { url, adminToken, sandbox };
  }
}

function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new CliError(what);
}

/** The JSON answer; `source` is the credential the gateway used (X-Credential-Source). */
async function invokeJson(conn: Connection, service: string, action: string, payload: Payload): Promise<any> {
  const res = await ensureOk(await send(conn, 'POST', `${PROXY}/${service}/${action}`, { body: payload }));
  const data = await res.json();
  lastSource = res.headers.get('x-credential-source') ?? 'unknown';
  return data;
}

let lastSource = 'unknown';

async function invokeToFile(
  conn: Connection,
  service: string,
  action: string,
  payload: Payload,
  file: string,
): Promise<{ bytes: number; type: string | null }> {
  const res = await ensureOk(await send(conn, 'POST', `${PROXY}/${service}/${action}`, { body: payload }));
  check(res.body, `${service} ${action} answered without a body`);
  await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>), createWriteStream(file));
  return { bytes: statSync(file).size, type: res.headers.get('content-type') };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function show(n: number, service: string, action: string, payload: Payload, result: string, output?: string): void {
  out(`\n${n}. ${service} ${action}: ${result}`);
  out(`   curl: ${curlLine(service, action, payload, output)}`);
  out(`   SDK:  ${sdkLine(service, action, payload)}`);
}

async function runDemo(demo: Demo, once: boolean, fast: boolean, gatewayPort: number): Promise<void> {
  const videoJobMs = fast ? 1000 : 5000;
  const { url, adminToken, sandbox } = await demo.start(videoJobMs, gatewayPort);
  out('Portico demo');
  out(`  sandbox  ${sandbox.services.map((s) => `${s.slug} ${s.url}`).join(', ')}`);
  out(`  gateway  ${url} (throwaway SQLite database, removed on exit)`);

  const admin: Connection = { url, token: adminToken };

  demo.step = 'creating the demo organization';
  await api(admin, 'POST', `${ADMIN}/organizations`, { body: { slug: 'demo', name: 'Demo organization' } });
  out(`\n✓ organization demo`);

  demo.step = 'creating an API key';
  const key = await api<{ id: string; key: string }>(admin, 'POST', `${ADMIN}/organizations/demo/api-keys`, { body: { name: 'demo', role: 'admin' } });
  check(typeof key?.key === 'string', 'the gateway did not return the new API key');
  out(`✓ admin API key for demo (id ${key.id})`);

  demo.step = 'storing credentials';
  const platform = await api<{ masked: string }>(admin, 'POST', `${ADMIN}/credentials`, {
    body: { service: 'elevenlabs', scope: 'platform', label: 'sandbox platform key', secret: `sandbox_platform_key_${randomBytes(8).toString('hex')}` },
  });
  out(`✓ platform credential for elevenlabs (${platform.masked})`);
  const tenant = await api<{ masked: string }>(admin, 'POST', `${ADMIN}/credentials`, {
    body: { service: 'heygen', scope: 'tenant', organization: 'demo', label: 'sandbox tenant key', secret: `sandbox_demo_${randomBytes(8).toString('hex')}` },
  });
  out(`✓ tenant credential for heygen, organization demo (${tenant.masked})`);

  out(`\nThe calls below use these (the curl and SDK lines work as printed while the demo runs):`);
  out(`  export PORTICO_URL=${url}`);
  out(`  export PORTICO_API_KEY=${key.key}`);
  out(`  SDK setup: import { ExternalProxyClient } from '@portico/client';`);
  out(`             const client = new ExternalProxyClient({ baseUrl: process.env.PORTICO_URL, apiKey: process.env.PORTICO_API_KEY });`);

  const conn: Connection = { url, token: key.key };
  mkdirSync(OUT_DIR, { recursive: true });

  demo.step = 'elevenlabs list-voices';
  const voicesPayload: Payload = {};
  const voices = await invokeJson(conn, 'elevenlabs', 'list-voices', voicesPayload);
  check(Array.isArray(voices?.voices), 'elevenlabs list-voices answered without a voices list');
  show(1, 'elevenlabs', 'list-voices', voicesPayload, `${plural(voices.voices.length, 'voice')} (${lastSource} key)`);

  demo.step = 'elevenlabs text-to-speech';
  const ttsPayload: Payload = {
    path_params: { voice_id: VOICE_ID },
    body: { text: 'Hello from Portico! This audio came through the gateway.', model_id: 'eleven_multilingual_v2' },
  };
  const mp3 = join(OUT_DIR, 'hello.mp3');
  const tts = await invokeToFile(conn, 'elevenlabs', 'text-to-speech', ttsPayload, mp3);
  check(tts.bytes > 0, 'text-to-speech answered with an empty body');
  show(2, 'elevenlabs', 'text-to-speech', ttsPayload, `wrote ${mp3} (${humanBytes(tts.bytes)}, ${tts.type ?? 'unknown type'})`, 'hello.mp3');

  demo.step = 'heygen list-avatars';
  const avatarsPayload: Payload = { query: { limit: '1' } };
  const avatars = await invokeJson(conn, 'heygen', 'list-avatars', avatarsPayload);
  const look = Array.isArray(avatars?.data) ? avatars.data[0] : undefined;
  const avatarId: string = typeof look?.id === 'string' ? look.id : FALLBACK_AVATAR;
  const heygenVoice: string = typeof look?.default_voice_id === 'string' ? look.default_voice_id : FALLBACK_HEYGEN_VOICE;
  show(3, 'heygen', 'list-avatars', avatarsPayload, `avatar ${avatarId} (${lastSource} key)`);

  demo.step = 'heygen generate-video';
  const videoPayload: Payload = {
    body: {
      type: 'avatar',
      avatar_id: avatarId,
      voice_id: heygenVoice,
      script: 'Hello from Portico!',
      title: 'Portico demo',
      resolution: '720p',
      aspect_ratio: '16:9',
    },
  };
  const created = await invokeJson(conn, 'heygen', 'generate-video', videoPayload);
  const videoId = created?.data?.video_id;
  check(typeof videoId === 'string', 'heygen generate-video answered without data.video_id');
  show(4, 'heygen', 'generate-video', videoPayload, `video job ${videoId} started`);

  demo.step = 'heygen video-status';
  const statusPayload: Payload = { path_params: { video_id: videoId } };
  const started = Date.now();
  const deadline = started + Math.max(60_000, videoJobMs * 10);
  let videoUrl: string | null = null;
  for (;;) {
    const status = await invokeJson(conn, 'heygen', 'video-status', statusPayload);
    const state = String(status?.data?.status ?? 'unknown');
    out(`   … ${videoId}: ${state} (${Math.round((Date.now() - started) / 1000)} s)`);
    if (state === 'completed') {
      videoUrl = status.data.video_url;
      break;
    }
    if (state === 'failed') throw new CliError(`the video job failed: ${status?.data?.failure_message ?? 'no reason given'}`);
    if (Date.now() > deadline) throw new CliError(`the video job did not complete within ${Math.round((deadline - started) / 1000)} s`);
    await sleep(1000);
  }
  check(typeof videoUrl === 'string' && videoUrl !== '', 'the completed video has no video_url');
  show(5, 'heygen', 'video-status', statusPayload, 'completed');

  demo.step = 'downloading the video';
  const mp4 = join(OUT_DIR, 'video.mp4');
  let res: Response;
  try {
    res = await fetch(videoUrl);
  } catch (err) {
    throw new CliError(`cannot download ${videoUrl}: ${(err as Error).message}`);
  }
  if (!res.ok || !res.body) throw new CliError(`downloading ${videoUrl} answered HTTP ${res.status}`);
  await pipeline(Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>), createWriteStream(mp4));
  const size = statSync(mp4).size;
  check(size > 0, 'the downloaded video is empty');
  out(`\n6. video_url: wrote ${mp4} (${humanBytes(size)})`);
  out(`   curl: curl -sS -o video.mp4 ${shellQuote(videoUrl)}`);

  if (once) {
    out(`\nDone: every call went through the gateway. Outputs are in ${OUT_DIR}/.`);
    return;
  }
  demo.step = 'running';
  out(`\nThe gateway keeps running at ${url} until you press Ctrl-C. Try, in another terminal:`);
  out(`  export PORTICO_URL=${url} PORTICO_API_KEY=${key.key}`);
  out(`  export PORTICO_ADMIN_TOKEN=${adminToken}   # platform admin, for the admin commands`);
  out(`  portico invoke elevenlabs list-voices`);
  out(`  portico invoke elevenlabs text-to-speech --path voice_id=${VOICE_ID} --body '{"text":"Hi"}' -o hi.mp3`);
  out(`  portico credentials list`);
  out(`  portico policy get elevenlabs --org demo`);
  out(`  (inside this repository: npm exec portico -- …)`);
  await new Promise<never>(() => {});
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the sandbox and a gateway, create a demo organization, and call every provider through it.',
  description: [
    'Uses a throwaway database in a temporary directory and writes its results to ./demo-output/',
    '(hello.mp3, video.mp4). Prints the equivalent curl and SDK line of each call. Without --once',
    'it then keeps the gateway running and prints its URL and the demo key; Ctrl-C stops it.',
  ].join('\n'),
  options: {
    once: { type: 'boolean', help: 'exit (0 on success) after the calls instead of staying up' },
    fast: { type: 'boolean', help: 'video jobs complete in 1 s instead of 5 s' },
    port: { type: 'string', value: 'N', help: 'gateway port (default: any free port)' },
  },
  examples: ['portico demo', 'npm run demo -- --once'],
  async run(p) {
    const port = intOption(p, 'port', 0, 65535, 'demo') ?? 0;
    const once = p.values.once === true;
    const demo = new Demo();
    let finished = false;
    const onSignal = (signal: NodeJS.Signals) => {
      const code = finished || !once ? 0 : signal === 'SIGINT' ? 130 : 143;
      void demo.close().then(() => process.exit(code));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await runDemo(demo, once, p.values.fast === true, port);
      finished = true;
    } catch (err) {
      await demo.close();
      const reason = err instanceof CliError ? err.message : oneLine((err as Error)?.message ?? String(err));
      throw new CliError(`demo failed while ${demo.step}: ${reason}`);
    }
    await demo.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return 0;
  },
};
