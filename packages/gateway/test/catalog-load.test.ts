import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { CatalogError, defaultCatalogDir, loadCatalog } from '../src/catalog/load.ts';
import type { CatalogService } from '../src/catalog/load.ts';

// SPEC §9: action slugs that clients rely on (service, action, method, path, request, response).
const SPEC_ROWS: Array<[string, string, string, string, string, string]> = [
  ['elevenlabs', 'list-voices', 'GET', '/v1/voices', 'none', 'json'],
  ['elevenlabs', 'get-voice', 'GET', '/v1/voices/{voice_id}', 'none', 'json'],
  ['elevenlabs', 'list-models', 'GET', '/v1/models', 'none', 'json'],
  ['elevenlabs', 'text-to-speech', 'POST', '/v1/text-to-speech/{voice_id}', 'json', 'binary'],
  ['elevenlabs', 'text-to-speech-stream', 'POST', '/v1/text-to-speech/{voice_id}/stream', 'json', 'stream'],
  ['elevenlabs', 'get-subscription', 'GET', '/v1/user/subscription', 'none', 'json'],
  ['heygen', 'list-avatars', 'GET', '/v3/avatars/looks', 'none', 'json'],
  ['heygen', 'list-voices', 'GET', '/v3/voices', 'none', 'json'],
  ['heygen', 'generate-video', 'POST', '/v3/videos', 'json', 'json'],
  ['heygen', 'video-status', 'GET', '/v3/videos/{video_id}', 'none', 'json'],
  ['heygen', 'get-current-user', 'GET', '/v3/users/me', 'none', 'json'],
  ['heygen', 'remaining-quota', 'GET', '/v2/user/remaining_quota', 'none', 'json'],
  ['heygen', 'generate-video-v2', 'POST', '/v2/video/generate', 'json', 'json'],
  ['heygen', 'video-status-v1', 'GET', '/v1/video_status.get', 'none', 'json'],
];

