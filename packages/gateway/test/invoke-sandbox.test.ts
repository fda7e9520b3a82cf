// End to end as a new user does it (the README's curl walkthrough): the admin API sets up an
// organization, a key and credentials; discovery, text-to-speech and a HeyGen video job go
// through the gateway to the real sandbox. Runs on SQLite and PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox } from '../../sandbox/src/index.ts';
import { databases, expectError, startGateway, type TestGateway } from './helpers.ts';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

for (const db of await databases()) {
  describe(`gateway + sandbox on ${db}`, () => {
    let sandbox: Sandbox;
    let gw: TestGateway;
    let key: string;

    before(async () => {
      sandbox = await startSandbox({ port: 0, videoJobMs: 600 });
      const url = (slug: string) => sandbox.services.find((s) => s.slug === slug)!.url;
      gw = await startGateway({ db, env: { PORTICO_BASE_URL_ELEVENLABS: url('elevenlabs'), PORTICO_BASE_URL_HEYGEN: url('heygen') } });
      assert.equal((await gw.api('POST', '/api/v1/admin/organizations', { body: { slug: 'acme', name: 'Acme Inc.' } })).status, 201);
      const k = await gw.api('POST', '/api/v1/admin/organizations/acme/api-keys', { body: { name: 'backend', role: 'admin' } });
      assert.equal(k.status, 201);
      key = k.body.key;
      const el = await gw.api('POST', '/api/v1/admin/credentials', {
        body: { service: 'elevenlabs', scope: 'platform', label: 'main', secret: { key: 'sandbox_platform_el_key' } },
      });
      assert.equal(el.status, 201, el.text);
      const hg = await gw.api('POST', '/api/v1/admin/credentials', {
        token: key,
        body: { service: 'heygen', scope: 'tenant', secret: 'sandbox_acme_heygen_key' },
      });
      assert.equal(hg.status, 201, hg.text);
    });

    after(async () => {
      await gw.close();
      await sandbox.close();
    });

    const invoke = (service: string, action: string, body: unknown, headers?: Record<string, string>) =>
      gw.api('POST', `/api/v1/external-proxy/${service}/${action}`, { token: key, body, headers });

    test('discovery lists both services with their endpoints and what is configured', async () => {
      const list = await gw.api('GET', '/api/v1/external-proxy/services', { token: key });
      assert.deepEqual(
        list.body.services.map((s: { slug: string }) => s.slug),
        ['elevenlabs', 'heygen'],
      );
      const detail = await gw.api('GET', '/api/v1/external-proxy/services/heygen', { token: key });
      assert.deepEqual(detail.body.credentials_configured, { tenant: true, platform: false });
      const gen = detail.body.endpoints.find((e: { slug: string }) => e.slug === 'generate-video-v2');
      assert.equal(gen.deprecated, true);
      assert.equal(gen.sunset, '2026-10-31');
      const ep = await gw.api('GET', '/api/v1/external-proxy/services/elevenlabs/endpoints/text-to-speech', { token: key });
      assert.deepEqual(ep.body.path_params, ['voice_id']);
      assert.equal(ep.body.response_mode, 'binary');
      expectError(
        assert,
        await gw.api('GET', '/api/v1/external-proxy/services/nope', { token: key }),
        404,
        'service_not_found',
        "External proxy service 'nope' not found or disabled.",
      );
      expectError(
        assert,
        await gw.api('GET', '/api/v1/external-proxy/services/heygen/endpoints/nope', { token: key }),
        404,
        'endpoint_not_found',
        "External proxy endpoint 'nope' not found for service 'heygen'.",
      );
    });

    test('text-to-speech returns a playable MP3 whose length follows the text', async () => {
      const tts = async (text: string) => {
        const res = await fetch(gw.url + '/api/v1/external-proxy/elevenlabs/text-to-speech', {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ path_params: { voice_id: 'JBFqnCBsd6RMkjVDRZzb' }, body: { text, model_id: 'eleven_multilingual_v2' } }),
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'audio/mpeg');
        assert.equal(res.headers.get('x-credential-source'), 'platform');
        assert.equal(res.headers.get('character-cost'), String(text.length));
        return Buffer.from(await res.arrayBuffer());
      };
      const short = await tts('Hello');
      const long = await tts('Hello from Portico, a gateway for paid AI media services.');
      for (const mp3 of [short, long]) {
        // MPEG audio frame sync: 11 set bits.
        assert.equal(mp3[0], 0xff);
        assert.equal(mp3[1]! & 0xe0, 0xe0);
      }
      assert.ok(long.length > short.length * 3);
    });

    test('a HeyGen video job runs to completed and its video downloads', async () => {
      const created = await invoke('heygen', 'generate-video', {
        body: { type: 'avatar', avatar_id: 'Abigail_expressive_2024112501', script: 'Hello!', voice_id: '1bd001e7e50f421d891986aad5158bc8' },
      });
      assert.equal(created.status, 200, created.text);
      assert.equal(created.headers.get('x-credential-source'), 'tenant');
      const videoId = created.body.data.video_id;
      const seen: string[] = [];
      let status = '';
      let detail: any;
      for (let i = 0; i < 50 && status !== 'completed'; i++) {
        detail = await invoke('heygen', 'video-status', { path_params: { video_id: videoId } });
        status = detail.body.data.status;
        if (seen.at(-1) !== status) seen.push(status);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 'completed', `states seen: ${seen.join(' → ')}`);
      const video = await fetch(detail.body.data.video_url);
      const bytes = Buffer.from(await video.arrayBuffer());
      assert.equal(bytes.subarray(4, 8).toString(), 'ftyp');
    });

    test('sandbox faults map to the contract', async () => {
      const p = { path_params: { voice_id: 'JBFqnCBsd6RMkjVDRZzb' }, body: { text: 'x' } };
      const quota = await invoke('elevenlabs', 'text-to-speech', p, { 'x-sandbox-fault': '402' });
      assert.equal(quota.status, 402);
      assert.equal(quota.headers.get('x-error-source'), 'upstream');
      const five = await invoke('elevenlabs', 'list-models', {}, { 'x-sandbox-fault': '500' });
      expectError(assert, five, 502, 'upstream_request_failed', 'The upstream external service request failed.');
      assert.equal(five.body.error.upstream_status, 500);
      const reset = await invoke('elevenlabs', 'list-models', {}, { 'x-sandbox-fault': 'reset' });
      expectError(assert, reset, 502, 'upstream_request_failed', 'The upstream external service request failed.');
    });

    test('a credential that the provider rejects: upstream_auth_failed, then cooling down', async () => {
      const bad = await gw.api('POST', '/api/v1/admin/credentials', {
        body: { service: 'elevenlabs', scope: 'tenant', organization: 'acme', secret: 'sk_not_a_sandbox_key_1234' },
      });
      assert.equal(bad.status, 201);
      const r = await invoke('elevenlabs', 'list-voices', { credential_source: 'tenant' });
      expectError(assert, r, 502, 'upstream_auth_failed', 'The upstream external service rejected the configured credentials.');
      assert.equal(r.body.error.upstream_status, 401);
      assert.ok(r.body.error.upstream_code);
      const again = await invoke('elevenlabs', 'list-voices', { credential_source: 'tenant' });
      expectError(assert, again, 502, 'missing_upstream_key', 'upstream provider credentials unavailable');
      const test = await gw.api('POST', `/api/v1/admin/credentials/${bad.body.id}/test`);
      assert.equal(test.status, 200);
      assert.equal(test.body.ok, false);
      assert.equal(test.body.status, 401);
      // Re-enabling (PATCH status active) ends the cool-down at once; the key is still bad.
      assert.equal((await gw.api('PATCH', `/api/v1/admin/credentials/${bad.body.id}`, { body: { status: 'active' } })).status, 200);
      const third = await invoke('elevenlabs', 'list-voices', { credential_source: 'tenant' });
      expectError(assert, third, 502, 'upstream_auth_failed', 'The upstream external service rejected the configured credentials.');
      assert.equal((await gw.api('DELETE', `/api/v1/admin/credentials/${bad.body.id}`)).status, 204);
    });
  });
}
