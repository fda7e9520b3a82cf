// HeyGen v3 reads and small writes: avatars and looks, voices and speech, the current user,
// asset upload (CATALOG §2.3b). Video jobs live in videos.ts, translations and webhooks apart.
import { hexId, jsonBuffer, sendAnswer, sendJson, type Ctx } from '../http.ts';
import { mediaUrl } from '../media.ts';
import { files, readForm } from '../multipart.ts';
import type { ProviderEnv } from '../provider.ts';
import type { Route } from '../router.ts';
import { USER, V3_GROUPS, V3_LOOKS, V3_VOICES } from './data.ts';
import { paged, v3 } from './envelope.ts';
import { hgError, notFound } from './errors.ts';
import type { HeyGenState } from './state.ts';
import { objectBody } from './videos.ts';

const ASSET_LIMIT = 32 * 1024 * 1024;
const SECONDS_PER_CHAR = 0.06;

/** Lists answer a precomputed page when no query parameter is given (the benchmark case). */
function listRoute(path: string, items: Record<string, unknown>[], filters: string[]): Route {
  const whole = jsonBuffer({
    data: items.slice(0, 20),
    has_more: items.length > 20,
    next_token: items.length > 20 ? Buffer.from('20').toString('base64url') : null,
  });
  return {
    method: 'GET',
    path,
    handler(ctx) {
      if (ctx.query.size === 0) return sendJson(ctx, 200, whole);
      let all = items;
      for (const f of filters) {
        const want = ctx.query.get(f);
        if (want) all = all.filter((x) => String(x[f] ?? '').toLowerCase() === want.toLowerCase());
      }
      sendJson(ctx, 200, paged(ctx, all));
    },
  };
}

function one(ctx: Ctx, items: Record<string, unknown>[], id: string, what: string): void {
  const found = items.find((x) => x.id === id);
  if (found) sendJson(ctx, 200, v3(found));
  else sendAnswer(ctx, notFound(ctx.path, what));
}

export function v3Routes(env: ProviderEnv, state: HeyGenState): Route[] {
  const userJson = jsonBuffer(v3(USER));

  async function speech(ctx: Ctx): Promise<void> {
    const body = await objectBody(ctx);
    if (!body) return;
    for (const k of ['text', 'voice_id']) {
      if (typeof body[k] !== 'string' || body[k] === '') {
        return sendAnswer(ctx, hgError({ status: 400, family: 'v3', message: `${k} is required.`, param: k }));
      }
    }
    const words = (body.text as string).split(/\s+/).filter(Boolean);
    let t = 0;
    const stamps = words.map((word) => {
      const d = (word.length + 1) * SECONDS_PER_CHAR;
      const s = { word, start: Math.round(t * 1000) / 1000, end: Math.round((t + d) * 1000) / 1000 };
      t += d;
      return s;
    });
    const id = hexId();
    sendJson(ctx, 200, v3({ audio_url: mediaUrl(ctx.baseUrl, id, 'mp3'), duration: Math.round(t * 1000) / 1000, request_id: id, word_timestamps: stamps }));
  }

  async function upload(ctx: Ctx): Promise<void> {
    const parts = await readForm(ctx.req);
    const file = parts ? files(parts, 'file')[0] : undefined;
    if (!file) return sendAnswer(ctx, hgError({ status: 400, family: 'v3', message: 'file is required (multipart/form-data).', param: 'file' }));
    if (file.data.length > ASSET_LIMIT) return sendAnswer(ctx, hgError({ status: 413, family: 'v3', message: 'File exceeds the 32 MB limit.', param: 'file' }));
    const mime = file.contentType ?? 'application/octet-stream';
    const a = state.newAsset(file.filename ?? 'upload', mime, file.data.length);
    const ext = mime.startsWith('image/') ? 'jpg' : mime.startsWith('video/') ? 'mp4' : 'mp3';
    sendJson(ctx, 200, v3({ asset_id: a.id, url: mediaUrl(ctx.baseUrl, a.id, ext), mime_type: mime, size_bytes: a.size_bytes }));
  }

  return [
    listRoute('/v3/avatars/looks', V3_LOOKS, ['group_id', 'avatar_type']),
    listRoute('/v3/avatars', V3_GROUPS, []),
    { method: 'GET', path: '/v3/avatars/looks/{look_id}', handler: (ctx) => one(ctx, V3_LOOKS, ctx.params.look_id!, 'Avatar look') },
    { method: 'GET', path: '/v3/avatars/{group_id}', handler: (ctx) => one(ctx, V3_GROUPS, ctx.params.group_id!, 'Avatar group') },
    listRoute('/v3/voices', V3_VOICES, ['type', 'language', 'gender']),
    { method: 'POST', path: '/v3/voices/speech', handler: speech },
    { method: 'GET', path: '/v3/users/me', handler: (ctx) => sendJson(ctx, 200, userJson) },
    { method: 'POST', path: '/v3/assets', handler: upload },
  ];
}
