// How a credential payload becomes the upstream auth header (the catalog's `auth.template`,
// e.g. `{key}`), and whether that value can be sent at all.
import type { CatalogService } from '../catalog/load.ts';

/** Visible ASCII, spaces and tabs: what HTTP (and undici) accept in a header value. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

export function renderAuthValue(auth: CatalogService['auth'], payload: Record<string, unknown>): string {
  return auth.template.replace(/\{(\w+)\}/g, (_, f: string) => String(payload[f] ?? ''));
}

/** A key with a stray newline or non-ASCII character would fail every request it is used for. */
export function sendableAuthValue(value: string): boolean {
  return HEADER_VALUE.test(value);
}
