// SPEC §3/§4: who may discover and invoke what — plans, per-organization and platform-wide
// enablement, and the platform token acting for an organization.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databases, expectError, startGateway, type TestGateway } from './helpers.ts';

for (const db of await databases()) {
  describe(`discovery access on ${db}`, () => {
    let gw: TestGateway;
    let key: string;
    const DENIED = 'You do not have permission to perform this action.';

    before(async () => {
      gw = await startGateway({ db });
      assert.equal((await gw.api('PUT', '/api/v1/admin/plans/voice-only', { body: { services: ['elevenlabs'] } })).status, 201);
      assert.equal((await gw.api('POST', '/api/v1/admin/organizations', { body: { slug: 'acme', name: 'Acme', plan: 'voice-only' } })).status, 201);
      key = (await gw.api('POST', '/api/v1/admin/organizations/acme/api-keys', { body: { name: 'm', role: 'member' } })).body.key;
    });
    after(() => gw.close());

    test('a service outside the plan is absent from the list and 403 service_not_in_plan elsewhere', async () => {
      const list = await gw.api('GET', '/api/v1/external-proxy/services', { token: key });
      assert.deepEqual(
        list.body.services.map((s: { slug: string }) => s.slug),
        ['elevenlabs'],
      );
      expectError(assert, await gw.api('GET', '/api/v1/external-proxy/services/heygen', { token: key }), 403, 'service_not_in_plan', DENIED);
      expectError(
        assert,
        await gw.api('GET', '/api/v1/external-proxy/services/heygen/endpoints/list-voices', { token: key }),
        403,
        'service_not_in_plan',
        DENIED,
      );
      expectError(assert, await gw.api('POST', '/api/v1/external-proxy/heygen/list-voices', { token: key, body: {} }), 403, 'service_not_in_plan', DENIED);
    });

    test('a service disabled for the organization, or platform-wide, is 404 service_not_found', async () => {
      const message = "External proxy service 'elevenlabs' not found or disabled.";
      assert.equal((await gw.api('PATCH', '/api/v1/admin/organizations/acme/services/elevenlabs', { body: { enabled: false } })).status, 200);
      expectError(assert, await gw.api('GET', '/api/v1/external-proxy/services/elevenlabs', { token: key }), 404, 'service_not_found', message);
      expectError(assert, await gw.api('POST', '/api/v1/external-proxy/elevenlabs/list-voices', { token: key, body: {} }), 404, 'service_not_found', message);
      assert.deepEqual((await gw.api('GET', '/api/v1/external-proxy/services', { token: key })).body.services, []);
      assert.equal((await gw.api('PATCH', '/api/v1/admin/organizations/acme/services/elevenlabs', { body: { enabled: true } })).status, 200);
      assert.equal((await gw.api('PATCH', '/api/v1/admin/services/elevenlabs', { body: { enabled: false } })).status, 200);
      expectError(assert, await gw.api('GET', '/api/v1/external-proxy/services/elevenlabs', { token: key }), 404, 'service_not_found', message);
      assert.equal((await gw.api('PATCH', '/api/v1/admin/services/elevenlabs', { body: { enabled: true } })).status, 200);
      assert.equal((await gw.api('GET', '/api/v1/external-proxy/services/elevenlabs', { token: key })).status, 200);
    });

    test('the platform token needs X-Portico-Organization naming an existing organization', async () => {
      expectError(assert, await gw.api('GET', '/api/v1/external-proxy/services'), 403, 'permission_denied', DENIED);
      expectError(assert, await gw.api('POST', '/api/v1/external-proxy/elevenlabs/list-voices', { body: {} }), 403, 'permission_denied', DENIED);
      expectError(
        assert,
        await gw.api('GET', '/api/v1/external-proxy/services', { headers: { 'x-portico-organization': 'nobody' } }),
        403,
        'permission_denied',
        DENIED,
      );
      const acting = await gw.api('GET', '/api/v1/external-proxy/services', { headers: { 'x-portico-organization': 'acme' } });
      assert.equal(acting.status, 200);
      assert.deepEqual(
        acting.body.services.map((s: { slug: string }) => s.slug),
        ['elevenlabs'],
      );
    });

    test('discovery needs authentication', async () => {
      expectError(
        assert,
        await gw.api('GET', '/api/v1/external-proxy/services', { token: null }),
        401,
        'not_authenticated',
        'Authentication credentials were not provided.',
      );
      expectError(assert, await gw.api('GET', '/api/v1/external-proxy/services', { token: 'nope' }), 401, 'invalid_token', 'Invalid token.');
    });
  });
}
