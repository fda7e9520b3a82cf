// HeyGen legacy v1/v2 reads and small writes (CATALOG §2.3a): avatars, voices, quota, avatar
// groups, templates, talking photos, assets, streaming, user, photo avatars.
import { hexId, jsonBuffer, sendAnswer, sendJson, unixNow } from '../http.ts';
import { phaseOf, type Job } from '../jobs.ts';
import type { ProviderEnv } from '../provider.ts';
import type { Route } from '../router.ts';
import {
  REMAINING_QUOTA,
  STREAMING_AVATARS,
  TALKING_PHOTOS,
  TEMPLATES,
  USER,
  V2_AVATARS,
  V2_GROUPS,
  V2_VOICES,
  avatarDetails,
  templateDetail,
} from './data.ts';
import { paged, v1, v1Msg, v2 } from './envelope.ts';
import { invalidParameter, notFound } from './errors.ts';
import type { HeyGenState, PhotoAvatar } from './state.ts';
import { objectBody } from './videos.ts';

/** A route whose answer never changes: serialised once. */
function fixed(method: string, path: string, body: unknown): Route {
  const buf = jsonBuffer(body);
  return { method, path, handler: (ctx) => sendJson(ctx, 200, buf) };
}

export function legacyRoutes(env: ProviderEnv, state: HeyGenState): Route[] {
  const photo = (j: Job<PhotoAvatar>): Record<string, unknown> => ({
    id: j.id,
    name: j.data.name,
    image_url: `https://resource2.heygen.ai/${j.data.imageKey}`,
    image_key: j.data.imageKey,
    group_id: j.data.groupId,
    created_at: Math.floor(j.createdAt / 1000),
    status: phaseOf(j) === 'completed' ? 'completed' : 'pending',
    business_type: 'user_upload',
    upscale_availability: { available: true, reason: null },
  });

  return [
    fixed('GET', '/v2/avatars', v2({ avatars: V2_AVATARS, talking_photos: TALKING_PHOTOS })),
    fixed('GET', '/v2/voices', v2({ voices: V2_VOICES })),
    fixed('GET', '/v2/user/remaining_quota', v2(REMAINING_QUOTA)),
    { method: 'GET', path: '/v2/avatar/{avatar_id}/details', handler: (ctx) => sendJson(ctx, 200, v2(avatarDetails(ctx.params.avatar_id!))) },
    fixed('GET', '/v2/avatar_group.list', v2({ total_count: V2_GROUPS.length, avatar_group_list: V2_GROUPS })),
    {
      method: 'GET',
      path: '/v2/avatar_group/{group_id}/avatars',
      handler: (ctx) => sendJson(ctx, 200, v2({ avatar_list: V2_AVATARS.map((a) => ({ ...a, group_id: ctx.params.group_id })) })),
    },
    fixed('GET', '/v2/templates', v2({ templates: TEMPLATES })),
    { method: 'GET', path: '/v2/template/{template_id}', handler: (ctx) => sendJson(ctx, 200, v2(templateDetail(ctx.params.template_id!))) },
    fixed(
      'GET',
      '/v1/talking_photo.list',
      v1(TALKING_PHOTOS.map((t) => ({ id: t.talking_photo_id, circle_image: t.preview_image_url, image_url: t.preview_image_url }))),
    ),
    { method: 'DELETE', path: '/v2/talking_photo/{talking_photo_id}', handler: (ctx) => sendJson(ctx, 200, v2(null)) },
    {
      method: 'GET',
      path: '/v1/asset/list',
      handler(ctx) {
        const page = paged(ctx, [...state.assets.values()].reverse(), 100);
        const assets = page.data.map((a) => ({
          id: a.id,
          name: a.name,
          file_type: a.file_type,
          folder_id: '',
          meta: null,
          created_ts: a.created_ts,
          url: `https://resource2.heygen.ai/${a.file_type}/${a.id}/original`,
          image_key: a.file_type === 'image' ? `image/${a.id}/original.jpg` : null,
        }));
        sendJson(ctx, 200, v1Msg({ assets, token: page.next_token }));
      },
    },
    {
      method: 'POST',
      path: '/v1/streaming.create_token',
      async handler(ctx) {
        if (!(await objectBody(ctx))) return;
        sendJson(ctx, 200, v2({ token: Buffer.from(`sandbox-streaming:${hexId(12)}:${unixNow() + 3600}`).toString('base64') }));
      },
    },
    fixed('GET', '/v1/streaming/avatar.list', v1(STREAMING_AVATARS)),
    fixed('GET', '/v1/user/me', v1(USER)),
    {
      method: 'POST',
      path: '/v2/photo_avatar/avatar_group/create',
      async handler(ctx) {
        const body = await objectBody(ctx);
        if (!body) return;
        for (const k of ['name', 'image_key']) {
          if (typeof body[k] !== 'string' || body[k] === '') return sendAnswer(ctx, invalidParameter(ctx.path, k, `${k} is required.`));
        }
        const j = state.photoAvatars.create(hexId(), env.videoJobMs, { name: body.name as string, imageKey: body.image_key as string, groupId: hexId() });
        sendJson(ctx, 200, v2(photo(j)));
      },
    },
    {
      method: 'GET',
      path: '/v2/photo_avatar/{id}',
      handler(ctx) {
        const j = state.photoAvatars.get(ctx.params.id!);
        if (!j) return sendAnswer(ctx, notFound(ctx.path, 'Photo avatar'));
        sendJson(ctx, 200, v2(photo(j)));
      },
    },
  ];
}
