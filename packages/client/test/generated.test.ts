import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { camelCase, DEFAULT_CATALOG_DIR, DEFAULT_OUT_FILE, generate, loadCatalog, pascalCase, readService } from '../scripts/generate.ts';
import { ExternalProxyClient, HeygenService, ElevenlabsService, ProxyError, toInvokePayload } from '../src/index.ts';
import { API_KEY, BINARY, FIXTURE_CATALOG, startStubGateway, type StubGateway } from './helpers/stub-gateway.ts';

const SRC = new URL('../src/', import.meta.url);

describe('generator', () => {
  test('names: camelCase methods, PascalCase classes', () => {
    assert.equal(camelCase('text-to-speech'), 'textToSpeech');
    assert.equal(camelCase('video-status-v1'), 'videoStatusV1');
    assert.equal(camelCase('video_status.get'), 'videoStatusGet');
    assert.equal(camelCase('3d-avatar'), '_3dAvatar');
    assert.equal(pascalCase('elevenlabs'), 'Elevenlabs');
    assert.equal(pascalCase('google-tts'), 'GoogleTts');
  });

  test('reads catalog entries tolerantly (nested service, query params as objects, defaults)', () => {
    const s = readService({
      service: { slug: 'acme', name: 'Acme' },
      endpoints: [{ slug: 'get-thing', method: 'get', path_template: '/things/{id}', query_params: [{ name: 'expand' }] }],
    });
    assert.equal(s.slug, 'acme');
    assert.deepEqual(s.endpoints[0], {
      slug: 'get-thing',
      name: 'get-thing',
      description: '',
      method: 'GET',
      path_template: '/things/{id}',
      query_params: ['expand'],
      request_mode: 'none',
      response_mode: 'json',
      deprecated: undefined,
      sunset: undefined,
    });
    assert.throws(() => readService({ slug: 'x', endpoints: [{ slug: 'a', method: 'GET', path_template: '/', response_mode: 'xml' }] }), /response_mode/);
    assert.throws(() => readService({ slug: 'x' }), /endpoints/);
  });

  test('refuses names that collide', () => {
    const ep = { slug: 'a', name: 'A', description: '', method: 'GET', path_template: '/', query_params: [], request_mode: 'none', response_mode: 'json' };
    assert.throws(() => generate([{ slug: 'invoke', name: 'X', endpoints: [] }]), /shadow/);
    assert.throws(
      () =>
        generate([
          { slug: 'a-b', name: 'X', endpoints: [] },
          { slug: 'a_b', name: 'Y', endpoints: [] },
        ]),
      /getter/,
    );
    assert.throws(() => generate([{ slug: 's', name: 'S', endpoints: [ep, { ...ep, slug: 'A' }] }]), /method/);
  });

  test('output: typed signatures by mode, deprecation, one getter per service', () => {
    const text = generate(loadCatalog(FIXTURE_CATALOG));
    assert.match(
      text,
      /textToSpeech\(params: \{ voice_id: PathParamValue; \[field: string\]: unknown \}, options\?: HelperOptions<"enable_logging" \| "optimize_streaming_latency" \| "output_format">\): Promise<Blob>/,
    );
    assert.match(text, /textToSpeechStream\(.*\): Promise<ReadableStream<Uint8Array>>/);
    assert.match(text, /videoStatusV1\(params\?: \{ video_id\?: QueryValue \| null \}, options\?: HelperOptions<"video_id">\): Promise<unknown>/);
    assert.match(text, /listModels\(params\?: Record<string, never>, options\?: HelperOptions<never>\): Promise<unknown>/);
    assert.match(text, /@deprecated The provider retires this endpoint on 2026-10-31\.\n\s+\*\/\n\s+generateVideoV2\(/);
    assert.match(text, /get elevenlabs\(\): ElevenlabsService/);
    assert.match(text, /get heygen\(\): HeygenService/);
    assert.equal(generate(loadCatalog(FIXTURE_CATALOG)), text, 'deterministic');
  });

  test('a service without endpoints still generates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portico-gen-'));
    try {
      const file = join(dir, 'generated.ts');
      writeFileSync(file, generate([{ slug: 'empty', name: 'Empty', endpoints: [] }], { importBase: SRC.href }));
      const mod = (await import(pathToFileURL(file).href)) as { ExternalProxyClient: new (o: object) => { empty: object } };
      assert.ok(new mod.ExternalProxyClient({ baseUrl: 'http://x' }).empty);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('typed helpers (generated from the fixture catalog)', () => {
  let gw: StubGateway;
  let dir: string;
  // The generated module, loaded from a temporary folder; its types are those of the committed file.
  let Client: typeof ExternalProxyClient;
  before(async () => {
    gw = await startStubGateway();
    dir = mkdtempSync(join(tmpdir(), 'portico-gen-'));
    const file = join(dir, 'generated.ts');
    writeFileSync(file, generate(loadCatalog(FIXTURE_CATALOG), { importBase: SRC.href }));
    Client = ((await import(pathToFileURL(file).href)) as { ExternalProxyClient: typeof ExternalProxyClient }).ExternalProxyClient;
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await gw.close();
  });

  test('path params by name, the rest is the body, options.query is the query', async () => {
    const client = new Client({ baseUrl: gw.url, apiKey: API_KEY });
    const audio = await client.elevenlabs.textToSpeech(
      { voice_id: '21m00Tcm4TlvDq8ikWAM', text: 'Hello', model_id: 'eleven_multilingual_v2' },
      { query: { output_format: 'mp3_44100_128' }, credentialSource: 'tenant', idempotencyKey: 'k1' },
    );
    assert.ok(audio instanceof Blob);
    assert.deepEqual(Buffer.from(await audio.arrayBuffer()), BINARY);
    const req = gw.invokes().at(-1)!;
    assert.equal(req.path, '/api/v1/external-proxy/elevenlabs/text-to-speech');
    assert.equal(req.headers['idempotency-key'], 'k1');
    assert.deepEqual(req.body, {
      path_params: { voice_id: '21m00Tcm4TlvDq8ikWAM' },
      query: { output_format: 'mp3_44100_128' },
      body: { text: 'Hello', model_id: 'eleven_multilingual_v2' },
      credential_source: 'tenant',
    });
  });

  test('request_mode none: the other fields are the query', async () => {
    const client = new Client({ baseUrl: gw.url, apiKey: API_KEY });
    await client.elevenlabs.getVoice({ voice_id: 'v1', with_settings: true });
    assert.deepEqual(gw.invokes().at(-1)!.body, { path_params: { voice_id: 'v1' }, query: { with_settings: true } });
    await client.heygen.videoStatusV1({ video_id: 'abc' });
    assert.deepEqual(gw.invokes().at(-1)!.body, { query: { video_id: 'abc' } });
    await client.heygen.videoStatus({ video_id: 'vid_1' });
    assert.deepEqual(gw.invokes().at(-1)!.body, { path_params: { video_id: 'vid_1' } });
    await client.elevenlabs.listModels();
    assert.deepEqual(gw.invokes().at(-1)!.body, {});
    await client.heygen.listAvatars({ limit: 5 }, { query: { token: 't' } });
    assert.deepEqual(gw.invokes().at(-1)!.body, { query: { limit: 5, token: 't' } });
  });

  test('stream and multipart helpers', async () => {
    const client = new Client({ baseUrl: gw.url, apiKey: API_KEY });
    const stream = await client.elevenlabs.textToSpeechStream({ voice_id: 'v', text: 'Hi' });
    assert.ok(stream instanceof ReadableStream);
    assert.equal(await new Response(stream).text(), 'chunk-0;chunk-1;chunk-2;');
    const file = new File(['RIFF'], 'a.wav', { type: 'audio/wav' });
    const result = (await client.elevenlabs.speechToText({ model_id: 'scribe_v1', file }, { query: { enable_logging: false } })) as {
      received: { payload: unknown; fields: Record<string, unknown> };
    };
    assert.deepEqual(result.received.payload, { query: { enable_logging: false } });
    assert.deepEqual(result.received.fields.model_id, 'scribe_v1');
    assert.equal((result.received.fields.file as { filename: string }).filename, 'a.wav');
  });

  test('helpers validate path params locally too, and pass signal/timeout through', async () => {
    const client = new Client({ baseUrl: gw.url, apiKey: API_KEY });
    await client.getService('elevenlabs');
    const before = gw.requests.length;
    await assert.rejects(client.elevenlabs.textToSpeech({ text: 'x' } as unknown as { voice_id: string }), (err: unknown) => {
      assert.ok(err instanceof ProxyError);
      assert.equal(err.message, '400 missing_path_parameter: Missing required path parameter: voice_id');
      return true;
    });
    await assert.rejects(client.elevenlabs.listVoices({}, { signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(gw.requests.length, before);
  });

  test('toInvokePayload: unlisted fields of a none endpoint still go to the query (the gateway names them)', () => {
    const spec = { service: 's', action: 'a', pathParams: ['id'], queryParams: ['q'], requestMode: 'none' as const };
    assert.deepEqual(toInvokePayload(spec, { id: 1, q: 'x', other: 2, skipped: undefined }), { path_params: { id: 1 }, query: { q: 'x', other: 2 } });
    const json = { ...spec, requestMode: 'json' as const };
    assert.deepEqual(toInvokePayload(json, { id: 1 }), { path_params: { id: 1 }, body: {} });
  });
});

describe('committed src/generated.ts', () => {
  test('exposes the SPEC §9 helpers as getters on ExternalProxyClient', () => {
    const client = new ExternalProxyClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k' });
    assert.ok(client.elevenlabs instanceof ElevenlabsService);
    assert.ok(client.heygen instanceof HeygenService);
    assert.equal(client.elevenlabs, client.elevenlabs, 'one helper instance per client');
    for (const m of ['listVoices', 'getVoice', 'listModels', 'textToSpeech', 'textToSpeechStream', 'getSubscription']) {
      assert.equal(typeof (client.elevenlabs as unknown as Record<string, unknown>)[m], 'function', `elevenlabs.${m}`);
    }
    for (const m of ['listAvatars', 'listVoices', 'generateVideo', 'videoStatus', 'getCurrentUser', 'remainingQuota', 'generateVideoV2', 'videoStatusV1']) {
      assert.equal(typeof (client.heygen as unknown as Record<string, unknown>)[m], 'function', `heygen.${m}`);
    }
  });

  const hasCatalog = existsSync(DEFAULT_CATALOG_DIR) && readdirSync(DEFAULT_CATALOG_DIR).some((f) => f.endsWith('.json'));
  test('is up to date with catalog/*.json', { skip: hasCatalog ? false : 'no catalog/*.json yet' }, () => {
    const expected = generate(loadCatalog(DEFAULT_CATALOG_DIR), { source: 'catalog/*.json' });
    assert.equal(readFileSync(DEFAULT_OUT_FILE, 'utf8'), expected, 'run: node packages/client/scripts/generate.ts');
  });

  test('src/ has no node: imports and no runtime dependencies (browser-safe)', () => {
    const dir = fileURLToPath(SRC);
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        assert.ok(m[1]!.startsWith('./'), `${f} imports ${m[1]}`);
      }
      assert.doesNotMatch(text, /\b(process|Buffer|require)\b\s*[.(]/, `${f} uses a Node global`);
    }
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg.dependencies, undefined);
  });
});
