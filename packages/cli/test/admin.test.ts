// The admin commands and `invoke` against a real gateway (in this process, SQLite in memory)
// whose upstreams are the sandbox. Each step runs the real binary as a child process.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGateway, loadConfig, type Gateway } from '../../gateway/src/index.ts';
import { startSandbox } from '../../sandbox/src/index.ts';
import { looksLikeMp3, oneErrorLine, runCli, tempDir, type RunOptions } from './helpers.ts';

const ADMIN_TOKEN = 'cli-test-admin-token-0123456789';
const PLATFORM_SECRET = 'sandbox_platform_secret_7f3a9c21d4';
const TENANT_SECRET = 'sandbox_tenant_secret_b81e44f0aa';
const VOICE = 'JBFqnCBsd6RMkjVDRZzb';

let gateway: Gateway;
let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let url = '';
let adminApi = false;
const dir = tempDir();

before(async () => {
  sandbox = await startSandbox({ port: 0, videoJobMs: 500 });
  const env: NodeJS.ProcessEnv = {
    PORTICO_PORT: '0',
    PORTICO_DATABASE_URL: 'sqlite::memory:',
    PORTICO_DATA_DIR: join(dir.path, 'gateway-data'),
    PORTICO_ADMIN_TOKEN: ADMIN_TOKEN,
    PORTICO_MASTER_KEY: Buffer.alloc(32, 9).toString('base64'),
    PORTICO_LOG_LEVEL: 'silent',
  };
  for (const s of sandbox.services) env[`PORTICO_BASE_URL_${s.slug.toUpperCase().replace(/-/g, '_')}`] = s.url;
  gateway = await createGateway(loadConfig(env, dir.path));
  url = await gateway.listen();
  // The admin API is written alongside the CLI: skip (and say so) while its routes are missing.
  const probe = await fetch(`${url}/api/v1/admin/organizations`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  await probe.body?.cancel();
  adminApi = probe.status === 200;
});

after(async () => {
  await gateway?.close();
  await sandbox?.close();
  dir.remove();
});

function needsAdminApi(t: TestContext): boolean {
  if (adminApi) return true;
  t.skip('admin API routes (/api/v1/admin/**) are not available yet');
  return false;
}

/** Runs portico as the platform admin against the test gateway. */
function admin(args: string[], opts: RunOptions = {}) {
  return runCli(args, { cwd: dir.path, ...opts, env: { PORTICO_URL: url, PORTICO_ADMIN_TOKEN: ADMIN_TOKEN, ...opts.env } });
}

/** Runs portico with an organization API key (no admin token in the environment). */
function withKey(key: string, args: string[], opts: RunOptions = {}) {
  return runCli(args, { cwd: dir.path, ...opts, env: { PORTICO_URL: url, PORTICO_API_KEY: key, ...opts.env } });
}

function ok(r: { code: number | null; stderr: string; stdout: string }, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`);
  assert.equal(r.stderr, '', what);
}

function fails(r: { code: number | null; stderr: string }, re: RegExp, what: string): string {
  assert.equal(r.code, 1, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
  const line = oneErrorLine(r.stderr);
  assert.match(line, re, what);
  return line;
}

describe('admin commands and invoke against a running gateway', () => {
  let memberKey = '';
  let adminKeyId = '';
  let platformCredId = '';
  let tenantCredId = '';

  test('orgs create / list / delete', async (t) => {
    if (!needsAdminApi(t)) return;
    const a = await admin(['orgs', 'create', 'acme', '--name', 'Acme Inc.', '--json']);
    ok(a, 'orgs create acme');
    assert.equal(JSON.parse(a.stdout).slug, 'acme');
    const b = await admin(['orgs', 'create', 'beta']);
    ok(b, 'orgs create beta');
    assert.match(b.stdout, /Created organization beta/);

    const list = await admin(['orgs', 'list']);
    ok(list, 'orgs list');
    assert.match(list.stdout, /^SLUG\s+NAME\s+PLAN/m);
    assert.match(list.stdout, /^acme\s+Acme Inc\./m);
    assert.match(list.stdout, /^beta\s+beta/m);
    const json = await admin(['orgs', 'list', '--json']);
    ok(json, 'orgs list --json');
    assert.deepEqual((JSON.parse(json.stdout) as { slug: string }[]).map((o) => o.slug).sort(), ['acme', 'beta']);

    fails(await admin(['orgs', 'create', 'acme']), /^portico: 409 conflict: Resource already exists\. \(request \S+\)$/, 'duplicate org');
    fails(await admin(['orgs', 'create', 'Not A Slug']), /400 invalid_request: .*slug/, 'bad slug');

    ok(await admin(['orgs', 'delete', 'beta']), 'orgs delete beta');
    const after = await admin(['orgs', 'list', '--json']);
    assert.deepEqual(
      (JSON.parse(after.stdout) as { slug: string }[]).map((o) => o.slug),
      ['acme'],
    );
    fails(await admin(['orgs', 'delete', 'beta']), /404 not_found: Not found\./, 'delete missing org');
  });

  test('the admin token is read from ./data/admin-token when nothing else is set', async (t) => {
    if (!needsAdminApi(t)) return;
    const cwd = tempDir();
    try {
      mkdirSync(join(cwd.path, 'data'));
      writeFileSync(join(cwd.path, 'data', 'admin-token'), ADMIN_TOKEN + '\n');
      const r = await runCli(['orgs', 'list'], { cwd: cwd.path, env: { PORTICO_URL: url } });
      ok(r, 'orgs list with data/admin-token');
      assert.match(r.stdout, /acme/);
      fails(
        await runCli(['orgs', 'list', '--key', 'wrong-token-0123456789'], { cwd: cwd.path, env: { PORTICO_URL: url } }),
        /401 invalid_token/,
        'wrong --key',
      );
    } finally {
      cwd.remove();
    }
  });

  test('keys create / list / revoke', async (t) => {
    if (!needsAdminApi(t)) return;
    const m = await admin(['keys', 'create', 'acme', '--name', 'backend', '--json']);
    ok(m, 'keys create member');
    const member = JSON.parse(m.stdout) as { id: string; key: string; role: string };
    assert.equal(member.role, 'member');
    assert.match(member.key, /^ptk_/);
    memberKey = member.key;

    const a = await admin(['keys', 'create', 'acme', '--name', 'ops', '--role', 'admin', '--expires-at', '2099-01-01T00:00:00Z']);
    ok(a, 'keys create admin');
    assert.match(a.stdout, /shown only this once/);
    const shown = /^\s+(ptk_\S+)$/m.exec(a.stdout);
    assert.ok(shown, 'the new key is printed on its own line');

    const list = await admin(['keys', 'list', 'acme']);
    ok(list, 'keys list');
    assert.match(list.stdout, /^ID\s+NAME\s+ROLE/m);
    assert.match(list.stdout, /backend\s+member/);
    assert.match(list.stdout, /ops\s+admin/);
    assert.ok(!list.stdout.includes(memberKey), 'keys list never shows a key');
    const listed = JSON.parse((await admin(['keys', 'list', 'acme', '--json'])).stdout) as { id: string; name: string }[];
    adminKeyId = listed.find((k) => k.name === 'ops')!.id;

    fails(await admin(['keys', 'create', 'acme', '--name', 'old', '--expires-at', '2001-01-01T00:00:00Z']), /400 invalid_request: .*expires_at/, 'past expiry');
    fails(await admin(['keys', 'list', 'nosuch']), /404 not_found/, 'keys of a missing org');

    ok(await admin(['keys', 'revoke', 'acme', adminKeyId]), 'keys revoke');
    const again = JSON.parse((await admin(['keys', 'list', 'acme', '--json'])).stdout) as { id: string }[];
    assert.ok(!again.some((k) => k.id === adminKeyId), 'the revoked key is gone from the list');
    fails(await withKey(shown[1]!, ['services', 'list']), /401 invalid_token/, 'a revoked key');
    // A member key is not an admin.
    fails(await withKey(memberKey, ['keys', 'list', 'acme']), /403 permission_denied/, 'member key on an admin route');
  });

  test('credentials add (secret on stdin) / list / test / delete', async (t) => {
    if (!needsAdminApi(t)) return;
    const args = ['credentials', 'add', 'elevenlabs', '--scope', 'platform', '--label', 'main'];
    const p = await admin(args, { input: PLATFORM_SECRET + '\n' });
    ok(p, 'credentials add platform');
    assert.ok(!args.join(' ').includes(PLATFORM_SECRET), 'the secret is not in argv');
    assert.ok(!p.stdout.includes(PLATFORM_SECRET) && !p.stderr.includes(PLATFORM_SECRET), 'the secret is never printed');
    assert.match(p.stdout, /Stored platform credential for elevenlabs/);
    assert.match(p.stdout, /san…/);

    const tArgs = ['credentials', 'add', 'heygen', '--scope', 'tenant', '--org', 'acme', '--json'];
    const tn = await admin(tArgs, { input: TENANT_SECRET });
    ok(tn, 'credentials add tenant');
    assert.ok(!tn.stdout.includes(TENANT_SECRET), 'the secret is never printed');
    const tenant = JSON.parse(tn.stdout) as { id: string; scope: string; organization: string; masked: string };
    assert.equal(tenant.scope, 'tenant');
    assert.equal(tenant.organization, 'acme');
    tenantCredId = tenant.id;

    const masked = await admin(['credentials', 'add', 'elevenlabs', '--scope', 'platform'], { input: 'sk_****abcd' });
    fails(masked, /^portico: 400 masked_credential_value: Credential value is masked; send the full secret\. \(request \S+\)$/, 'masked secret');
    fails(await admin(['credentials', 'add', 'elevenlabs', '--scope', 'platform']), /no secret given/, 'empty stdin');

    const list = await admin(['credentials', 'list']);
    ok(list, 'credentials list');
    assert.match(list.stdout, /^ID\s+SERVICE\s+SCOPE\s+ORG\s+LABEL\s+STATUS\s+SECRET/m);
    assert.ok(!list.stdout.includes(PLATFORM_SECRET) && !list.stdout.includes(TENANT_SECRET));
    const all = JSON.parse((await admin(['credentials', 'list', '--json'])).stdout) as { id: string; service: string; scope: string }[];
    assert.equal(all.length, 2);
    platformCredId = all.find((c) => c.scope === 'platform')!.id;
    const heygenOnly = JSON.parse((await admin(['credentials', 'list', '--service', 'heygen', '--json'])).stdout) as { id: string }[];
    assert.deepEqual(
      heygenOnly.map((c) => c.id),
      [tenantCredId],
    );
    const acmeOnly = JSON.parse((await admin(['credentials', 'list', '--org', 'acme', '--json'])).stdout) as { id: string }[];
    assert.deepEqual(
      acmeOnly.map((c) => c.id),
      [tenantCredId],
    );

    const test1 = await admin(['credentials', 'test', platformCredId]);
    ok(test1, 'credentials test');
    assert.match(test1.stdout, /^ok: the provider accepted credential/);
    const testJson = await admin(['credentials', 'test', tenantCredId, '--json']);
    ok(testJson, 'credentials test --json');
    assert.equal(JSON.parse(testJson.stdout).ok, true);

    // A key the sandbox refuses: the test reports it and exits 1.
    const bad = await admin(['credentials', 'add', 'elevenlabs', '--scope', 'platform', '--label', 'bad', '--json'], { input: 'not_a_sandbox_key_123' });
    ok(bad, 'credentials add bad key');
    const badId = (JSON.parse(bad.stdout) as { id: string }).id;
    fails(await admin(['credentials', 'test', badId]), /failed its test: the provider answered HTTP 401/, 'credentials test of a refused key');
    ok(await admin(['credentials', 'delete', badId]), 'credentials delete');
    fails(await admin(['credentials', 'delete', badId]), /404 not_found/, 'delete twice');
    fails(await admin(['credentials', 'test', 'nosuch']), /404 not_found/, 'test a missing credential');
  });

  test('services list / disable / enable', async (t) => {
    if (!needsAdminApi(t)) return;
    const list = await admin(['services', 'list']);
    ok(list, 'services list');
    assert.match(list.stdout, /^SLUG\s+NAME\s+ENABLED/m);
    assert.match(list.stdout, /^elevenlabs\s+/m);
    assert.match(list.stdout, /^heygen\s+/m);
    const json = JSON.parse((await admin(['services', 'list', '--json'])).stdout) as { slug: string; enabled: boolean }[];
    assert.deepEqual(json.map((s) => s.slug).sort(), ['elevenlabs', 'heygen']);

    ok(await admin(['services', 'disable', 'heygen']), 'services disable');
    const off = JSON.parse((await admin(['services', 'list', '--json'])).stdout) as { slug: string; enabled: boolean }[];
    assert.equal(off.find((s) => s.slug === 'heygen')!.enabled, false);
    fails(await withKey(memberKey, ['invoke', 'heygen', 'list-avatars']), /404 service_not_found/, 'invoke a disabled service');
    ok(await admin(['services', 'enable', 'heygen']), 'services enable');
    ok(await withKey(memberKey, ['invoke', 'heygen', 'list-avatars']), 'invoke after enable');

    ok(await admin(['services', 'disable', 'heygen', '--org', 'acme']), 'services disable --org');
    fails(await withKey(memberKey, ['invoke', 'heygen', 'list-avatars']), /404 service_not_found/, 'disabled for the org');
    ok(await admin(['services', 'enable', 'heygen', '--org', 'acme']), 'services enable --org');

    fails(await admin(['services', 'disable', 'nosuch']), /404 service_not_found/, 'unknown service');
    // An organization key sees what discovery offers it.
    const mine = await withKey(memberKey, ['services', 'list']);
    ok(mine, 'services list with an org key');
    assert.match(mine.stdout, /elevenlabs/);
  });

  test('policy get / set / reset', async (t) => {
    if (!needsAdminApi(t)) return;
    const get = await admin(['policy', 'get', 'elevenlabs']);
    ok(get, 'policy get');
    assert.match(get.stdout, /Order\s+tenant key, then platform key/);
    const json = JSON.parse((await admin(['policy', 'get', 'elevenlabs', '--json'])).stdout);
    assert.deepEqual(json.order, ['tenant', 'platform']);
    assert.equal(json.credential_policy.allow_tenant_key, true);

    const set = await admin(['policy', 'set', 'elevenlabs', '--org', 'acme', '--no-tenant']);
    ok(set, 'policy set --org');
    assert.match(set.stdout, /Order\s+platform key$/m);
    const eff = await admin(['policy', 'get', 'elevenlabs', '--org', 'acme', '--json']);
    ok(eff, 'policy get --org');
    assert.deepEqual(JSON.parse(eff.stdout).order, ['platform']);
    // The service's own policy is unchanged.
    assert.deepEqual(JSON.parse((await admin(['policy', 'get', 'elevenlabs', '--json'])).stdout).order, ['tenant', 'platform']);
    ok(await admin(['policy', 'reset', 'elevenlabs', '--org', 'acme']), 'policy reset');
    assert.deepEqual(JSON.parse((await admin(['policy', 'get', 'elevenlabs', '--org', 'acme', '--json'])).stdout).order, ['tenant', 'platform']);

    const none = await admin(['policy', 'set', 'heygen', '--no-tenant', '--no-platform']);
    ok(none, 'policy set no source');
    assert.match(none.stdout, /no credential source allowed/);
    fails(await withKey(memberKey, ['invoke', 'heygen', 'list-avatars']), /400 invalid_credential_policy/, 'no source allowed');
    const back = await admin(['policy', 'set', 'heygen', '--tenant', '--platform', '--default', 'tenant', '--fallback']);
    ok(back, 'policy set all four');
    assert.match(back.stdout, /tenant key, then platform key/);
    fails(await admin(['policy', 'get', 'nosuch']), /404 service_not_found/, 'unknown service');
  });

  test('invoke: JSON, audio to a file and to a pipe, errors', async (t) => {
    if (!needsAdminApi(t)) return;
    const voices = await withKey(memberKey, ['invoke', 'elevenlabs', 'list-voices', '--json']);
    ok(voices, 'invoke list-voices');
    assert.ok(Array.isArray(JSON.parse(voices.stdout).voices));

    const out = join(dir.path, 'out.mp3');
    const tts = await withKey(memberKey, [
      'invoke',
      'elevenlabs',
      'text-to-speech',
      '--path',
      `voice_id=${VOICE}`,
      '--body',
      '{"text":"Hello from the CLI test"}',
      '-o',
      'out.mp3',
    ]);
    ok(tts, 'invoke text-to-speech -o');
    assert.match(tts.stdout, /Wrote .* \(audio\/mpeg\) to out\.mp3/);
    const mp3 = readFileSync(out);
    assert.ok(mp3.length > 0 && looksLikeMp3(mp3), 'out.mp3 starts like an MP3');

    const bodyFile = join(dir.path, 'tts.json');
    writeFileSync(bodyFile, JSON.stringify({ text: 'Piped' }));
    const piped = await withKey(memberKey, [
      'invoke',
      'elevenlabs',
      'text-to-speech',
      '--path',
      `voice_id=${VOICE}`,
      '--body',
      `@${bodyFile}`,
      '--source',
      'platform',
    ]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.ok(looksLikeMp3(piped.stdoutBytes), 'stdout (not a TTY) gets the audio bytes');

    const meta = await withKey(memberKey, [
      'invoke',
      'elevenlabs',
      'text-to-speech',
      '--path',
      `voice_id=${VOICE}`,
      '--body',
      '{"text":"x"}',
      '-o',
      'meta.mp3',
      '--json',
    ]);
    ok(meta, 'invoke -o --json');
    const m = JSON.parse(meta.stdout);
    assert.equal(m.file, 'meta.mp3');
    assert.ok(m.bytes > 0);
    assert.equal(m.credential_source, 'platform');

    // The platform admin token acts for an organization with --org.
    const asAdmin = await admin(['invoke', 'heygen', 'list-avatars', '--org', 'acme']);
    ok(asAdmin, 'invoke as admin --org');
    assert.ok(Array.isArray(JSON.parse(asAdmin.stdout).data));

    const line = fails(
      await withKey(memberKey, ['invoke', 'elevenlabs', 'list-voices', '--source', 'tenant']),
      /^portico: 404 credentials_not_found: No allowed credentials found for external proxy service 'elevenlabs'\. \(request \S+\)$/,
      'no tenant credential',
    );
    assert.ok(line.length < 300);
    fails(
      await withKey(memberKey, ['invoke', 'nosuch', 'thing']),
      /404 service_not_found: External proxy service 'nosuch' not found or disabled\./,
      'unknown service',
    );
    fails(
      await withKey(memberKey, ['invoke', 'elevenlabs', 'text-to-speech', '--body', '{"text":"x"}', '-o', 'x.mp3']),
      /400 missing_path_parameter: Missing required path parameter: voice_id/,
      'missing path param',
    );
    fails(await withKey(memberKey, ['invoke', 'elevenlabs', 'list-voices', '--query', 'bogus=1']), /400 invalid_query_parameter/, 'unknown query param');
    // An upstream 4xx is passed through and shown as the provider's error.
    fails(
      await withKey(memberKey, ['invoke', 'heygen', 'generate-video', '--body', '{"type":"avatar"}']),
      /^portico: 400 upstream \S+: .+ \(request \S+\)$/,
      'upstream error',
    );
    fails(await withKey('ptk_not_a_real_key_000000000000', ['invoke', 'elevenlabs', 'list-voices']), /401 invalid_token: Invalid token\./, 'bad key');
  });
});
