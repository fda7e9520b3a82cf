// Unit tests of the panel's pure logic: the policy preview mirrors the gateway's describePolicy on
// every policy, and the schema-driven credential form maps schemas to fields and payloads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describePolicy as gatewayDescribe } from '../../gateway/src/credentials/policy.ts';
import { describePolicy, policyNotes } from '../src/policy.ts';
import { payloadFrom, schemaFields } from '../src/schema-fields.ts';
import type { CredentialPolicy } from '../src/types.ts';

function allPolicies(): CredentialPolicy[] {
  const out: CredentialPolicy[] = [];
  for (const t of [false, true])
    for (const p of [false, true])
      for (const d of ['tenant', 'platform'] as const)
        for (const f of [false, true]) out.push({ allow_tenant_key: t, allow_platform_key: p, default_source: d, fallback_to_platform_key: f });
  return out;
}

test('the policy preview says exactly what the gateway resolves, for all 16 policies', () => {
  for (const p of allPolicies()) assert.equal(describePolicy(p), gatewayDescribe(p), JSON.stringify(p));
});

test('policy previews in plain language', () => {
  const base = { allow_tenant_key: true, allow_platform_key: true, default_source: 'tenant', fallback_to_platform_key: true } as const;
  assert.equal(describePolicy(base), 'tenant key, then platform key');
  assert.equal(describePolicy({ ...base, fallback_to_platform_key: false }), 'tenant key');
  assert.equal(describePolicy({ ...base, default_source: 'platform' }), 'platform key');
  assert.equal(describePolicy({ ...base, allow_tenant_key: false, allow_platform_key: false }), 'no credential source allowed: every call fails');
  assert.deepEqual(policyNotes(base), []);
  assert.deepEqual(policyNotes({ ...base, allow_tenant_key: false }), [
    'The default source (tenant) is not allowed, so the allowed one is used.',
    'Fallback has no effect: the platform key is already tried first.',
  ]);
  assert.match(policyNotes({ ...base, allow_platform_key: false })[0]!, /Fallback has no effect/);
});

test('schema fields: the built-in {key} schema gives one required secret field', () => {
  const schema = { type: 'object', required: ['key'], properties: { key: { type: 'string', minLength: 8, description: 'The provider API key.' } } };
  const fields = schemaFields(schema);
  assert.equal(fields.length, 1);
  assert.equal(fields[0]!.name, 'key');
  assert.equal(fields[0]!.label, 'API key');
  assert.equal(fields[0]!.kind, 'secret');
  assert.equal(fields[0]!.required, true);
  assert.equal(fields[0]!.description, 'The provider API key.');
  assert.deepEqual(payloadFrom(fields, { key: '  sandbox_abc123  ' }), { key: 'sandbox_abc123' });
});

test('schema fields: types, enums, optional fields left out', () => {
  const schema = {
    type: 'object',
    required: ['key', 'region'],
    properties: {
      key: { type: 'string' },
      account_id: { type: 'string', title: 'Account' },
      region: { type: 'string', enum: ['us', 'eu'] },
      priority: { type: 'integer' },
      sandbox: { type: 'boolean' },
      client_secret: { type: 'string' },
    },
  };
  const f = schemaFields(schema);
  assert.deepEqual(
    f.map((x) => [x.name, x.kind, x.required, x.label]),
    [
      ['key', 'secret', true, 'API key'],
      ['account_id', 'text', false, 'Account'],
      ['region', 'enum', true, 'Region'],
      ['priority', 'integer', false, 'Priority'],
      ['sandbox', 'boolean', false, 'Sandbox'],
      ['client_secret', 'secret', false, 'Client secret'],
    ],
  );
  assert.deepEqual(payloadFrom(f, { key: 'k', account_id: '', region: 'eu', priority: '3', sandbox: true }), {
    key: 'k',
    region: 'eu',
    priority: 3,
    sandbox: true,
  });
});

test('schema fields: a schema without properties falls back to one key field', () => {
  assert.deepEqual(
    schemaFields({ type: 'object' }).map((f) => f.name),
    ['key'],
  );
  assert.deepEqual(
    schemaFields(undefined).map((f) => f.kind),
    ['secret'],
  );
});
