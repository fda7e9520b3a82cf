// Credential encryption at rest (SPEC §2 PORTICO_MASTER_KEY, §1 "encrypted at rest"):
// AES-256-GCM with the row identity bound in, a fresh nonce per write; and what the gateway
// answers when a stored ciphertext cannot be decrypted (§6 step 3 → invalid_upstream_key_info).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decryptPayload, encryptPayload, masterKeyId, type CredentialIdentity } from '../src/credentials/crypto.ts';
import { databases, expectError, startGateway, MASTER_KEY, type ApiResponse, type TestGateway } from './helpers.ts';
import { seedCredential, seedKey, seedOrg, startStub } from './fixtures.ts';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 9);
const WHO: CredentialIdentity = { id: '01JD000000000000000000000A', service: 'elevenlabs', scope: 'tenant', organization: 'acme' };
const PAYLOAD = { key: 'sk_crypto_unit_secret_0001' };

describe('encryptPayload / decryptPayload', () => {
  test('round trip', () => {
    const ct = encryptPayload(KEY, WHO, PAYLOAD);
    assert.deepEqual(decryptPayload(KEY, WHO, ct), PAYLOAD);
    const platform: CredentialIdentity = { id: '01JD000000000000000000000B', service: 'heygen', scope: 'platform', organization: null };
    const nested = { key: 'sk_x_123456789', extra: { n: 1, list: ['a', 'ü', '🔑'] } };
    assert.deepEqual(decryptPayload(KEY, platform, encryptPayload(KEY, platform, nested)), nested);
  });

  test('the ciphertext is base64(nonce | tag | ciphertext) and never contains the secret', () => {
    const ct = encryptPayload(KEY, WHO, PAYLOAD);
    assert.match(ct, /^[A-Za-z0-9+/]+={0,2}$/);
    const raw = Buffer.from(ct, 'base64');
    assert.equal(raw.length, 12 + 16 + Buffer.byteLength(JSON.stringify(PAYLOAD)));
    assert.ok(!ct.includes(PAYLOAD.key));
    assert.ok(!raw.includes(Buffer.from(PAYLOAD.key)));
  });

  test('a fresh nonce per write: the same payload twice gives different ciphertexts', () => {
    const seen = new Set<string>();
    const nonces = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const ct = encryptPayload(KEY, WHO, PAYLOAD);
      seen.add(ct);
      nonces.add(Buffer.from(ct, 'base64').subarray(0, 12).toString('hex'));
      assert.deepEqual(decryptPayload(KEY, WHO, ct), PAYLOAD);
    }
    assert.equal(seen.size, 50);
    assert.equal(nonces.size, 50);
  });

  test('tampering with any single byte (nonce, tag or ciphertext) throws', () => {
    const ct = encryptPayload(KEY, WHO, PAYLOAD);
    const raw = Buffer.from(ct, 'base64');
    for (let i = 0; i < raw.length; i++) {
      const bad = Buffer.from(raw);
      bad[i] = bad[i]! ^ 0x01;
      assert.throws(() => decryptPayload(KEY, WHO, bad.toString('base64')), Error, `byte ${i}`);
    }
  });

  test('truncated, extended, empty or non-base64 ciphertexts throw', () => {
    const raw = Buffer.from(encryptPayload(KEY, WHO, PAYLOAD), 'base64');
    for (const bad of [raw.subarray(0, raw.length - 1), raw.subarray(0, 28), raw.subarray(0, 10), Buffer.concat([raw, Buffer.from([0])]), Buffer.alloc(0)]) {
      assert.throws(() => decryptPayload(KEY, WHO, bad.toString('base64')));
    }
    assert.throws(() => decryptPayload(KEY, WHO, '!!!not base64!!!'));
  });

  test('a ciphertext copied to another row identity throws', () => {
    const ct = encryptPayload(KEY, WHO, PAYLOAD);
    const others: [string, CredentialIdentity][] = [
      ['other id', { ...WHO, id: '01JD000000000000000000000Z' }],
      ['other service', { ...WHO, service: 'heygen' }],
      ['other scope (platform, no organization)', { ...WHO, scope: 'platform', organization: null }],
      ['other scope, same organization', { ...WHO, scope: 'platform' }],
      ['other organization', { ...WHO, organization: 'acme2' }],
      ['no organization', { ...WHO, organization: null }],
    ];
    for (const [name, who] of others) assert.throws(() => decryptPayload(KEY, who, ct), Error, name);
    // And the way back: a platform row's ciphertext into a tenant row.
    const platform: CredentialIdentity = { ...WHO, scope: 'platform', organization: null };
    assert.throws(() => decryptPayload(KEY, WHO, encryptPayload(KEY, platform, PAYLOAD)));
  });

  test('a wrong master key throws', () => {
    const ct = encryptPayload(KEY, WHO, PAYLOAD);
    assert.throws(() => decryptPayload(OTHER_KEY, WHO, ct));
    assert.throws(() => decryptPayload(randomBytes(32), WHO, ct));
    assert.deepEqual(decryptPayload(OTHER_KEY, WHO, encryptPayload(OTHER_KEY, WHO, PAYLOAD)), PAYLOAD);
  });

  test('masterKeyId identifies the key without revealing it', () => {
    assert.equal(masterKeyId(KEY), masterKeyId(Buffer.alloc(32, 7)));
    assert.notEqual(masterKeyId(KEY), masterKeyId(OTHER_KEY));
    assert.match(masterKeyId(KEY), /^[0-9a-f]{16}$/);
    assert.ok(!KEY.toString('hex').includes(masterKeyId(KEY)));
  });
});

