// HeyGen success envelopes per API generation (CATALOG §2.1) and v3 cursor pages.
import type { Ctx } from '../http.ts';

export const v1 = (data: unknown): Record<string, unknown> => ({ code: 100, data, message: 'Success' });
/** The v1 variant some endpoints use (webhooks, assets). */
export const v1Msg = (data: unknown): Record<string, unknown> => ({ code: 100, data, msg: null, message: null });
export const v2 = (data: unknown): Record<string, unknown> => ({ error: null, data });
export const v3 = (data: unknown): Record<string, unknown> => ({ data });

/** A page of `items` by the `limit` and `token` query parameters; the token is the next offset. */
export function paged<T>(ctx: Ctx, items: T[], defaultLimit = 20): { data: T[]; has_more: boolean; next_token: string | null } {
  const limit = Math.min(100, Math.max(1, Number(ctx.query.get('limit') ?? defaultLimit) || defaultLimit));
  const token = ctx.query.get('token');
  const start = token ? Number(Buffer.from(token, 'base64url').toString()) || 0 : 0;
  const end = start + limit;
  const more = end < items.length;
  return { data: items.slice(start, end), has_more: more, next_token: more ? Buffer.from(String(end)).toString('base64url') : null };
}
