// Every endpoint of the repository's catalog (catalog/*.json) answers on the sandbox: called
// with fixture ids for path parameters and a valid key, none may be 404/405 or a 5xx. Endpoints
// with a known sample body must succeed (2xx). SANDBOX_CATALOG_DIR points at another folder of
// catalog files with the same `endpoints` shape (e.g. CATALOG.md's catalog-ref/ companions).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURE_IDS } from '../src/index.ts';
import { start, type Started } from './helpers.ts';

interface Endpoint {
  slug: string;
  method: string;
  path_template: string;
  request_mode?: string;
  response_mode?: string;
  query_params?: string[];
}

const DIR = process.env.SANDBOX_CATALOG_DIR ?? fileURLToPath(new URL('../../../catalog/', import.meta.url));

function loadCatalog(): { service: string; endpoints: Endpoint[] }[] {
  if (!existsSync(DIR)) return [];
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const doc = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Record<string, unknown>;
      if (!Array.isArray(doc.endpoints)) return [];
      const named = [doc.slug, doc.service, doc.name].find((x) => typeof x === 'string') as string | undefined;
      const service = (named ?? basename(f, '.json')).toLowerCase().replace(/-endpoints$/, '');
      return [{ service, endpoints: doc.endpoints as Endpoint[] }];
    });
}

const ids: Record<string, string> = {
  ...FIXTURE_IDS.elevenlabs,
  ...FIXTURE_IDS.heygen,
} as unknown as Record<string, string>;

/** Fixture id per path parameter; per service where both providers use the name. */
function placeholder(service: string, name: string): string {
  if (name === 'voice_id') return service === 'heygen' ? FIXTURE_IDS.heygen.voice_id : FIXTURE_IDS.elevenlabs.voice_id;
  if (name === 'id') return FIXTURE_IDS.heygen.photo_avatar_id;
  if (name === 'public_user_id') return FIXTURE_IDS.elevenlabs.public_user_id;
  if (name === 'look_id') return FIXTURE_IDS.heygen.avatar_id;
  return ids[name] ?? 'placeholder';
}

/** Sample bodies by "METHOD path": endpoints listed here must answer 2xx. */
const JSON_BODIES: Record<string, unknown> = {
  'POST /v1/text-to-speech/{voice_id}': { text: 'Hello from the catalog test.' },
  'POST /v1/text-to-speech/{voice_id}/stream': { text: 'Hello from the catalog test.' },
  'POST /v1/text-to-speech/{voice_id}/with-timestamps': { text: 'Hello.' },
  'POST /v1/text-to-speech/{voice_id}/stream/with-timestamps': { text: 'Hello.' },
  'POST /v1/text-to-dialogue': { inputs: [{ text: 'Hi.', voice_id: FIXTURE_IDS.elevenlabs.voice_id }] },
  'POST /v1/text-to-dialogue/stream': { inputs: [{ text: 'Hi.', voice_id: FIXTURE_IDS.elevenlabs.voice_id }] },
  'POST /v1/sound-generation': { text: 'A door creaks.' },
  'POST /v1/voices/{voice_id}/settings/edit': { stability: 0.4, similarity_boost: 0.8 },
  'POST /v1/voices/add/{public_user_id}/{voice_id}': { new_name: 'Library voice' },
  'POST /v1/history/download': { history_item_ids: [FIXTURE_IDS.elevenlabs.history_item_id] },
  'POST /v3/videos': { type: 'avatar', avatar_id: FIXTURE_IDS.heygen.avatar_id, script: 'Hello!', voice_id: FIXTURE_IDS.heygen.voice_id },
  'POST /v2/videos': { avatar_id: FIXTURE_IDS.heygen.avatar_id, script: 'Hello!', voice_id: FIXTURE_IDS.heygen.voice_id },
  'POST /v2/video/generate': {
    video_inputs: [
      {
        character: { type: 'avatar', avatar_id: FIXTURE_IDS.heygen.avatar_id, avatar_style: 'normal' },
        voice: { type: 'text', voice_id: FIXTURE_IDS.heygen.voice_id, input_text: 'Hello!' },
      },
    ],
  },
  'POST /v2/template/{template_id}/generate': { variables: {} },
  'POST /v2/video_translate': { video_url: 'https://example.com/v.mp4', output_language: 'Spanish' },
  'POST /v3/video-translations': { video: { type: 'url', url: 'https://example.com/v.mp4' }, output_languages: ['Spanish'] },
  'POST /v3/voices/speech': { text: 'Hello!', voice_id: FIXTURE_IDS.heygen.voice_id },
  'POST /v1/streaming.create_token': {},
  'POST /v1/webhook/endpoint.add': { url: 'https://example.com/hook' },
  'POST /v3/webhooks/endpoints': { url: 'https://example.com/hook' },
  'POST /v2/photo_avatar/avatar_group/create': { name: 'Me', image_key: 'image/x/original.jpg' },
  'POST /v3/video-agents': { prompt: 'A short product teaser.' },
};