// ---------------------------------------------------------------------------------------
// Through the gateway.
// ---------------------------------------------------------------------------------------

const SECRETS: string[] = [];
const BODIES: string[] = [];
const GATEWAYS: TestGateway[] = [];

function secret(name: string): string {
  const s = `sk_${name}_${randomBytes(8).toString('hex')}`;
  SECRETS.push(s);
  return s;
}

async function invoke(gw: TestGateway, token: string, body: Record<string, unknown> = {}): Promise<ApiResponse> {
  const r = await gw.api('POST', '/api/v1/external-proxy/elevenlabs/list-voices', { token, body });
  BODIES.push(r.text);
  return r;
}

/** A stub ElevenLabs that answers 200 with the name of the key it got (never the key). */
async function keyStub(names: Map<string, string>) {
  return startStub((req, res) => {
    const name = names.get(String(req.headers['xi-api-key'])) ?? 'unknown';
    res.writeHead(name === 'unknown' ? 401 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(name === 'unknown' ? { detail: { status: 'invalid_api_key', message: 'Invalid API key' } } : { voices: [], key: name }));
  });
}

for (const db of await databases()) {
  test(`[${db}] ciphertexts swapped between rows, or copied to another organization → 502 invalid_upstream_key_info`, async () => {
    const names = new Map<string, string>();
    const stub = await keyStub(names);
    const gw = await startGateway({ db, env: { PORTICO_BASE_URL_ELEVENLABS: stub.url } });
    GATEWAYS.push(gw);
    try {
      await seedOrg(gw, 'acme');
      await seedOrg(gw, 'beta');
      const acmeKey = await seedKey(gw, 'acme');
      const betaKey = await seedKey(gw, 'beta');
      const sA = secret('platform_a');
      const sB = secret('platform_b');
      const sT = secret('acme_tenant');
      const sU = secret('beta_tenant');
      names.set(sA, 'A').set(sB, 'B').set(sT, 'T').set(sU, 'U');
      const a = await seedCredential(gw, { service: 'elevenlabs', scope: 'platform', key: sA });
      const b = await seedCredential(gw, { service: 'elevenlabs', scope: 'platform', key: sB });
      const t = await seedCredential(gw, { service: 'elevenlabs', scope: 'tenant', organization: 'acme', key: sT });
      const u = await seedCredential(gw, { service: 'elevenlabs', scope: 'tenant', organization: 'beta', key: sU });
      const { store, registry } = gw.gateway.ctx;

      // Sanity: all four work before anything is touched.
      assert.equal((await invoke(gw, acmeKey)).body?.key, 'T');
      assert.equal((await invoke(gw, betaKey)).body?.key, 'U');
      assert.equal((await invoke(gw, acmeKey, { credential_source: 'platform' })).body?.key, 'A');
      assert.equal((await invoke(gw, acmeKey, { credential_source: 'platform' })).body?.key, 'B');

      const rows = await store.db.selectFrom('credentials').select(['id', 'ciphertext']).execute();
      const ct = new Map(rows.map((r) => [r.id, r.ciphertext]));
      const setCt = (id: string, value: string) => store.db.updateTable('credentials').set({ ciphertext: value }).where('id', '=', id).execute();

      // Swap the two platform keys' ciphertexts: both rows fail to decrypt.
      await setCt(a, ct.get(b)!);
      await setCt(b, ct.get(a)!);
      registry.changed();
      const before = stub.requests.length;
      const r1 = await invoke(gw, acmeKey, { credential_source: 'platform' });
      expectError(assert, r1, 502, 'invalid_upstream_key_info', 'invalid key info response');
      // The tenant key of acme is untouched and still used by default.
      assert.equal((await invoke(gw, acmeKey)).body?.key, 'T');

      // Swap acme's tenant ciphertext with beta's tenant ciphertext (other organization).
      await setCt(t, ct.get(u)!);
      await setCt(u, ct.get(t)!);
      registry.changed();
      expectError(assert, await invoke(gw, acmeKey), 502, 'invalid_upstream_key_info', 'invalid key info response');
      expectError(assert, await invoke(gw, betaKey), 502, 'invalid_upstream_key_info', 'invalid key info response');
      expectError(assert, await invoke(gw, betaKey, { credential_source: 'tenant' }), 502, 'invalid_upstream_key_info', 'invalid key info response');
      // Only the one sanity call reached the upstream since the swaps.
      assert.equal(stub.requests.length, before + 1);

      // Put the right ciphertexts back: everything works again (nothing was destroyed).
      for (const [id, value] of ct) await setCt(id, value);
      registry.changed();
      assert.equal((await invoke(gw, acmeKey)).body?.key, 'T');
      assert.equal((await invoke(gw, betaKey)).body?.key, 'U');
    } finally {
      await gw.close();
      await stub.close();
    }
  });
}