function paramsOf(template: string): string[] {
  return [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
}

describe('the built-in catalog', () => {
  const catalog = loadCatalog(defaultCatalogDir());
  const service = (slug: string): CatalogService => {
    const s = catalog.find((x) => x.slug === slug);
    assert.ok(s, `service ${slug} is missing`);
    return s;
  };

  it('loads both services, sorted by file name, with every endpoint', () => {
    assert.deepEqual(
      catalog.map((s) => s.slug),
      ['elevenlabs', 'heygen'],
    );
    assert.equal(service('elevenlabs').endpoints.length, 38);
    assert.equal(service('heygen').endpoints.length, 43);
  });

  it('has every SPEC §9 row with its exact method, path and modes, first and in SPEC order', () => {
    for (const [svc, action, method, path, req, res] of SPEC_ROWS) {
      const ep = service(svc).endpoints.find((e) => e.slug === action);
      assert.ok(ep, `${svc}/${action} is missing`);
      assert.deepEqual([ep.method, ep.path_template, ep.request_mode, ep.response_mode], [method, path, req, res], `${svc}/${action}`);
    }
    for (const svc of ['elevenlabs', 'heygen']) {
      const expected = SPEC_ROWS.filter((r) => r[0] === svc).map((r) => r[1]);
      const actual = service(svc)
        .endpoints.slice(0, expected.length)
        .map((e) => e.slug);
      assert.deepEqual(actual, expected, `${svc}: SPEC rows come first`);
    }
    const tts = service('elevenlabs').endpoints.find((e) => e.slug === 'text-to-speech')!;
    assert.equal(tts.content_type, 'audio/mpeg');
    assert.deepEqual(tts.path_params, ['voice_id']);
    const v1 = service('heygen').endpoints.find((e) => e.slug === 'video-status-v1')!;
    assert.deepEqual(v1.path_params, []);
    assert.ok(v1.query_params.includes('video_id'));
  });

  it('marks generate-video-v2 deprecated with sunset 2026-10-31, and nothing else without a sunset', () => {
    const ep = service('heygen').endpoints.find((e) => e.slug === 'generate-video-v2')!;
    assert.equal(ep.deprecated, true);
    assert.equal(ep.sunset, '2026-10-31');
    for (const s of catalog) {
      for (const e of s.endpoints) {
        assert.equal(e.deprecated, e.sunset !== null, `${s.slug}/${e.slug}`);
        if (e.slug !== 'generate-video-v2') assert.equal(e.deprecated, false, `${s.slug}/${e.slug}`);
      }
    }
  });

  it("fills every endpoint's path_params from its template, in order", () => {
    for (const s of catalog) {
      for (const e of s.endpoints) {
        assert.deepEqual(e.path_params, paramsOf(e.path_template), `${s.slug}/${e.slug}`);
      }
    }
    const shared = service('elevenlabs').endpoints.find((e) => e.slug === 'add-shared-voice')!;
    assert.deepEqual(shared.path_params, ['public_user_id', 'voice_id']);
  });

  it('has unique kebab-case slugs and only SPEC modes', () => {
    for (const s of catalog) {
      const slugs = s.endpoints.map((e) => e.slug);
      assert.equal(new Set(slugs).size, slugs.length, `${s.slug}: duplicate slugs`);
      for (const e of s.endpoints) {
        assert.match(e.slug, /^[a-z0-9]+(-[a-z0-9]+)*$/);
        assert.ok(['none', 'json', 'multipart'].includes(e.request_mode), `${s.slug}/${e.slug}`);
        assert.ok(['json', 'binary', 'stream'].includes(e.response_mode), `${s.slug}/${e.slug}`);
        if (e.request_mode === 'none') assert.notEqual(e.method, 'POST', `${s.slug}/${e.slug}: POST without body`);
      }
    }
  });

  it('carries the service facts: auth header, credential, test endpoint, cool-down, units', () => {
    const el = service('elevenlabs');
    const hg = service('heygen');
    assert.deepEqual(el.auth, { type: 'header', header: 'xi-api-key', template: '{key}' });
    assert.deepEqual(hg.auth, { type: 'header', header: 'X-Api-Key', template: '{key}' });
    assert.equal(el.base_url, 'https://api.elevenlabs.io');
    assert.equal(hg.base_url, 'https://api.heygen.com');
    assert.equal(el.test_endpoint, 'list-voices');
    assert.equal(hg.test_endpoint, 'list-avatars');
    assert.deepEqual(el.cooldown_statuses, [401, 429]);
    assert.deepEqual(hg.cooldown_statuses, [401, 402, 429]);
    assert.equal(el.units_header, 'character-cost');
    assert.equal(hg.units_header, null);
    assert.equal(el.credential_name, 'elevenlabs_api_key');
    assert.equal(hg.credential_name, 'heygen_api_key');
    for (const s of [el, hg]) {
      assert.equal(s.timeout_ms, 30000);
      assert.deepEqual(s.credential_policy, {
        allow_tenant_key: true,
        allow_platform_key: true,
        default_source: 'tenant',
        fallback_to_platform_key: true,
      });
      const check = new Ajv({ strict: true }).compile(s.credential_schema);
      assert.equal(check({ key: 'sandbox_key' }), true);
      assert.equal(check({ key: 'short' }), false);
      assert.equal(check({ key: 'sandbox_key', other: 1 }), false);
      assert.equal(check({}), false);
    }
  });

  it('gives long endpoints a 240 s timeout and leaves the upload host out', () => {
    const el = service('elevenlabs');
    for (const slug of ['text-to-speech', 'speech-to-text', 'create-dubbing', 'download-history', 'get-dubbed-file', 'audio-isolation']) {
      assert.equal(el.endpoints.find((e) => e.slug === slug)?.timeout_ms, 240000, slug);
    }
    assert.equal(el.endpoints.find((e) => e.slug === 'list-voices')?.timeout_ms, null);
    const hg = service('heygen');
    const upload = hg.endpoints.find((e) => e.slug === 'upload-asset')!;
    assert.deepEqual([upload.method, upload.path_template, upload.request_mode], ['POST', '/v3/assets', 'multipart']);
    assert.ok(!hg.endpoints.some((e) => e.path_template === '/v1/asset' || e.path_template === '/v1/talking_photo'));
  });
});

// ---------------------------------------------------------------------------------------------

const tmpRoot = mkdtempSync(join(tmpdir(), 'portico-catalog-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let dirCount = 0;

function validService(slug = 'acme'): Record<string, any> {
  return {
    slug,
    name: 'Acme',
    description: 'Test service.',
    base_url: 'https://api.acme.test',
    auth: { type: 'header', header: 'X-Acme-Key', template: 'Bearer {key}' },
    credential_name: 'acme_api_key',
    credential_schema: {
      type: 'object',
      required: ['key'],
      properties: { key: { type: 'string', minLength: 8 } },
      additionalProperties: false,
    },
    credential_policy: { allow_tenant_key: true, allow_platform_key: false, default_source: 'tenant', fallback_to_platform_key: false },
    test_endpoint: 'ping',
    endpoints: [
      {
        slug: 'ping',
        name: 'Ping',
        description: 'Health.',
        method: 'GET',
        path_template: '/v1/ping',
        query_params: [],
        request_mode: 'none',
        response_mode: 'json',
        content_type: 'application/json',
      },
      {
        slug: 'speak',
        name: 'Speak',
        description: 'Speak.',
        method: 'POST',
        path_template: '/v1/speak/{voice_id}',
        query_params: ['format'],
        request_mode: 'json',
        response_mode: 'binary',
        content_type: 'audio/mpeg',
      },
    ],
  };
}

/** Writes `files` (name → JSON value or raw text) into a fresh directory and returns it. */
function writeDir(files: Record<string, unknown>): string {
  const dir = join(tmpRoot, `case-${++dirCount}`);
  mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

function expectError(files: Record<string, unknown>, file: string, field: string, reason: RegExp): void {
  const dir = writeDir(files);
  assert.throws(
    () => loadCatalog(dir),
    (err: unknown) => {
      assert.ok(err instanceof CatalogError, `expected a CatalogError, got ${String(err)}`);
      assert.ok(!err.message.includes('\n'), 'message is one line');
      assert.ok(err.message.startsWith(`${file}: ${field}: `), `message "${err.message}" should start with "${file}: ${field}: "`);
      assert.match(err.message.slice(`${file}: ${field}: `.length), reason);
      assert.equal(err.field, field);
      assert.equal(err.file, join(dir, file));
      return true;
    },
  );
}

function mutated(fn: (s: Record<string, any>) => void, slug = 'acme'): Record<string, any> {
  const s = validService(slug);
  fn(s);
  return s;
}

describe('loadCatalog on custom directories', () => {
  it('loads valid files sorted by name, ignores schema.json and fills defaults', () => {
    const dir = writeDir({
      'zeta.json': validService('zeta'),
      'acme.json': validService('acme'),
      'schema.json': { not: 'a service' },
      'notes.txt': 'ignored',
    });
    const catalog = loadCatalog(dir);
    assert.deepEqual(
      catalog.map((s) => s.slug),
      ['acme', 'zeta'],
    );
    const s = catalog[0]!;
    assert.equal(s.docs_url, null);
    assert.equal(s.units_header, null);
    assert.equal(s.timeout_ms, 30000);
    assert.deepEqual(s.cooldown_statuses, [401, 429]);
    assert.deepEqual(s.forward_request_headers, []);
    const [ping, speak] = s.endpoints;
    assert.deepEqual(
      { path_params: ping!.path_params, timeout_ms: ping!.timeout_ms, deprecated: ping!.deprecated, sunset: ping!.sunset },
      { path_params: [], timeout_ms: null, deprecated: false, sunset: null },
    );
    assert.deepEqual(speak!.path_params, ['voice_id']);
  });

  it('returns an empty catalog for a directory without service files', () => {
    assert.deepEqual(loadCatalog(writeDir({})), []);
  });

  it('accepts a deprecated endpoint with a sunset, an endpoint timeout and optional service fields', () => {
    const s = mutated((x) => {
      x.endpoints[1].deprecated = true;
      x.endpoints[1].sunset = '2027-01-31';
      x.endpoints[1].timeout_ms = 240000;
      x.docs_url = 'https://docs.acme.test/api';
      x.units_header = 'X-Units';
      x.cooldown_statuses = [401, 402, 429];
      x.forward_request_headers = ['X-Trace'];
    });
    const [svc] = loadCatalog(writeDir({ 'acme.json': s }));
    assert.deepEqual([svc!.endpoints[1]!.deprecated, svc!.endpoints[1]!.sunset, svc!.endpoints[1]!.timeout_ms], [true, '2027-01-31', 240000]);
    assert.equal(svc!.units_header, 'x-units');
    assert.deepEqual(svc!.forward_request_headers, ['x-trace']);
    assert.deepEqual(svc!.cooldown_statuses, [401, 402, 429]);
    assert.equal(svc!.docs_url, 'https://docs.acme.test/api');
  });

  it('names the file for a missing directory', () => {
    assert.throws(
      () => loadCatalog(join(tmpRoot, 'nope')),
      (err: unknown) => {
        assert.ok(err instanceof CatalogError);
        assert.match(err.message, /^nope: \(root\): cannot read catalog directory: /);
        return true;
      },
    );
  });

  it('rejects a missing field', () => {
    expectError({ 'acme.json': mutated((s) => delete s.endpoints[1].content_type) }, 'acme.json', 'endpoints[1].content_type', /^missing required field$/);
    expectError({ 'acme.json': mutated((s) => delete s.credential_name) }, 'acme.json', 'credential_name', /^missing required field$/);
  });

  it('rejects an unknown field', () => {
    expectError({ 'acme.json': mutated((s) => (s.endpoints[0].verb = 'GET')) }, 'acme.json', 'endpoints[0].verb', /^unknown field$/);
  });

  it('rejects a bad mode or method', () => {
    expectError(
      { 'acme.json': mutated((s) => (s.endpoints[1].request_mode = 'binary')) },
      'acme.json',
      'endpoints[1].request_mode',
      /^must be one of "none", "json", "multipart" \(got "binary"\)$/,
    );
    expectError(
      { 'acme.json': mutated((s) => (s.endpoints[0].response_mode = 'sse')) },
      'acme.json',
      'endpoints[0].response_mode',
      /must be one of "json", "binary", "stream"/,
    );
    expectError({ 'acme.json': mutated((s) => (s.endpoints[0].method = 'get')) }, 'acme.json', 'endpoints[0].method', /must be one of "GET"/);
    expectError(
      { 'acme.json': mutated((s) => (s.endpoints[0].request_mode = 'json')) },
      'acme.json',
      'endpoints[0].request_mode',
      /^must be "none" for a GET endpoint/,
    );
  });

  it('rejects a wrong type or an out-of-range number', () => {
    expectError(
      { 'acme.json': mutated((s) => (s.endpoints[0].query_params = 'format')) },
      'acme.json',
      'endpoints[0].query_params',
      /^must be array \(got string\)$/,
    );
    expectError({ 'acme.json': mutated((s) => (s.endpoints[0].timeout_ms = 50)) }, 'acme.json', 'endpoints[0].timeout_ms', /must be >= 100/);
    expectError({ 'acme.json': mutated((s) => (s.cooldown_statuses = [401, 200])) }, 'acme.json', 'cooldown_statuses[1]', /must be >= 400/);
    expectError({ 'acme.json': mutated((s) => (s.base_url = 'ftp://acme.test')) }, 'acme.json', 'base_url', /http\(s\) URL/);
  });

  it('rejects a duplicate endpoint slug', () => {
    expectError(
      { 'acme.json': mutated((s) => (s.endpoints[1].slug = 'ping')) },
      'acme.json',
      'endpoints[1].slug',
      /^duplicate endpoint slug "ping" \(also endpoints\[0\]\)$/,
    );
  });

  it('rejects an unknown test endpoint', () => {
    expectError({ 'acme.json': mutated((s) => (s.test_endpoint = 'pong')) }, 'acme.json', 'test_endpoint', /^unknown endpoint "pong"/);
    expectError({ 'acme.json': mutated((s) => (s.test_endpoint = 'speak')) }, 'acme.json', 'test_endpoint', /no path parameters/);
  });

  it('rejects a bad path template parameter', () => {
    expectError(
      { 'acme.json': mutated((s) => (s.endpoints[1].path_template = '/v1/speak/{voice-id}')) },
      'acme.json',
      'endpoints[1].path_template',
      /\{name\}.*\(got "\/v1\/speak\/\{voice-id\}"\)$/,
    );
    expectError({ 'acme.json': mutated((s) => (s.endpoints[1].path_template = '/v1/{1d}')) }, 'acme.json', 'endpoints[1].path_template', /\[A-Za-z_\]/);
    expectError(
      { 'acme.json': mutated((s) => (s.endpoints[1].path_template = 'v1/speak')) },
      'acme.json',
      'endpoints[1].path_template',
      /must start with "\/"/,
    );
    expectError(
      { 'acme.json': mutated((s) => (s.endpoints[1].path_template = '/v1/{id}/x/{id}')) },
      'acme.json',
      'endpoints[1].path_template',
      /^duplicate path parameter "id"/,
    );
    expectError({ 'acme.json': mutated((s) => (s.endpoints[1].path_template = '/v1/../admin')) }, 'acme.json', 'endpoints[1].path_template', /"\.\."/);
  });

  it('requires sunset exactly when deprecated', () => {
    expectError({ 'acme.json': mutated((s) => (s.endpoints[1].deprecated = true)) }, 'acme.json', 'endpoints[1].sunset', /^required when deprecated is true$/);
    expectError(
      { 'acme.json': mutated((s) => (s.endpoints[1].sunset = '2026-10-31')) },
      'acme.json',
      'endpoints[1].sunset',
      /^only allowed when deprecated is true$/,
    );
    expectError(
      { 'acme.json': mutated((s) => Object.assign(s.endpoints[1], { deprecated: true, sunset: '31.10.2026' })) },
      'acme.json',
      'endpoints[1].sunset',
      /YYYY-MM-DD/,
    );
    expectError(
      { 'acme.json': mutated((s) => Object.assign(s.endpoints[1], { deprecated: true, sunset: '2026-02-30' })) },
      'acme.json',
      'endpoints[1].sunset',
      /not a calendar date/,
    );
  });

  it('checks the credential schema and the auth template against it', () => {
    expectError(
      { 'acme.json': mutated((s) => (s.credential_schema.properties.key.type = 'strin')) },
      'acme.json',
      'credential_schema',
      /^is not a valid JSON Schema: /,
    );
    expectError(
      { 'acme.json': mutated((s) => (s.auth.template = '{token}')) },
      'acme.json',
      'auth.template',
      /^field "token" is not a property of credential_schema$/,
    );
    expectError({ 'acme.json': mutated((s) => (s.auth.template = 'static')) }, 'acme.json', 'auth.template', /placeholder/);
  });

  it('rejects a slug that differs from the file name', () => {
    expectError({ 'acme.json': validService('other') }, 'acme.json', 'slug', /^must equal the file name "acme" \(got "other"\)$/);
  });

  it('rejects invalid JSON with the file and the position', () => {
    const text = '{\n  "slug": "acme",\n  "name": "Acme",\n}\n';
    assert.equal(text.indexOf('}'), 38);
    expectError({ 'acme.json': text }, 'acme.json', '(root)', /^invalid JSON at position 38 \(line 4, column 1\): Expected double-quoted property name$/);
    expectError({ 'broken.json': '{"slug": tru}' }, 'broken.json', '(root)', /^invalid JSON at position 12 \(line 1, column 13\)/);
    expectError({ 'empty.json': '' }, 'empty.json', '(root)', /^invalid JSON at position 0 /);
  });

  it('stops at the first bad file in name order', () => {
    expectError({ 'a.json': '[', 'acme.json': mutated((s) => delete s.name) }, 'a.json', '(root)', /invalid JSON/);
  });
});
