import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ExternalProxyClient, ProxyError } from '../src/index.ts';
import { API_KEY, PLATFORM_TOKEN, startStubGateway, type StubGateway } from './helpers/stub-gateway.ts';

const NO_RETRY = { retries: 0 };

describe('discovery', () => {
  let gw: StubGateway;
  before(async () => {
    gw = await startStubGateway();
  });
  after(() => gw.close());

  test('listServices returns the summaries and sends the bearer key', async () => {
    const client = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY });
    const services = await client.listServices();
    assert.deepEqual(
      services.map((s) => s.slug),
      ['elevenlabs', 'heygen'],
    );
    assert.equal(services[0]!.name, 'ElevenLabs');
    assert.equal('endpoints' in services[0]!, false);
    const last = gw.requests.at(-1)!;
    assert.equal(last.path, '/api/v1/external-proxy/services');
    assert.equal(last.headers.authorization, `Bearer ${API_KEY}`);
    assert.equal(last.headers['x-portico-organization'], undefined);
  });

  test('getService returns the detail with endpoints and path params', async () => {
    const client = new ExternalProxyClient({ baseUrl: `${gw.url}/`, apiKey: API_KEY });
    const detail = await client.getService('elevenlabs');
    assert.equal(detail.slug, 'elevenlabs');
    const tts = detail.endpoints.find((e) => e.slug === 'text-to-speech')!;
    assert.equal(tts.method, 'POST');
    assert.deepEqual(tts.path_params, ['voice_id']);
    assert.equal(tts.response_mode, 'binary');
    const endpoint = await client.getEndpoint('heygen', 'generate-video-v2');
    assert.equal(endpoint.deprecated, true);
    assert.equal(endpoint.sunset, '2026-10-31');
  });

  test('a base URL that names the API prefix is accepted', async () => {
    const client = new ExternalProxyClient({ baseUrl: `${gw.url}/api/v1/external-proxy/`, apiKey: API_KEY });
    assert.equal(client.baseUrl, gw.url);
    assert.equal((await client.listServices()).length, 2);
  });

  test('organization option sends X-Portico-Organization (platform token)', async () => {
    const without = new ExternalProxyClient({ baseUrl: gw.url, apiKey: PLATFORM_TOKEN, retry: false });
    await assert.rejects(without.listServices(), (err: unknown) => {
      assert.ok(err instanceof ProxyError);
      assert.equal(err.status, 403);
      assert.equal(err.code, 'permission_denied');
      return true;
    });
    const client = new ExternalProxyClient({ baseUrl: gw.url, apiKey: PLATFORM_TOKEN, organization: 'acme' });
    await client.listServices();
    assert.equal(gw.requests.at(-1)!.headers['x-portico-organization'], 'acme');
  });

  test('unknown service is a 404 service_not_found ProxyError with the request id', async () => {
    const client = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, retry: NO_RETRY });
    await assert.rejects(client.getService('unknown'), (err: unknown) => {
      assert.ok(err instanceof ProxyError);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'service_not_found');
      assert.equal(err.type, 'not_found_error');
      assert.equal(err.source, 'gateway');
      assert.equal(err.message, "404 service_not_found: External proxy service 'unknown' not found or disabled.");
      assert.match(err.requestId!, /^req_\d+$/);
      return true;
    });
  });

  test('a wrong key is a 401 invalid_token', async () => {
    const client = new ExternalProxyClient({ baseUrl: gw.url, apiKey: 'nope' });
    await assert.rejects(client.listServices(), { name: 'ProxyError', status: 401, code: 'invalid_token', message: '401 invalid_token: Invalid token.' });
  });

  test('the discovery cache: one fetch per TTL (default 60 s), invalidated on expiry and by clearCache', async (t) => {
    // Only Date is mocked: sockets and timers run for real, the cache's clock is ours.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const client = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY });
    const before = gw.serviceFetches('heygen').length;
    await client.invoke('heygen', 'list-voices');
    await client.invoke('heygen', 'video-status', { path_params: { video_id: 'v1' } });
    t.mock.timers.tick(59_000);
    await client.getService('heygen');
    assert.equal(gw.serviceFetches('heygen').length - before, 1, 'second invoke reuses the cached service');
    t.mock.timers.tick(1_001);
    await client.invoke('heygen', 'list-voices');
    assert.equal(gw.serviceFetches('heygen').length - before, 2, 'after the TTL the service is fetched again');
    await client.invoke('heygen', 'list-voices');
    assert.equal(gw.serviceFetches('heygen').length - before, 2);
    client.clearCache('heygen');
    await client.invoke('heygen', 'list-voices');
    assert.equal(gw.serviceFetches('heygen').length - before, 3, 'clearCache forgets it');
    await client.getService('heygen', { fresh: true });
    assert.equal(gw.serviceFetches('heygen').length - before, 4, 'fresh: true skips the cache');
  });

  test('discoveryTtlMs sets the TTL; 0 disables the cache', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const short = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, discoveryTtlMs: 100 });
    const uncached = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, discoveryTtlMs: 0 });
    const before = gw.serviceFetches('elevenlabs').length;
    for (let i = 0; i < 3; i++) await short.invoke('elevenlabs', 'list-models');
    assert.equal(gw.serviceFetches('elevenlabs').length - before, 1);
    t.mock.timers.tick(101);
    await short.invoke('elevenlabs', 'list-models');
    assert.equal(gw.serviceFetches('elevenlabs').length - before, 2);
    for (let i = 0; i < 3; i++) await uncached.invoke('elevenlabs', 'list-models');
    assert.equal(gw.serviceFetches('elevenlabs').length - before, 5);
  });

  test('concurrent first calls share one discovery request', async () => {
    const client = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY });
    const before = gw.serviceFetches('elevenlabs').length;
    await Promise.all(Array.from({ length: 5 }, () => client.invoke('elevenlabs', 'list-models')));
    assert.equal(gw.serviceFetches('elevenlabs').length - before, 1);
  });

  test('an endpoint missing from the cached service is looked up once more, then 404 endpoint_not_found locally', async () => {
    const client = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY });
    await client.getService('heygen');
    const detail = gw.services.get('heygen')!;
    const added = { ...detail.endpoints[0]!, slug: 'brand-new' };
    gw.services.set('heygen', { ...detail, endpoints: [...detail.endpoints, added] });
    try {
      const before = gw.serviceFetches('heygen').length;
      const result = (await client.invoke('heygen', 'brand-new')) as { ok: boolean };
      assert.equal(result.ok, true);
      assert.equal(gw.serviceFetches('heygen').length - before, 1);

      const invokesBefore = gw.invokes().length;
      await assert.rejects(client.invoke('heygen', 'no-such-action'), (err: unknown) => {
        assert.ok(err instanceof ProxyError);
        assert.equal(err.status, 404);
        assert.equal(err.code, 'endpoint_not_found');
        assert.equal(err.message, "404 endpoint_not_found: External proxy endpoint 'no-such-action' not found for service 'heygen'.");
        assert.equal(err.requestId, null);
        return true;
      });
      assert.equal(gw.invokes().length, invokesBefore);
    } finally {
      gw.services.set('heygen', detail);
    }
  });

  test('a discovery error is not cached', async () => {
    const client = new ExternalProxyClient({ baseUrl: gw.url, apiKey: API_KEY, retry: false });
    const detail = gw.services.get('heygen')!;
    gw.services.delete('heygen');
    await assert.rejects(client.getService('heygen'), { code: 'service_not_found' });
    gw.services.set('heygen', detail);
    assert.equal((await client.getService('heygen')).slug, 'heygen');
  });
});