test('[sqlite file] a second gateway with another PORTICO_MASTER_KEY cannot use the credentials; no plaintext on disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-crypto-'));
  const names = new Map<string, string>();
  const stub = await keyStub(names);
  const dbUrl = `sqlite:${join(dir, 'portico.db')}`;
  const otherKey = Buffer.alloc(32, 42).toString('base64');
  const sP = secret('file_platform');
  const sT = secret('file_tenant');
  names.set(sP, 'P').set(sT, 'T');
  let apiKey = '';
  try {
    const gw1 = await startGateway({ env: { PORTICO_DATABASE_URL: dbUrl, PORTICO_BASE_URL_ELEVENLABS: stub.url } });
    GATEWAYS.push(gw1);
    try {
      await seedOrg(gw1, 'acme');
      apiKey = await seedKey(gw1, 'acme');
      await seedCredential(gw1, { service: 'elevenlabs', scope: 'platform', key: sP });
      await seedCredential(gw1, { service: 'elevenlabs', scope: 'tenant', organization: 'acme', key: sT });
      assert.equal((await invoke(gw1, apiKey)).body?.key, 'T');
      assert.equal((await invoke(gw1, apiKey, { credential_source: 'platform' })).body?.key, 'P');
    } finally {
      await gw1.close();
    }

    const gw2 = await startGateway({ env: { PORTICO_DATABASE_URL: dbUrl, PORTICO_MASTER_KEY: otherKey, PORTICO_BASE_URL_ELEVENLABS: stub.url } });
    GATEWAYS.push(gw2);
    const before = stub.requests.length;
    try {
      expectError(assert, await invoke(gw2, apiKey), 502, 'invalid_upstream_key_info', 'invalid key info response');
      expectError(assert, await invoke(gw2, apiKey, { credential_source: 'platform' }), 502, 'invalid_upstream_key_info', 'invalid key info response');
      // Even with the key id column rewritten to claim the new key, GCM refuses the bytes.
      await gw2.gateway.ctx.store.db
        .updateTable('credentials')
        .set({ key_id: masterKeyId(Buffer.from(otherKey, 'base64')) })
        .execute();
      gw2.gateway.ctx.registry.changed();
      expectError(assert, await invoke(gw2, apiKey), 502, 'invalid_upstream_key_info', 'invalid key info response');
      assert.equal(stub.requests.length, before, 'no upstream call with an undecryptable key');
      await gw2.gateway.ctx.store.db
        .updateTable('credentials')
        .set({ key_id: masterKeyId(Buffer.from(MASTER_KEY, 'base64')) })
        .execute();
    } finally {
      await gw2.close();
    }

    // The original key still opens them.
    const gw3 = await startGateway({ env: { PORTICO_DATABASE_URL: dbUrl, PORTICO_BASE_URL_ELEVENLABS: stub.url } });
    GATEWAYS.push(gw3);
    try {
      assert.equal((await invoke(gw3, apiKey)).body?.key, 'T');
    } finally {
      await gw3.close();
    }

    // Every file SQLite wrote (db, -wal, -shm): no secret, no API key, in any common encoding.
    const files = readdirSync(dir);
    assert.ok(files.includes('portico.db'), files.join(','));
    for (const f of files) {
      const bytes = readFileSync(join(dir, f));
      for (const s of [sP, sT, apiKey]) {
        for (const enc of [Buffer.from(s, 'utf8'), Buffer.from(s, 'utf16le'), Buffer.from(Buffer.from(s).toString('base64'))]) {
          assert.equal(bytes.indexOf(enc), -1, `${f} holds a secret in clear`);
        }
      }
    }
  } finally {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// Runs last (tests of a file run in order): every gateway above, logs and response bodies.
test('secret scan: no secret in any log line or response body of this file', () => {
  for (const gw of GATEWAYS) {
    for (const line of gw.logs) for (const s of SECRETS) assert.ok(!line.includes(s), `secret in a log line: ${line}`);
  }
  for (const body of BODIES) for (const s of SECRETS) assert.ok(!body.includes(s), `secret in a response body: ${body}`);
  assert.ok(SECRETS.length > 0 && BODIES.length > 0);
});
