// End-to-end: the built panel served by a real gateway (sandbox upstreams behind it), driven in
// a real headless Chromium. Screenshots of the main pages go to a temporary directory, or to
// PORTICO_SCREENSHOTS_DIR when set (scripts/screenshots.ts sets it to docs/screenshots).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { ADMIN_TOKEN } from '../../gateway/test/helpers.ts';
import { ensureBuilt, launchBrowser, startStack, type Browser, type Stack } from './helpers.ts';

const ADMIN = '/api/v1/admin';
const shotsDir = process.env.PORTICO_SCREENSHOTS_DIR ? resolve(process.env.PORTICO_SCREENSHOTS_DIR) : mkdtempSync(join(tmpdir(), 'portico-shots-'));
const keepShots = !!process.env.PORTICO_SCREENSHOTS_DIR;

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(shotsDir, { recursive: true });
  const path = join(shotsDir, `${name}.png`);
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  assert.ok(statSync(path).size > 5000, `screenshot ${name} has content`);
}

async function text(l: Locator): Promise<string> {
  await l.first().waitFor();
  return ((await l.first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** Waits until the locator's text contains `want`. */
async function waitText(l: Locator, want: string | RegExp): Promise<string> {
  const deadline = Date.now() + 10_000;
  let last = '';
  while (Date.now() < deadline) {
    last = await text(l).catch(() => '');
    if (typeof want === 'string' ? last.includes(want) : want.test(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`expected ${String(want)} in: ${last}`);
}

/** Clicks and returns the answer of the admin API call it makes. */
async function clickFor(page: Page, target: Locator, method: string, pathEnd: string | RegExp) {
  const [res] = await Promise.all([
    page.waitForResponse(
      (r) =>
        r.request().method() === method &&
        (typeof pathEnd === 'string' ? new URL(r.url()).pathname.endsWith(pathEnd) : pathEnd.test(new URL(r.url()).pathname)),
    ),
    target.click(),
  ]);
  return res;
}

async function signIn(page: Page, panel: string, token: string): Promise<void> {
  await page.goto(panel);
  await page.getByLabel('Admin token or API key').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-testid="whoami"]').waitFor();
}

async function go(page: Page, section: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: section, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: section }).waitFor();
}

/** fetch() from inside the page, with the session cookie (and the CSRF token unless told not to). */
async function pageFetch(page: Page, method: string, path: string, body?: unknown, csrf = true): Promise<{ status: number; body: any }> {
  return page.evaluate(
    async ({ method, path, body, csrf }) => {
      const s = await (await fetch('/admin/session')).json();
      const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
      if (csrf) headers['x-csrf-token'] = s.csrf_token;
      const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const t = await r.text();
      return { status: r.status, body: t ? JSON.parse(t) : null };
    },
    { method, path, body, csrf },
  );
}

describe('admin panel in Chromium', () => {
  let stack: Stack;
  let browser: Browser;

  before(async () => {
    ensureBuilt();
    stack = await startStack();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
    if (!keepShots) rmSync(shotsDir, { recursive: true, force: true });
  });

  test('platform admin: organization, key shown once, credential tested against the sandbox, policy, audit log, sign-out', async () => {
    const { page, context } = browser;
    const { gw, panel } = stack;
    await context.clearCookies();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gw.url });

    // Sign-in page.
    await page.goto(panel + '/credentials');
    await page.getByRole('heading', { name: /Portico/ }).waitFor();
    await shot(page, 'sign-in');
    await page.getByLabel('Admin token or API key').fill('not-the-token-at-all');
    const bad = await clickFor(page, page.getByRole('button', { name: 'Sign in' }), 'POST', '/admin/session');
    assert.equal(bad.status(), 401);
    await waitText(page.getByRole('alert'), 'Invalid token.');
    assert.equal(await text(page.getByTestId('request-id')), bad.headers()['x-request-id']);
    await page.getByLabel('Admin token or API key').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitText(page.getByTestId('whoami'), 'platform admin');
    // The deep link survives sign-in.
    await page.getByRole('heading', { level: 1, name: 'Credentials' }).waitFor();

    // The token is nowhere in the browser; the session cookie is httpOnly and SameSite=Strict.
    const storage = await page.evaluate(() => ({
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      cookie: document.cookie,
    }));
    assert.equal(storage.local, '{}');
    assert.equal(storage.session, '{}');
    assert.equal(storage.cookie, '', 'no cookie readable by scripts');
    const cookies = await context.cookies(gw.url);
    const sc = cookies.find((c) => c.name === 'portico_session');
    assert.ok(sc, 'session cookie');
    assert.equal(sc.httpOnly, true);
    assert.equal(sc.sameSite, 'Strict');
    assert.ok(!(await page.content()).includes(ADMIN_TOKEN));

    // Organizations: create, see the conflict error with its request id.
    await go(page, 'Organizations');
    await page.locator('#org-slug').fill('acme');
    await page.locator('#org-name').fill('Acme Corp');
    const created = await clickFor(page, page.getByRole('button', { name: 'Create organization' }), 'POST', `${ADMIN}/organizations`);
    assert.equal(created.status(), 201);
    await page.locator('tr[data-org="acme"]').waitFor();
    await page.locator('#org-slug').fill('acme');
    await page.locator('#org-name').fill('Acme again');
    const dup = await clickFor(page, page.getByRole('button', { name: 'Create organization' }), 'POST', `${ADMIN}/organizations`);
    assert.equal(dup.status(), 409);
    const err = page.locator('form[aria-labelledby="create-org-title"] [role="alert"]');
    await waitText(err, 'Resource already exists.');
    assert.match(await text(err), /code conflict/);
    assert.equal(await text(err.getByTestId('request-id')), dup.headers()['x-request-id']);
    await err.getByRole('button', { name: 'Dismiss' }).click();
    for (const slug of ['globex', 'initech']) {
      await page.locator('#org-slug').fill(slug);
      await page.locator('#org-name').fill(slug[0]!.toUpperCase() + slug.slice(1));
      await page.getByRole('button', { name: 'Create organization' }).click();
      await page.locator(`tr[data-org="${slug}"]`).waitFor();
    }
    await shot(page, 'organizations');

    // API keys: the key is shown once, can be copied, and is gone after "stored".
    await page.locator('tr[data-org="acme"]').getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    assert.equal(await page.locator('#org-picker').inputValue(), 'acme');
    await page.getByLabel('Name', { exact: true }).fill('ci backend');
    await page.getByLabel('Role').selectOption('admin');
    await page.getByLabel('Expires (optional)').fill('2031-06-30T12:00');
    const keyRes = await clickFor(page, page.getByRole('button', { name: 'Create key' }), 'POST', `${ADMIN}/organizations/acme/api-keys`);
    const newKey = (await keyRes.json()).key as string;
    assert.match(newKey, /^ptk_/);
    const panelKey = page.getByTestId('new-key');
    assert.equal(await panelKey.getByLabel('The new API key').inputValue(), newKey);
    await panelKey.getByRole('button', { name: 'Copy key' }).click();
    await waitText(panelKey.getByRole('status'), 'Copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), newKey);
    const row = page.locator('tr', { hasText: 'ci backend' });
    await waitText(row, 'admin');
    assert.match(await text(row), /2031/);
    await shot(page, 'api-key-created');
    await panelKey.getByRole('button', { name: 'I have stored the key' }).click();
    await panelKey.waitFor({ state: 'detached' });
    assert.ok(!(await page.content()).includes(newKey), 'the key is not rendered any more');
    await page.reload();
    await row.waitFor();
    assert.ok(!(await page.content()).includes(newKey), 'nor after a reload');
    assert.equal((await gw.api('GET', `${ADMIN}/organizations/acme/api-keys`, { token: newKey })).status, 200, 'the key works');

    // Credentials: schema-driven form, masked display, test against the sandbox.
    await go(page, 'Credentials');
    const form = page.locator('form[aria-labelledby="add-cred-title"]');
    await form.getByLabel('Service').selectOption('elevenlabs');
    await form.getByLabel('One organization (tenant)').check();
    await form.getByLabel('Organization', { exact: true }).selectOption('acme');
    await form.getByLabel('Label (optional)').fill('acme primary');
    const secretInput = form.getByLabel('API key');
    assert.equal(await secretInput.getAttribute('type'), 'password');
    assert.equal(await secretInput.getAttribute('minlength'), '8', 'limits come from the schema');
    // A masked value is refused by the gateway, with its message and request id.
    await secretInput.fill('sk_****abcd');
    const masked = await clickFor(page, form.getByRole('button', { name: 'Save credential' }), 'POST', `${ADMIN}/credentials`);
    assert.equal(masked.status(), 400);
    await waitText(form.getByRole('alert'), 'Credential value is masked; send the full secret.');
    assert.equal(await text(form.getByTestId('request-id')), masked.headers()['x-request-id']);
    const secret = 'sandbox_acme_primary_0001';
    await secretInput.fill(secret);
    const saved = await clickFor(page, form.getByRole('button', { name: 'Save credential' }), 'POST', `${ADMIN}/credentials`);
    assert.equal(saved.status(), 201);
    const cred = await saved.json();
    await waitText(form.getByRole('status'), cred.masked);
    assert.equal(await secretInput.inputValue(), '', 'the form forgets the secret');
    assert.ok(!(await page.content()).includes(secret), 'the secret is never rendered after saving');
    const credRow = page.locator(`tbody[data-credential="${cred.id}"]`);
    assert.equal(await text(credRow.getByTestId('masked')), cred.masked);
    assert.match(await text(credRow), /active/);
    const testRes = await clickFor(page, credRow.getByRole('button', { name: 'Test credential acme primary' }), 'POST', `/credentials/${cred.id}/test`);
    assert.equal(testRes.status(), 200);
    const result = await waitText(credRow.getByTestId('test-result'), /OK · status 200 · \d+ ms/);
    assert.match(result, /^OK/);

    // A wrong key fails its test; disable, enable, delete with confirmation.
    await form.getByLabel('Label (optional)').fill('wrong key');
    await secretInput.fill('not_a_sandbox_key_42');
    const wrong = await (await clickFor(page, form.getByRole('button', { name: 'Save credential' }), 'POST', `${ADMIN}/credentials`)).json();
    const wrongRow = page.locator(`tbody[data-credential="${wrong.id}"]`);
    await wrongRow.getByRole('button', { name: 'Test credential wrong key' }).click();
    await waitText(wrongRow.getByTestId('test-result'), /Failed · status 401/);
    await wrongRow.getByRole('button', { name: 'Disable credential wrong key' }).click();
    await waitText(wrongRow, 'disabled');
    assert.equal((await gw.api('GET', `${ADMIN}/credentials/${wrong.id}`)).body.status, 'disabled');
    await wrongRow.getByRole('button', { name: 'Enable credential wrong key' }).click();
    await waitText(wrongRow.locator('.badge-ok'), 'active');
    await shot(page, 'credentials');
    await wrongRow.getByRole('button', { name: 'Delete credential wrong key' }).click();
    const dialog = page.getByRole('dialog');
    await waitText(dialog, 'Delete the credential “wrong key”?');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await gw.api('GET', `${ADMIN}/credentials/${wrong.id}`)).status, 200, 'cancel keeps it');
    await wrongRow.getByRole('button', { name: 'Delete credential wrong key' }).click();
    await clickFor(page, dialog.getByRole('button', { name: 'Delete credential' }), 'DELETE', `/credentials/${wrong.id}`);
    await wrongRow.waitFor({ state: 'detached' });
    assert.equal((await gw.api('GET', `${ADMIN}/credentials/${wrong.id}`)).status, 404);

    // Policy editor: the preview follows every change, and saving stores it.
    await go(page, 'Credential policies');
    await page.getByLabel('Service', { exact: true }).selectOption('elevenlabs');
    const preview = page.getByTestId('policy-preview');
    await waitText(preview, 'tenant key, then platform key');
    await page.getByLabel('Fall back to the platform key', { exact: false }).uncheck();
    await waitText(preview, /^tenant key$/);
    await page.getByLabel('Platform key', { exact: true }).check();
    await waitText(preview, /^platform key$/);
    await page.getByLabel('Allow the platform key').uncheck();
    await waitText(preview, /^tenant key$/);
    assert.match(await text(page.locator('.preview')), /default source \(platform\) is not allowed/);
    await page.getByLabel("Allow the organization's own key (tenant key)").uncheck();
    await waitText(preview, 'no credential source allowed: every call fails');
    await page.getByLabel("Allow the organization's own key (tenant key)").check();
    await page.getByLabel('Allow the platform key').check();
    await page.getByLabel('Tenant key', { exact: true }).check();
    await page.getByLabel('Fall back to the platform key', { exact: false }).check();
    await waitText(preview, 'tenant key, then platform key');
    await page.getByLabel('Fall back to the platform key', { exact: false }).uncheck();
    await waitText(preview, /^tenant key$/);
    await shot(page, 'policy-editor');
    const put = await clickFor(page, page.getByRole('button', { name: 'Save policy' }), 'PUT', '/services/elevenlabs/credential-policy');
    assert.equal(put.status(), 200);
    await waitText(page.getByTestId('saved-order'), /^tenant key$/);
    assert.deepEqual((await gw.api('GET', `${ADMIN}/services/elevenlabs`)).body.credential_policy, {
      allow_tenant_key: true,
      allow_platform_key: true,
      default_source: 'tenant',
      fallback_to_platform_key: false,
    });
    // One organization's override.
    await page.getByLabel('Applies to').selectOption('globex');
    await waitText(page.locator('form[aria-labelledby="policy-title"]'), 'globex has no override');
    await page.getByLabel('Platform key', { exact: true }).check();
    await waitText(preview, /^platform key$/);
    await clickFor(page, page.getByRole('button', { name: 'Save policy' }), 'PUT', '/organizations/globex/services/elevenlabs/credential-policy');
    await page.getByRole('button', { name: 'Remove override' }).waitFor();

    // Services: platform-wide settings and one organization's switch.
    await go(page, 'Services');
    const heygen = page.locator('article[data-service="heygen"]');
    await heygen.getByLabel('Timeout (ms)').fill('45000');
    await clickFor(page, heygen.getByRole('button', { name: 'Save HeyGen settings' }), 'PATCH', '/services/heygen');
    await waitText(heygen.getByRole('status'), 'Saved.');
    assert.equal((await gw.api('GET', `${ADMIN}/services/heygen`)).body.timeout_ms, 45000);
    await page.locator('#services-org').selectOption('acme');
    const orgHeygen = page.locator('tr[data-org-service="heygen"]');
    await clickFor(page, orgHeygen.getByRole('switch'), 'PATCH', '/organizations/acme/services/heygen');
    await waitText(orgHeygen, 'Disabled');
    const member = (await gw.api('POST', `${ADMIN}/organizations/acme/api-keys`, { body: { name: 'member' } })).body.key;
    const visible = (await gw.api('GET', '/api/v1/external-proxy/services', { token: member })).body.services.map((s: { slug: string }) => s.slug);
    assert.deepEqual(visible, ['elevenlabs'], 'heygen is off for acme');
    await shot(page, 'services');

    // Plans.
    await go(page, 'Plans');
    await page.getByLabel('Name', { exact: true }).fill('starter');
    await page.getByLabel('Only these:').check();
    await page.getByLabel('elevenlabs').check();
    await page.getByLabel('Requests per minute').fill('60');
    await clickFor(page, page.getByRole('button', { name: 'Create plan' }), 'PUT', '/plans/starter');
    await waitText(page.locator('tr[data-plan="starter"]'), 'elevenlabs');
    assert.match(await text(page.locator('tr[data-plan="starter"]')), /60/);
    await shot(page, 'plans');
    await go(page, 'Organizations');
    await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'PATCH' && r.url().endsWith('/organizations/initech')),
      page.getByLabel('Plan of initech').selectOption('starter'),
    ]);
    assert.equal((await gw.api('GET', `${ADMIN}/organizations/initech`)).body.plan, 'starter');
    // Disable an organization (with confirmation), then enable it again.
    const globexRow = page.locator('tr[data-org="globex"]');
    await globexRow.getByRole('button', { name: 'Disable globex' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Disable organization' }).click();
    await waitText(globexRow, 'Disabled');
    assert.equal((await gw.api('GET', `${ADMIN}/organizations/globex`)).body.disabled, true);
    await globexRow.getByRole('button', { name: 'Enable globex' }).click();
    await waitText(globexRow, 'Active');

    // Audit log: the panel's changes are there, filterable.
    await go(page, 'Audit log');
    const audit = page.locator('table');
    for (const action of [
      'session.create',
      'organization.create',
      'api_key.create',
      'credential.create',
      'credential.test',
      'credential.delete',
      'service.policy.update',
      'plan.upsert',
    ]) {
      await page.locator(`tr[data-audit-action="${action}"]`).first().waitFor();
    }
    await page.getByLabel('Action').fill('credential.test');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/action=credential\.test/);
    await waitText(audit, 'credential.test');
    // The unfiltered rows stay until the filtered page renders: wait for it, then check it.
    await page
      .waitForFunction(() => {
        const rows = [...document.querySelectorAll('tr[data-audit-action]')];
        return rows.length > 0 && rows.every((r) => r.getAttribute('data-audit-action') === 'credential.test');
      })
      .catch(() => {}); // the assertion below reports what is there
    const actions = await page.locator('tr[data-audit-action]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-audit-action')));
    assert.ok(actions.length >= 2);
    assert.ok(
      actions.every((a) => a === 'credential.test'),
      actions.join(),
    );
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.locator('tr[data-audit-action="session.create"]').first().waitFor();
    assert.ok(!(await page.content()).includes(secret));
    await shot(page, 'audit-log');

    // Sign out: the session is gone, server-side too.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await waitText(page.getByRole('status'), 'You have signed out.');
    assert.equal(
      (await context.cookies(gw.url)).find((c) => c.name === 'portico_session'),
      undefined,
    );
    assert.equal((await pageFetch(page, 'GET', `${ADMIN}/organizations`)).status, 401);
    await page.goto(panel + '/organizations');
    await page.getByLabel('Admin token or API key').waitFor();
    assert.equal((await gw.gateway.ctx.store.db.selectFrom('admin_sessions').selectAll().execute()).length, 0);
  });

  test('organization admin: only its own organization; other organizations are invisible (404)', async () => {
    const { page, context } = browser;
    const { gw, panel } = stack;
    await context.clearCookies();
    for (const slug of ['umbrella', 'hooli']) assert.equal((await gw.api('POST', `${ADMIN}/organizations`, { body: { slug, name: slug } })).status, 201);
    const adminKey = (await gw.api('POST', `${ADMIN}/organizations/hooli/api-keys`, { body: { name: 'hooli admin', role: 'admin' } })).body.key;
    const memberKey = (await gw.api('POST', `${ADMIN}/organizations/hooli/api-keys`, { body: { name: 'hooli member', role: 'member' } })).body.key;
    const otherCred = (
      await gw.api('POST', `${ADMIN}/credentials`, {
        body: { service: 'elevenlabs', scope: 'tenant', organization: 'umbrella', label: 'umbrella key', secret: 'sandbox_umbrella_1' },
      })
    ).body;
    const platformCred = (
      await gw.api('POST', `${ADMIN}/credentials`, { body: { service: 'elevenlabs', scope: 'platform', label: 'platform key', secret: 'sandbox_platform_1' } })
    ).body;

    // A member key cannot sign in: the refusal is shown with its request id.
    await page.goto(panel);
    await page.getByLabel('Admin token or API key').fill(memberKey);
    const refused = await clickFor(page, page.getByRole('button', { name: 'Sign in' }), 'POST', '/admin/session');
    assert.equal(refused.status(), 403);
    await waitText(page.getByRole('alert'), 'You do not have permission to perform this action.');
    assert.match(await text(page.getByRole('alert')), /permission_denied/);
    assert.equal(await text(page.getByTestId('request-id')), refused.headers()['x-request-id']);

    await page.getByLabel('Admin token or API key').fill(adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await waitText(page.getByTestId('whoami'), 'admin of hooli');
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    const nav = await page.getByRole('navigation', { name: 'Sections' }).getByRole('link').allTextContents();
    assert.deepEqual(nav, ['API keys', 'Services', 'Credentials'], 'platform-only sections are hidden');
    assert.equal(await text(page.getByTestId('own-org')), 'hooli');
    assert.equal(await page.locator('#org-picker').count(), 0, 'no organization picker');
    await page.getByLabel('Name', { exact: true }).fill('hooli worker');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByTestId('new-key').waitFor();
    await waitText(page.locator('table'), 'hooli worker');
    // Another organization in the address bar changes nothing.
    await page.goto(panel + '/api-keys?org=umbrella');
    await waitText(page.getByTestId('own-org'), 'hooli');
    await waitText(page.locator('table'), 'hooli admin');
    await shot(page, 'org-admin-api-keys');

    // Credentials: its own only; add one and test it.
    await go(page, 'Credentials');
    await waitText(page.locator('form[aria-labelledby="add-cred-title"]'), 'hooli');
    const form = page.locator('form[aria-labelledby="add-cred-title"]');
    assert.equal(await form.getByLabel('Platform (shared)').count(), 0, 'no platform scope');
    await form.getByLabel('Service').selectOption('elevenlabs');
    await form.getByLabel('Label (optional)').fill('hooli key');
    await form.getByLabel('API key').fill('sandbox_hooli_0001');
    const saved = await (await clickFor(page, form.getByRole('button', { name: 'Save credential' }), 'POST', `${ADMIN}/credentials`)).json();
    assert.equal(saved.organization, 'hooli');
    const row = page.locator(`tbody[data-credential="${saved.id}"]`);
    await row.getByRole('button', { name: 'Test credential hooli key' }).click();
    await waitText(row.getByTestId('test-result'), /^OK · status 200/);
    const listed = await page.locator('tbody[data-credential]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-credential')));
    assert.deepEqual(listed, [saved.id], 'other organizations and platform credentials are invisible');
    const html = await page.content();
    for (const hidden of ['umbrella key', 'platform key', otherCred.masked]) assert.ok(!html.includes(hidden), hidden);

    // Platform-only pages are refused.
    await page.goto(panel + '/organizations');
    await page.getByRole('heading', { level: 1, name: 'Not available' }).waitFor();
    await page.goto(panel + '/audit-log');
    await page.getByRole('heading', { level: 1, name: 'Not available' }).waitFor();

    // Direct API calls with the panel's session: other organizations are 404, platform routes 403.
    const notFound = [
      await pageFetch(page, 'GET', `${ADMIN}/organizations/umbrella/api-keys`),
      await pageFetch(page, 'POST', `${ADMIN}/organizations/umbrella/api-keys`, { name: 'x' }),
      await pageFetch(page, 'GET', `${ADMIN}/credentials/${otherCred.id}`),
      await pageFetch(page, 'PATCH', `${ADMIN}/credentials/${otherCred.id}`, { status: 'disabled' }),
      await pageFetch(page, 'POST', `${ADMIN}/credentials/${otherCred.id}/test`),
      await pageFetch(page, 'DELETE', `${ADMIN}/credentials/${platformCred.id}`),
      await pageFetch(page, 'POST', `${ADMIN}/credentials`, { service: 'elevenlabs', scope: 'tenant', organization: 'umbrella', secret: 'sandbox_x_12345' }),
      await pageFetch(page, 'PATCH', `${ADMIN}/organizations/umbrella/services/elevenlabs`, { enabled: false }),
    ];
    for (const r of notFound) {
      assert.equal(r.status, 404, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'not_found');
    }
    for (const path of ['/organizations', '/organizations/hooli', '/audit-log', '/services', '/plans']) {
      const r = await pageFetch(page, 'GET', ADMIN + path);
      assert.equal(r.status, 403, path);
      assert.equal(r.body.error.code, 'permission_denied');
    }
    const list = await pageFetch(page, 'GET', `${ADMIN}/credentials?organization=umbrella`);
    assert.deepEqual(list.body.credentials, [], 'a filter on another organization finds nothing');
    const noCsrf = await pageFetch(page, 'POST', `${ADMIN}/organizations/hooli/api-keys`, { name: 'no csrf' }, false);
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.error.code, 'permission_denied');
    assert.equal((await gw.api('GET', `${ADMIN}/credentials/${otherCred.id}`)).body.status, 'active', 'nothing changed');

    // Services: its own switch.
    await go(page, 'Services');
    const heygen = page.locator('tr[data-org-service="heygen"]');
    await clickFor(page, heygen.getByRole('switch'), 'PATCH', '/organizations/hooli/services/heygen');
    await waitText(heygen, 'Disabled');
    await clickFor(page, heygen.getByRole('switch'), 'PATCH', '/organizations/hooli/services/heygen');
    await waitText(heygen, 'Enabled');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token or API key').waitFor();
  });

  test('a session that ends on the server sends the panel back to sign-in', async () => {
    const { page, context } = browser;
    const { gw, panel } = stack;
    await context.clearCookies();
    await signIn(page, panel, ADMIN_TOKEN);
    await page.locator('tr[data-org]').first().waitFor(); // the start page has loaded
    await gw.gateway.ctx.store.db
      .updateTable('admin_sessions')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .execute();
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Plans' }).click();
    await waitText(page.getByRole('status'), 'Your session has ended. Sign in again.');
    await page.getByLabel('Admin token or API key').waitFor();
  });

  test('narrow screens: the navigation folds into a top bar and tables scroll', async () => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    try {
      await page.setViewportSize({ width: 390, height: 844 });
      await signIn(page, stack.panel, ADMIN_TOKEN);
      await go(page, 'Credentials');
      const box = await page.getByRole('navigation', { name: 'Sections' }).boundingBox();
      assert.ok(box && box.width > 350 && box.height < 80, `nav is a bar: ${JSON.stringify(box)}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (overflow > 1) {
        const wide = await page.evaluate(() =>
          [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .slice(0, 8)
            .map((e) => `${e.tagName}.${e.className}#${e.id} ${Math.round(e.getBoundingClientRect().right)}`),
        );
        console.log(wide.join('\n'));
      }
      assert.ok(overflow <= 1, `no horizontal page scroll (${overflow}px)`);
      await shot(page, 'mobile-credentials');
    } finally {
      await page.close();
    }
  });
});