/** Multipart fields by path; the file field names come from CATALOG §1.2 / §2.3b. */
const FORMS: Record<string, [string, string][]> = {
  'POST /v1/speech-to-speech/{voice_id}': [['model_id', 'eleven_multilingual_sts_v2']],
  'POST /v1/speech-to-speech/{voice_id}/stream': [],
  'POST /v1/speech-to-text': [['model_id', 'scribe_v1']],
  'POST /v1/audio-isolation': [],
  'POST /v1/voices/add': [['name', 'Clone']],
  'POST /v1/voices/{voice_id}/edit': [['name', 'Renamed']],
  'POST /v1/dubbing': [['target_lang', 'es']],
  'POST /v3/assets': [],
};
const FILE_FIELD: Record<string, string> = {
  'POST /v1/speech-to-speech/{voice_id}': 'audio',
  'POST /v1/speech-to-speech/{voice_id}/stream': 'audio',
  'POST /v1/audio-isolation': 'audio',
  'POST /v1/voices/add': 'files',
  'POST /v1/voices/{voice_id}/edit': 'files',
};

/** Query parameters some endpoints need to do anything useful. */
const QUERIES: Record<string, Record<string, string>> = {
  'GET /v1/video_status.get': { video_id: FIXTURE_IDS.heygen.video_id },
  'DELETE /v1/video.delete': { video_id: FIXTURE_IDS.heygen.video_id },
  'DELETE /v1/webhook/endpoint.delete': { endpoint_id: FIXTURE_IDS.heygen.endpoint_id },
  'GET /v1/usage/character-stats': { start_unix: '1735689600000', end_unix: '1738368000000' },
};

const catalog = loadCatalog();
let s: Started;
before(async () => {
  s = await start({ videoJobMs: 100 });
});
after(() => s.sandbox.close());

if (catalog.length === 0) {
  test('catalog endpoints answer on the sandbox', (t) => {
    t.skip(`no catalog files with "endpoints" in ${DIR} yet`);
  });
}

for (const { service, endpoints } of catalog) {
  describe(`catalog ${service}: every endpoint answers`, () => {
    for (const ep of endpoints) {
      test(`${ep.slug}: ${ep.method} ${ep.path_template}`, async (t) => {
        const base = service === 'elevenlabs' ? s.el : service === 'heygen' ? s.hg : null;
        if (!base) return t.skip(`no sandbox fake for service "${service}"`);
        const key: Record<string, string> = service === 'elevenlabs' ? { 'xi-api-key': 'sandbox_catalog' } : { 'X-Api-Key': 'sandbox_catalog' };
        const route = `${ep.method.toUpperCase()} ${ep.path_template}`;
        const path = ep.path_template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(placeholder(service, name)));
        const query = new URLSearchParams(QUERIES[route] ?? {});
        const url = `${base}${path}${query.size ? `?${query}` : ''}`;
        const init: RequestInit = { method: ep.method.toUpperCase(), headers: { ...key } };
        if (ep.request_mode === 'json') {
          (init.headers as Record<string, string>)['content-type'] = 'application/json';
          init.body = JSON.stringify(JSON_BODIES[route] ?? {});
        } else if (ep.request_mode === 'multipart') {
          const form = new FormData();
          for (const [k, v] of FORMS[route] ?? []) form.append(k, v);
          form.append(FILE_FIELD[route] ?? 'file', new Blob([Buffer.alloc(16_000)], { type: 'audio/mpeg' }), 'sample.mp3');
          init.body = form;
        }
        const res = await fetch(url, init);
        const body = Buffer.from(await res.arrayBuffer());
        const detail = `${res.status} ${body.toString('utf8', 0, Math.min(body.length, 300))}`;
        assert.ok(res.status !== 404 && res.status !== 405, `route missing: ${detail}`);
        assert.ok(res.status < 500, detail);
        if (route in JSON_BODIES || route in FORMS || ep.request_mode === 'none' || ep.request_mode === undefined) {
          assert.ok(res.status >= 200 && res.status < 300, detail);
        }
      });
    }
  });
}
