// HTTP-level tests of the admin panel's session routes (POST/GET/DELETE /admin/session), the
// session cookie on the admin API (with CSRF), and the panel's per-organization service view.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ADMIN_TOKEN, expectError, startGateway, type ApiResponse, type TestGateway } from '../../gateway/test/helpers.ts';
import { parseSetCookie } from './helpers.ts';

const ADMIN = '/api/v1/admin';

interface Call {
  cookie?: string | null;
  csrf?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

async function call(gw: TestGateway, method: string, path: string, c: Call = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...c.headers };
  if (c.cookie) headers.cookie = `portico_session=${c.cookie}`;
  if (c.csrf !== undefined) headers['x-csrf-token'] = c.csrf;
  let body: string | undefined;
  if (c.body !== undefined) {
    body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(gw.url + path, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

interface Signed {
  cookie: string;
  csrf: string;
  res: ApiResponse;
}

async function signIn(gw: TestGateway, token: string, headers: Record<string, string> = {}): Promise<Signed> {
  const res = await call(gw, 'POST', '/admin/session', { body: { token }, headers });
  assert.equal(res.status, 201, res.text);
  const c = parseSetCookie(res.headers.get('set-cookie'));
  assert.ok(c, 'portico_session cookie set');
  return { cookie: c.value, csrf: res.body.csrf_token, res };
}

async function orgWithKeys(gw: TestGateway, slug: string): Promise<{ admin: string; adminId: string; member: string }> {
  const o = await gw.api('POST', `${ADMIN}/organizations`, { body: { slug, name: `Org ${slug}` } });
  assert.equal(o.status, 201, o.text);
  const a = await gw.api('POST', `${ADMIN}/organizations/${slug}/api-keys`, { body: { name: 'admin', role: 'admin' } });
  assert.equal(a.status, 201, a.text);
  const m = await gw.api('POST', `${ADMIN}/organizations/${slug}/api-keys`, { body: { name: 'member', role: 'member' } });
  assert.equal(m.status, 201, m.text);
  return { admin: a.body.key, adminId: a.body.id, member: m.body.key };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('admin panel sessions', () => {
  let gw: TestGateway;
  let acme: { admin: string; adminId: string; member: string };

  before(async () => {
    gw = await startGateway();
    acme = await orgWithKeys(gw, 'acme');
    await orgWithKeys(gw, 'globex');
  });
  after(() => gw.close());

  test('platform sign-in sets an httpOnly, SameSite=Strict session cookie and stores only its hash', async () => {
    const { cookie, csrf, res } = await signIn(gw, ADMIN_TOKEN);
    assert.equal(res.body.actor, 'platform');
    assert.equal(res.body.organization, null);
    assert.equal(res.body.role, 'platform');
    assert.match(csrf, /^[A-Za-z0-9_-]{40,}$/);
    assert.ok(Date.parse(res.body.expires_at) > Date.now() + 7 * 3600_000, 'about 8 hours');
    assert.ok(Date.parse(res.body.expires_at) <= Date.now() + 8 * 3600_000 + 1000);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.body.token, undefined);

    const c = parseSetCookie(res.headers.get('set-cookie'))!;
    assert.match(cookie, /^[A-Za-z0-9_-]{43}$/, '256-bit random id');
    assert.ok(c.attrs.has('httponly'));
    assert.equal(c.attrs.get('samesite'), 'Strict');
    assert.equal(c.attrs.get('path'), '/');
    assert.equal(c.attrs.get('max-age'), String(8 * 3600));
    assert.ok(c.attrs.has('expires'));
    assert.ok(!c.attrs.has('secure'), 'plain http: no Secure flag');

    const rows = await gw.gateway.ctx.store.db.selectFrom('admin_sessions').selectAll().execute();
    const mine = rows.filter((r) => r.id_hash === sha256(cookie));
    assert.equal(mine.length, 1, 'stored under the SHA-256 of the id');
    assert.equal(mine[0]!.actor, 'platform');
    assert.equal(mine[0]!.csrf_token, csrf);
    assert.ok(!JSON.stringify(rows).includes(cookie), 'the raw session id is never stored');
    assert.ok(!JSON.stringify(rows).includes(ADMIN_TOKEN), 'the token is never stored');
  });

  test('Secure flag when the request came over https (X-Forwarded-Proto)', async () => {
    const { res } = await signIn(gw, ADMIN_TOKEN, { 'x-forwarded-proto': 'https' });
    const c = parseSetCookie(res.headers.get('set-cookie'))!;
    assert.ok(c.attrs.has('secure'));
    assert.ok(c.attrs.has('httponly'));
  });

  test('GET /admin/session answers the session, never the token', async () => {
    const { cookie, csrf } = await signIn(gw, ADMIN_TOKEN);
    const r = await call(gw, 'GET', '/admin/session', { cookie });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body).sort(), ['actor', 'csrf_token', 'expires_at', 'organization', 'role']);
    assert.equal(r.body.csrf_token, csrf);
    assert.equal(r.headers.get('cache-control'), 'no-store');

    expectError(assert, await call(gw, 'GET', '/admin/session'), 401, 'not_authenticated', 'Authentication credentials were not provided.');
    const bogus = await call(gw, 'GET', '/admin/session', { cookie: 'A'.repeat(43) });
    expectError(assert, bogus, 401, 'invalid_token', 'Invalid token.');
    assert.match(bogus.headers.get('set-cookie') ?? '', /portico_session=;.*Max-Age=0/, 'a dead cookie is cleared');
  });

  test('sign-in refusals: bad token, member key, malformed body, cross-site origin', async () => {
    expectError(assert, await call(gw, 'POST', '/admin/session', { body: { token: 'nope-nope-nope-nope' } }), 401, 'invalid_token', 'Invalid token.');
    expectError(assert, await call(gw, 'POST', '/admin/session', { body: { token: 'ptk_abcdefgh_xxxxxxxxxxxxxxxx' } }), 401, 'invalid_token', 'Invalid token.');
    const member = await call(gw, 'POST', '/admin/session', { body: { token: acme.member } });
    expectError(assert, member, 403, 'permission_denied', 'You do not have permission to perform this action.');
    assert.equal(member.headers.get('set-cookie'), null, 'no cookie for a refused sign-in');
    expectError(
      assert,
      await call(gw, 'POST', '/admin/session', { body: { token: '' } }),
      401,
      'not_authenticated',
      'Authentication credentials were not provided.',
    );
    const missing = await call(gw, 'POST', '/admin/session', { body: {} });
    expectError(assert, missing, 400, 'invalid_request', "Field 'token' is required.");
    const wrongType = await call(gw, 'POST', '/admin/session', { body: { token: 42 } });
    expectError(assert, wrongType, 400, 'invalid_request', "Field 'token' must be a string.");
    // A cross-site form cannot send JSON; a form body is refused before any token check.
    const form = await call(gw, 'POST', '/admin/session', { body: `token=${ADMIN_TOKEN}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 400, form.text);
    assert.equal(form.headers.get('set-cookie'), null);
    const foreign = await call(gw, 'POST', '/admin/session', { body: { token: ADMIN_TOKEN }, headers: { origin: 'https://evil.example' } });
    expectError(assert, foreign, 403, 'permission_denied', 'You do not have permission to perform this action.');
    const same = await call(gw, 'POST', '/admin/session', { body: { token: ADMIN_TOKEN }, headers: { origin: gw.url } });
    assert.equal(same.status, 201, same.text);
  });

  test('the cookie authenticates the admin API; every change needs the CSRF token', async () => {
    const { cookie, csrf } = await signIn(gw, ADMIN_TOKEN);
    const list = await call(gw, 'GET', `${ADMIN}/organizations`, { cookie });
    assert.equal(list.status, 200, list.text);
    assert.ok(list.body.organizations.some((o: { slug: string }) => o.slug === 'acme'));

    const body = { slug: 'csrf-org', name: 'CSRF' };
    const noToken = await call(gw, 'POST', `${ADMIN}/organizations`, { cookie, body });
    expectError(assert, noToken, 403, 'permission_denied', 'You do not have permission to perform this action.');
    const wrong = await call(gw, 'POST', `${ADMIN}/organizations`, { cookie, body, csrf: csrf.slice(0, -2) + 'xx' });
    expectError(assert, wrong, 403, 'permission_denied', 'You do not have permission to perform this action.');
    const otherSession = await signIn(gw, ADMIN_TOKEN);
    const crossed = await call(gw, 'POST', `${ADMIN}/organizations`, { cookie, body, csrf: otherSession.csrf });
    expectError(assert, crossed, 403, 'permission_denied', 'You do not have permission to perform this action.');
    for (const method of ['PATCH', 'PUT', 'DELETE']) {
      const r = await call(gw, method, `${ADMIN}/organizations/acme`, { cookie, ...(method === 'DELETE' ? {} : { body: { name: 'x' } }) });
      expectError(assert, r, 403, 'permission_denied', 'You do not have permission to perform this action.');
    }
    assert.equal((await gw.api('GET', `${ADMIN}/organizations/acme`)).body.name, 'Org acme', 'nothing changed');

    const ok = await call(gw, 'POST', `${ADMIN}/organizations`, { cookie, body, csrf });
    assert.equal(ok.status, 201, ok.text);

    // Without a cookie or header, the admin API still answers 401 as before.
    expectError(assert, await call(gw, 'GET', `${ADMIN}/organizations`), 401, 'not_authenticated', 'Authentication credentials were not provided.');
    // The cookie is for the admin API only, not for discovery or invoke.
    const discovery = await call(gw, 'GET', '/api/v1/external-proxy/services', { cookie });
    expectError(assert, discovery, 401, 'not_authenticated', 'Authentication credentials were not provided.');
  });

  test('an Authorization header wins over the cookie', async () => {
    const org = await signIn(gw, acme.admin);
    const r = await call(gw, 'GET', `${ADMIN}/organizations`, { cookie: org.cookie, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(r.status, 200, r.text);
    // With a header, no CSRF token is needed (not a browser session).
    const p = await call(gw, 'PATCH', `${ADMIN}/organizations/acme`, {
      cookie: org.cookie,
      body: { name: 'Org acme' },
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(p.status, 200, p.text);
  });

  test('sign-out ends the session at once', async () => {
    const { cookie, csrf } = await signIn(gw, ADMIN_TOKEN);
    const noCsrf = await call(gw, 'DELETE', '/admin/session', { cookie });
    expectError(assert, noCsrf, 403, 'permission_denied', 'You do not have permission to perform this action.');
    assert.equal((await call(gw, 'GET', '/admin/session', { cookie })).status, 200, 'still signed in');

    const out = await call(gw, 'DELETE', '/admin/session', { cookie, csrf });
    assert.equal(out.status, 204);
    assert.equal(out.text, '');
    const cleared = parseSetCookie(out.headers.get('set-cookie'))!;
    assert.equal(cleared.value, '');
    assert.equal(cleared.attrs.get('max-age'), '0');

    expectError(assert, await call(gw, 'GET', '/admin/session', { cookie }), 401, 'invalid_token', 'Invalid token.');
    expectError(assert, await call(gw, 'GET', `${ADMIN}/organizations`, { cookie }), 401, 'invalid_token', 'Invalid token.');
    const rows = await gw.gateway.ctx.store.db.selectFrom('admin_sessions').selectAll().where('id_hash', '=', sha256(cookie)).execute();
    assert.equal(rows.length, 0, 'the row is gone');
    // Signing out again (or without a session) is harmless.
    assert.equal((await call(gw, 'DELETE', '/admin/session', { cookie })).status, 204);
    assert.equal((await call(gw, 'DELETE', '/admin/session')).status, 204);
  });

  test('an expired session is refused with token_expired and removed', async () => {
    const { cookie } = await signIn(gw, ADMIN_TOKEN);
    await gw.gateway.ctx.store.db
      .updateTable('admin_sessions')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id_hash', '=', sha256(cookie))
      .execute();
    const api = await call(gw, 'GET', `${ADMIN}/organizations`, { cookie });
    expectError(assert, api, 401, 'token_expired', 'Token has expired.');
    const s = await call(gw, 'GET', '/admin/session', { cookie });
    assert.equal(s.status, 401);
    assert.match(s.headers.get('set-cookie') ?? '', /Max-Age=0/);
    const rows = await gw.gateway.ctx.store.db.selectFrom('admin_sessions').selectAll().where('id_hash', '=', sha256(cookie)).execute();
    assert.equal(rows.length, 0);
  });

  test('an organization admin session: its own organization only', async () => {
    const { cookie, csrf, res } = await signIn(gw, acme.admin);
    assert.equal(res.body.actor, `apikey:${acme.adminId}`);
    assert.equal(res.body.organization, 'acme');
    assert.equal(res.body.role, 'admin');

    assert.equal((await call(gw, 'GET', `${ADMIN}/organizations/acme/api-keys`, { cookie })).status, 200);
    expectError(assert, await call(gw, 'GET', `${ADMIN}/organizations/globex/api-keys`, { cookie }), 404, 'not_found', 'Not found.');
    expectError(
      assert,
      await call(gw, 'POST', `${ADMIN}/organizations/globex/api-keys`, { cookie, csrf, body: { name: 'x' } }),
      404,
      'not_found',
      'Not found.',
    );
    expectError(
      assert,
      await call(gw, 'GET', `${ADMIN}/organizations`, { cookie }),
      403,
      'permission_denied',
      'You do not have permission to perform this action.',
    );
    expectError(
      assert,
      await call(gw, 'GET', `${ADMIN}/audit-log`, { cookie }),
      403,
      'permission_denied',
      'You do not have permission to perform this action.',
    );
    const created = await call(gw, 'POST', `${ADMIN}/organizations/acme/api-keys`, { cookie, csrf, body: { name: 'from panel' } });
    assert.equal(created.status, 201, created.text);

    // The panel's service view: its own organization, with the credential schema.
    const own = await call(gw, 'GET', '/admin/session/services', { cookie });
    assert.equal(own.status, 200, own.text);
    assert.equal(own.body.organization, 'acme');
    const el = own.body.services.find((s: { slug: string }) => s.slug === 'elevenlabs');
    assert.ok(el, 'elevenlabs listed');
    assert.deepEqual(el.credential_schema.required, ['key']);
    assert.equal(el.organization_enabled, true);
    assert.equal(typeof el.credential_policy.allow_tenant_key, 'boolean');
    expectError(assert, await call(gw, 'GET', '/admin/session/services?organization=globex', { cookie }), 404, 'not_found', 'Not found.');
    expectError(assert, await call(gw, 'GET', '/admin/session/services?organization=nope', { cookie }), 404, 'not_found', 'Not found.');
    expectError(assert, await call(gw, 'GET', '/admin/session/services'), 401, 'not_authenticated', 'Authentication credentials were not provided.');
  });

  test('the platform session names the organization for the service view', async () => {
    const { cookie } = await signIn(gw, ADMIN_TOKEN);
    const none = await call(gw, 'GET', '/admin/session/services', { cookie });
    expectError(assert, none, 400, 'invalid_request', "Query parameter 'organization' is required.");
    const r = await call(gw, 'GET', '/admin/session/services?organization=globex', { cookie });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.organization, 'globex');
    expectError(assert, await call(gw, 'GET', '/admin/session/services?organization=missing', { cookie }), 404, 'not_found', 'Not found.');
  });

  test('revoking the key or disabling the organization ends its sessions', async () => {
    const k = await gw.api('POST', `${ADMIN}/organizations/globex/api-keys`, { body: { name: 'temp admin', role: 'admin' } });
    const s1 = await signIn(gw, k.body.key);
    assert.equal((await call(gw, 'GET', `${ADMIN}/organizations/globex/api-keys`, { cookie: s1.cookie })).status, 200);
    assert.equal((await gw.api('DELETE', `${ADMIN}/organizations/globex/api-keys/${k.body.id}`)).status, 204);
    expectError(assert, await call(gw, 'GET', `${ADMIN}/organizations/globex/api-keys`, { cookie: s1.cookie }), 401, 'invalid_token', 'Invalid token.');
    expectError(assert, await call(gw, 'GET', '/admin/session', { cookie: s1.cookie }), 401, 'invalid_token', 'Invalid token.');

    const k2 = await gw.api('POST', `${ADMIN}/organizations/globex/api-keys`, { body: { name: 'temp admin 2', role: 'admin' } });
    const s2 = await signIn(gw, k2.body.key);
    assert.equal((await gw.api('PATCH', `${ADMIN}/organizations/globex`, { body: { disabled: true } })).status, 200);
    try {
      expectError(
        assert,
        await call(gw, 'GET', `${ADMIN}/organizations/globex/api-keys`, { cookie: s2.cookie }),
        403,
        'permission_denied',
        'You do not have permission to perform this action.',
      );
      expectError(
        assert,
        await call(gw, 'POST', '/admin/session', { body: { token: k2.body.key } }),
        403,
        'permission_denied',
        'You do not have permission to perform this action.',
      );
    } finally {
      await gw.api('PATCH', `${ADMIN}/organizations/globex`, { body: { disabled: false } });
    }
  });

  test('an expired API key cannot sign in, and its session ends when the key expires', async () => {
    const soon = new Date(Date.now() + 1500).toISOString();
    const k = await gw.api('POST', `${ADMIN}/organizations/acme/api-keys`, { body: { name: 'short', role: 'admin', expires_at: soon } });
    assert.equal(k.status, 201, k.text);
    const s = await signIn(gw, k.body.key);
    await new Promise((r) => setTimeout(r, 1700));
    expectError(assert, await call(gw, 'GET', `${ADMIN}/organizations/acme/api-keys`, { cookie: s.cookie }), 401, 'token_expired', 'Token has expired.');
    expectError(assert, await call(gw, 'POST', '/admin/session', { body: { token: k.body.key } }), 401, 'token_expired', 'Token has expired.');
  });

  test('sign-in and sign-out are audited; no token or session id reaches the audit log or the logs', async () => {
    const { cookie, csrf, res } = await signIn(gw, acme.admin);
    const out = await call(gw, 'DELETE', '/admin/session', { cookie, csrf });
    const log = await gw.api('GET', `${ADMIN}/audit-log?limit=200`);
    const inRid = log.body.entries.find((e: { request_id: string }) => e.request_id === res.headers.get('x-request-id'));
    assert.ok(inRid, 'session.create entry');
    assert.equal(inRid.action, 'session.create');
    assert.equal(inRid.actor, `apikey:${acme.adminId}`);
    const outRid = log.body.entries.find((e: { request_id: string }) => e.request_id === out.headers.get('x-request-id'));
    assert.equal(outRid?.action, 'session.delete');
    const everything = JSON.stringify(log.body) + gw.logs.join('');
    for (const secret of [ADMIN_TOKEN, acme.admin, cookie, csrf]) assert.ok(!everything.includes(secret), 'secret leaked');
  });

  test('session routes answer 405 for other methods', async () => {
    const r = await call(gw, 'PUT', '/admin/session', { body: {} });
    expectError(assert, r, 405, 'method_not_allowed', 'Method "PUT" not allowed.');
  });
});
