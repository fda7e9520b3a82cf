// The built SDK (packages/client/dist) in Debian's Chromium, driven by playwright-core, against a
// real gateway on another origin (CORS, SPEC §11 "works in browsers") whose upstreams are the
// sandbox: discovery, a text-to-speech Blob that <audio> decodes, a stream, and ProxyErrors whose
// request id comes from the exposed X-Request-Id header.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, ensureChromium, ensureDist, startPageServer, type PageServer } from './helpers/integration-browser.ts';
import { seedTenant, startStack, VOICE_ID, type Stack } from './helpers/integration.ts';

const skip = await ensureChromium();

describe('SDK in a browser (Chromium) against a gateway on another origin', { skip: skip ?? false, timeout: 60_000 }, () => {
  let page: PageServer;
  let stack: Stack;
  let context: BrowserContext;
  let tab: Page;
  let userDataDir: string;
  let apiKey: string;
  const pageErrors: string[] = [];

  before(async () => {
    await ensureDist();
    page = await startPageServer();
    stack = await startStack({ env: { PORTICO_CORS_ORIGINS: page.origin } });
    apiKey = await seedTenant(stack.gw, 'acme', { elevenlabs: 'sandbox_browser_key' });
    userDataDir = await mkdtemp(join(tmpdir(), 'portico-chromium-'));
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    tab = context.pages()[0] ?? (await context.newPage());
    tab.on('pageerror', (err) => pageErrors.push(String(err)));
    tab.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    await tab.goto(page.url);
    await tab.waitForFunction(() => (window as any).porticoReady === true, null, { timeout: 10_000 });
  });

  after(async () => {
    await context?.close().catch(() => {});
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    await stack?.close();
    await page?.close();
  });

  test('the page and the gateway are different origins', async () => {
    const origin = await tab.evaluate(() => location.origin);
    assert.equal(origin, page.origin);
    assert.notEqual(new URL(stack.gw.url).origin, origin);
  });

  test('listServices and getService', async () => {
    const result = await tab.evaluate(
      async ({ baseUrl, apiKey }) => {
        const { ExternalProxyClient } = (window as any).Portico;
        const client = new ExternalProxyClient({ baseUrl, apiKey });
        const services = await client.listServices();
        const el = await client.getService('elevenlabs');
        return {
          slugs: services.map((s: { slug: string }) => s.slug).sort(),
          keys: Object.keys(services[0]).sort(),
          configured: el.credentials_configured,
          tts: el.endpoints.find((e: { slug: string }) => e.slug === 'text-to-speech')?.response_mode,
        };
      },
      { baseUrl: stack.gw.url, apiKey },
    );
    assert.deepEqual(result, {
      slugs: ['elevenlabs', 'heygen'],
      keys: ['credential_name', 'description', 'docs_url', 'endpoint_count', 'name', 'slug'],
      configured: { tenant: true, platform: false },
      tts: 'binary',
    });
  });

  test('text-to-speech: a Blob that an <audio> element decodes (duration > 0)', async () => {
    const result = await tab.evaluate(
      async ({ baseUrl, apiKey, voiceId }) => {
        const { ExternalProxyClient } = (window as any).Portico;
        const client = new ExternalProxyClient({ baseUrl, apiKey });
        const blob = await client.invoke('elevenlabs', 'text-to-speech', {
          path_params: { voice_id: voiceId },
          query: { output_format: 'mp3_44100_128' },
          body: { text: 'Hello from a browser, through Portico.', model_id: 'eleven_multilingual_v2' },
        });
        const head = Array.from(new Uint8Array(await blob.slice(0, 4).arrayBuffer()));
        const audio = document.getElementById('player') as HTMLAudioElement;
        const url = URL.createObjectURL(blob);
        const duration = await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no loadedmetadata within 10 s')), 10_000);
          audio.addEventListener(
            'loadedmetadata',
            () => {
              clearTimeout(timer);
              resolve(audio.duration);
            },
            { once: true },
          );
          audio.addEventListener(
            'error',
            () => {
              clearTimeout(timer);
              reject(new Error(`audio error ${audio.error?.code}: ${audio.error?.message}`));
            },
            { once: true },
          );
          audio.src = url;
          audio.load();
        });
        URL.revokeObjectURL(url);
        return { isBlob: blob instanceof Blob, type: blob.type, size: blob.size, head, duration, canPlay: audio.canPlayType('audio/mpeg') };
      },
      { baseUrl: stack.gw.url, apiKey, voiceId: VOICE_ID },
    );
    assert.equal(result.isBlob, true);
    assert.equal(result.type, 'audio/mpeg');
    assert.ok(result.size > 1000, `size ${result.size}`);
    const [b0, b1, b2] = result.head;
    assert.ok((b0 === 0x49 && b1 === 0x44 && b2 === 0x33) || (b0 === 0xff && (b1! & 0xe0) === 0xe0), `MP3 start: ${result.head}`);
    assert.notEqual(result.canPlay, '');
    assert.ok(Number.isFinite(result.duration) && result.duration > 0, `duration ${result.duration}`);
  });

  test('text-to-speech-stream: a ReadableStream read chunk by chunk', async () => {
    const result = await tab.evaluate(
      async ({ baseUrl, apiKey, voiceId }) => {
        const { ExternalProxyClient } = (window as any).Portico;
        const client = new ExternalProxyClient({ baseUrl, apiKey });
        const stream = await client.invoke('elevenlabs', 'text-to-speech-stream', {
          path_params: { voice_id: voiceId },
          body: { text: 'Streaming into a browser, one chunk after another.' },
        });
        const reader = (stream as ReadableStream<Uint8Array>).getReader();
        let chunks = 0;
        let bytes = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks++;
          bytes += value.length;
        }
        return { isStream: stream instanceof ReadableStream, chunks, bytes };
      },
      { baseUrl: stack.gw.url, apiKey, voiceId: VOICE_ID },
    );
    assert.equal(result.isStream, true);
    assert.ok(result.chunks >= 2, `chunks ${result.chunks}`);
    assert.ok(result.bytes > 1000, `bytes ${result.bytes}`);
  });

  test('a gateway error: ProxyError fields, requestId from the exposed X-Request-Id header', async () => {
    const result = await tab.evaluate(
      async ({ baseUrl, apiKey }) => {
        const { ExternalProxyClient, ProxyError } = (window as any).Portico;
        const seen: { requestId: string | null; errorSource: string | null }[] = [];
        const client = new ExternalProxyClient({
          baseUrl,
          apiKey,
          fetch: async (input: RequestInfo, init?: RequestInit) => {
            const res = await fetch(input, init);
            seen.push({ requestId: res.headers.get('x-request-id'), errorSource: res.headers.get('x-error-source') });
            return res;
          },
        });
        try {
          await client.invoke('heygen', 'list-avatars');
          return { threw: false };
        } catch (e: any) {
          return {
            threw: true,
            isProxyError: e instanceof ProxyError,
            isError: e instanceof Error,
            name: e.name,
            status: e.status,
            code: e.code,
            type: e.type,
            message: e.message,
            source: e.source,
            requestId: e.requestId,
            bodyRequestId: e.body?.request_id,
            includes404: e.message.includes('404'),
            includesCredentials: e.message.includes('credentials'),
            last: seen.at(-1),
          };
        }
      },
      { baseUrl: stack.gw.url, apiKey },
    );
    assert.equal(result.threw, true);
    assert.deepEqual(
      { ...result, requestId: undefined, bodyRequestId: undefined, last: undefined },
      {
        threw: true,
        isProxyError: true,
        isError: true,
        name: 'ProxyError',
        status: 404,
        code: 'credentials_not_found',
        type: 'not_found_error',
        message: "404 credentials_not_found: No allowed credentials found for external proxy service 'heygen'.",
        source: 'gateway',
        requestId: undefined,
        bodyRequestId: undefined,
        includes404: true,
        includesCredentials: true,
        last: undefined,
      },
    );
    assert.ok(result.last?.requestId, 'X-Request-Id is readable cross-origin (exposed by CORS)');
    assert.equal(result.last?.errorSource, 'gateway');
    assert.equal(result.requestId, result.last.requestId);
    assert.equal(result.bodyRequestId, result.last.requestId);
  });

  test('an upstream error passed through: source from the exposed X-Error-Source header', async () => {
    const result = await tab.evaluate(
      async ({ baseUrl, apiKey, voiceId }) => {
        const { ExternalProxyClient } = (window as any).Portico;
        let headerRequestId: string | null = null;
        const client = new ExternalProxyClient({
          baseUrl,
          apiKey,
          fetch: async (input: RequestInfo, init?: RequestInit) => {
            const res = await fetch(input, init);
            headerRequestId = res.headers.get('x-request-id');
            return res;
          },
        });
        try {
          await client.invoke(
            'elevenlabs',
            'text-to-speech',
            { path_params: { voice_id: voiceId }, body: { text: 'Hi' } },
            { headers: { 'X-Sandbox-Fault': '422' } },
          );
          return null;
        } catch (e: any) {
          return { status: e.status, source: e.source, code: e.code, requestId: e.requestId, headerRequestId };
        }
      },
      { baseUrl: stack.gw.url, apiKey, voiceId: VOICE_ID },
    );
    assert.ok(result, 'the call failed');
    assert.equal(result.status, 422);
    assert.equal(result.source, 'upstream');
    assert.equal(result.code, 'validation_error');
    assert.ok(result.headerRequestId);
    assert.equal(result.requestId, result.headerRequestId);
  });

  test('a local error in the browser sends nothing', async () => {
    const result = await tab.evaluate(
      async ({ baseUrl, apiKey }) => {
        const { ExternalProxyClient } = (window as any).Portico;
        let requests = 0;
        const client = new ExternalProxyClient({ baseUrl, apiKey, fetch: (i: RequestInfo, init?: RequestInit) => (requests++, fetch(i, init)) });
        await client.getService('elevenlabs');
        const before = requests;
        try {
          await client.invoke('elevenlabs', 'text-to-speech', { body: { text: 'Hi' } });
          return null;
        } catch (e: any) {
          return { message: e.message, requestId: e.requestId, sent: requests - before };
        }
      },
      { baseUrl: stack.gw.url, apiKey },
    );
    assert.deepEqual(result, { message: '400 missing_path_parameter: Missing required path parameter: voice_id', requestId: null, sent: 0 });
    assert.deepEqual(
      pageErrors.filter((e) => !e.includes('Failed to load resource')),
      [],
      'no uncaught page errors',
    );
  });
});
