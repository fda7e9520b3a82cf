// Helpers for the admin API tests: everything goes through the HTTP API (the platform token),
// so that the tests exercise the same routes a client uses.
import assert from 'node:assert/strict';
import type { ApiResponse, TestGateway } from './helpers.ts';

export const ADMIN = '/api/v1/admin';

export const POLICY_TENANT_ONLY = { allow_tenant_key: true, allow_platform_key: false, default_source: 'tenant', fallback_to_platform_key: false };

export async function createOrg(gw: TestGateway, slug: string, extra: Record<string, unknown> = {}): Promise<ApiResponse> {
  const r = await gw.api('POST', `${ADMIN}/organizations`, { body: { slug, name: `Org ${slug}`, ...extra } });
  assert.equal(r.status, 201, `create org ${slug}: ${r.text}`);
  return r;
}

/** Every API key created through `createKey` in this process (for secret scans). */
export const issuedKeys: string[] = [];

export async function createKey(
  gw: TestGateway,
  org: string,
  role: 'admin' | 'member' = 'admin',
  opts: { token?: string; expires_at?: string } = {},
): Promise<{ id: string; key: string; body: any }> {
  const body: Record<string, unknown> = { name: `${role} key`, role };
  if (opts.expires_at) body.expires_at = opts.expires_at;
  const r = await gw.api('POST', `${ADMIN}/organizations/${org}/api-keys`, { body, ...(opts.token ? { token: opts.token } : {}) });
  assert.equal(r.status, 201, `create key for ${org}: ${r.text}`);
  issuedKeys.push(r.body.key);
  return { id: r.body.id, key: r.body.key, body: r.body };
}

/** An organization with an admin key and a member key. */
export async function orgWithKeys(gw: TestGateway, slug: string): Promise<{ slug: string; admin: string; adminId: string; member: string; memberId: string }> {
  await createOrg(gw, slug);
  const a = await createKey(gw, slug, 'admin');
  const m = await createKey(gw, slug, 'member');
  return { slug, admin: a.key, adminId: a.id, member: m.key, memberId: m.id };
}

export async function createCredential(gw: TestGateway, body: Record<string, unknown>, token?: string): Promise<any> {
  const r = await gw.api('POST', `${ADMIN}/credentials`, { body, ...(token ? { token } : {}) });
  assert.equal(r.status, 201, `create credential: ${r.text}`);
  return r.body;
}

/** Walks a list with `limit` per page and returns every item plus the number of pages. */
export async function walk(gw: TestGateway, path: string, key: string, limit: number, token?: string): Promise<{ items: any[]; pages: number }> {
  const items: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await gw.api('GET', url, token ? { token } : {});
    assert.equal(r.status, 200, r.text);
    assert.ok(Array.isArray(r.body[key]), `list key ${key}`);
    assert.ok(r.body[key].length <= limit);
    items.push(...r.body[key]);
    cursor = r.body.next_cursor;
    assert.ok(cursor === null || typeof cursor === 'string');
    pages++;
    assert.ok(pages < 1000, 'pagination does not end');
  } while (cursor);
  return { items, pages };
}

export function futureIso(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The audit entry written by the request whose X-Request-Id was `requestId`. */
export async function auditEntry(gw: TestGateway, requestId: string): Promise<any> {
  const r = await gw.api('GET', `${ADMIN}/audit-log?limit=200`);
  assert.equal(r.status, 200, r.text);
  const found = r.body.entries.filter((e: any) => e.request_id === requestId);
  assert.equal(found.length, 1, `one audit entry for request ${requestId}`);
  return found[0];
}

let rid = 0;
/** A fresh X-Request-Id. */
export function requestId(tag: string): string {
  return `test-${tag}-${process.pid}-${++rid}-${Date.now()}`;
}
