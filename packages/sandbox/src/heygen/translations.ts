// Video translation jobs: legacy `/v2/video_translate` (pending → running → success) and v3
// `/v3/video-translations` (pending → running → completed). One job store behind both.
import { hexId, isObject, jsonBuffer, sendAnswer, sendJson, unixNow, type Ctx } from '../http.ts';
import { phaseOf, wantsFailure, type Job } from '../jobs.ts';
import { mediaUrl } from '../media.ts';
import type { ProviderEnv } from '../provider.ts';
import type { Route } from '../router.ts';
import { TRANSLATE_LANGUAGES } from './data.ts';
import { paged, v2, v3 } from './envelope.ts';
import { invalidParameter, notFound } from './errors.ts';
import type { HeyGenState, Translation } from './state.ts';
import { objectBody } from './videos.ts';

type Generation = 'v2' | 'v3';

function statusOf(job: Job<Translation>, gen: Generation): string {
  const p = phaseOf(job);
  if (p === 'completed') return gen === 'v2' ? 'success' : 'completed';
  return p === 'processing' ? 'running' : p;
}

export function translationRoutes(env: ProviderEnv, state: HeyGenState): Route[] {
  const languages = jsonBuffer(v2({ languages: TRANSLATE_LANGUAGES }));
  const languagesV3 = jsonBuffer(v3({ languages: TRANSLATE_LANGUAGES }));

  const job = (ctx: Ctx, id: string): Job<Translation> | null => {
    const j = state.translations.get(id);
    if (!j) sendAnswer(ctx, notFound(ctx.path, 'Video translation'));
    return j ?? null;
  };

  const create = (ctx: Ctx, t: Translation): Job<Translation> =>
    state.translations.create(hexId(), env.videoJobMs, t, wantsFailure(ctx.req.headers['x-sandbox-job'], t.title));

  const v3Detail = (ctx: Ctx, j: Job<Translation>): Record<string, unknown> => {
    const s = statusOf(j, 'v3');
    return {
      id: j.id,
      title: j.data.title,
      status: s,
      output_language: j.data.outputLanguage,
      input_language: j.data.inputLanguage,
      duration: s === 'completed' ? env.media.videoSeconds : null,
      translate_audio_only: j.data.audioOnly,
      video_url: s === 'completed' && !j.data.audioOnly ? mediaUrl(ctx.baseUrl, j.id, 'mp4') : null,
      audio_url: s === 'completed' ? mediaUrl(ctx.baseUrl, j.id, 'mp3') : null,
      callback_id: j.data.callbackId,
      created_at: Math.floor(j.createdAt / 1000),
      failure_message: s === 'failed' ? 'Translation failed (the sandbox was asked to fail this job).' : null,
    };
  };

  async function createV2(ctx: Ctx): Promise<void> {
    const body = await objectBody(ctx);
    if (!body) return;
    for (const k of ['video_url', 'output_language']) {
      if (typeof body[k] !== 'string' || body[k] === '') return sendAnswer(ctx, invalidParameter(ctx.path, k, `${k} is required.`));
    }
    const j = create(ctx, {
      title: typeof body.title === 'string' ? body.title : 'New Video',
      videoUrl: body.video_url as string,
      outputLanguage: body.output_language as string,
      inputLanguage: 'English',
      callbackId: typeof body.callback_id === 'string' ? body.callback_id : null,
      audioOnly: body.translate_audio_only === true,
    });
    sendJson(ctx, 200, v2({ video_translate_id: j.id }));
  }

  async function createV3(ctx: Ctx): Promise<void> {
    const body = await objectBody(ctx);
    if (!body) return;
    const video = body.video;
    if (!isObject(video) || typeof video.url !== 'string') return sendAnswer(ctx, invalidParameter(ctx.path, 'video', 'video {type, url} is required.'));
    const langs = body.output_languages;
    if (!Array.isArray(langs) || langs.length === 0 || !langs.every((l) => typeof l === 'string')) {
      return sendAnswer(ctx, invalidParameter(ctx.path, 'output_languages', 'output_languages must be a non-empty list of languages.'));
    }
    const ids = (langs as string[]).map(
      (lang) =>
        create(ctx, {
          title: typeof body.title === 'string' ? body.title : 'New Video',
          videoUrl: video.url as string,
          outputLanguage: lang,
          inputLanguage: typeof body.input_language === 'string' ? body.input_language : 'English',
          callbackId: typeof body.callback_id === 'string' ? body.callback_id : null,
          audioOnly: body.translate_audio_only === true,
        }).id,
    );
    sendJson(ctx, 200, v3({ video_translation_ids: ids }));
  }

  return [
    { method: 'POST', path: '/v2/video_translate', handler: createV2 },
    { method: 'GET', path: '/v2/video_translate/target_languages', handler: (ctx) => sendJson(ctx, 200, languages) },
    {
      method: 'GET',
      path: '/v2/video_translate/{video_translate_id}',
      handler(ctx) {
        const j = job(ctx, ctx.params.video_translate_id!);
        if (!j) return;
        const s = statusOf(j, 'v2');
        sendJson(
          ctx,
          200,
          v2({
            video_translate_id: j.id,
            title: j.data.title,
            status: s,
            url: s === 'success' ? mediaUrl(ctx.baseUrl, j.id, 'mp4') : null,
            message: s === 'failed' ? 'Translation failed (the sandbox was asked to fail this job).' : null,
            callback_id: j.data.callbackId,
            created_at: Math.floor(j.createdAt / 1000) || unixNow(),
          }),
        );
      },
    },
    { method: 'POST', path: '/v3/video-translations', handler: createV3 },
    {
      method: 'GET',
      path: '/v3/video-translations',
      handler(ctx) {
        const page = paged(ctx, state.translations.list());
        sendJson(ctx, 200, { ...page, data: page.data.map((j) => v3Detail(ctx, j)) });
      },
    },
    { method: 'GET', path: '/v3/video-translations/languages', handler: (ctx) => sendJson(ctx, 200, languagesV3) },
    {
      method: 'GET',
      path: '/v3/video-translations/{video_translation_id}',
      handler(ctx) {
        const j = job(ctx, ctx.params.video_translation_id!);
        if (j) sendJson(ctx, 200, v3(v3Detail(ctx, j)));
      },
    },
  ];
}
