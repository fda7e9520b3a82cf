// Video jobs in all three API generations (CATALOG §2.3, §2.4): create (v3, /v2/videos,
// legacy /v2/video/generate, templates, video agents), status (v3, /v2/videos, v1), list, delete.
// Every status endpoint sees the same jobs; a completed job's URLs point at the sandbox itself.
import { hexId, isObject, readJson, sendAnswer, sendJson, unixNow, type Ctx } from '../http.ts';
import { finishedAt, phaseOf, wantsFailure, type Job, type Phase } from '../jobs.ts';
import { mediaUrl } from '../media.ts';
import type { ProviderEnv } from '../provider.ts';
import type { Route } from '../router.ts';
import { SEED } from './data.ts';
import { paged, v1, v2, v3 } from './envelope.ts';
import { familyOf, hgError, invalidParameter, notFound } from './errors.ts';
import type { HeyGenState, Video } from './state.ts';

const SCRIPT_LIMIT = 5000;

/** The JSON body as an object, or null after answering 400 in the route's envelope. */
export async function objectBody(ctx: Ctx): Promise<Record<string, unknown> | null> {
  const read = await readJson(ctx.req);
  if (read.ok && isObject(read.value)) return read.value;
  const message = read.ok ? 'Request body must be a JSON object.' : read.error === 'empty' ? 'Request body is required.' : 'Request body is not valid JSON.';
  sendAnswer(ctx, invalidParameter(ctx.path, 'body', message));
  return null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Checks the v3 / `/v2/videos` body; returns the problem as [param, message] or null. */
function videoProblem(body: Record<string, unknown>, typed: boolean): [string, string] | null {
  if (typed) {
    if (body.type !== 'avatar' && body.type !== 'image') return ['type', "type must be one of: 'avatar', 'image'."];
    if (body.type === 'avatar' && !str(body.avatar_id)) return ['avatar_id', 'Exactly one visual source required: avatar_id, image_url, or image_asset_id.'];
    if (body.type === 'image' && !isObject(body.image)) return ['image', 'image is required when type is image.'];
  } else {
    const sources = ['avatar_id', 'image_url', 'image_asset_id'].filter((k) => str(body[k]));
    if (sources.length !== 1) return ['avatar_id', 'Exactly one visual source required: avatar_id, image_url, or image_asset_id.'];
  }
  const script = body.script;
  if (script !== undefined && script !== null) {
    if (typeof script !== 'string' || script === '') return ['script', 'script must be a non-empty string.'];
    if (script.length > SCRIPT_LIMIT) return ['script', `script must be at most ${SCRIPT_LIMIT} characters.`];
    if (!str(body.voice_id)) return ['voice_id', 'voice_id is required when script is provided.'];
  } else if (!str(body.audio_url) && !str(body.audio_asset_id)) {
    return ['script', 'Provide script with voice_id, or audio_url, or audio_asset_id.'];
  }
  return null;
}

/** Checks the legacy `video_inputs` scenes of `/v2/video/generate`. */
function legacyProblem(body: Record<string, unknown>): string | null {
  const inputs = body.video_inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) return 'video_inputs is required and must hold 1 to 50 scenes.';
  if (inputs.length > 50) return 'video_inputs must hold at most 50 scenes.';
  for (const [i, scene] of inputs.entries()) {
    if (!isObject(scene) || !isObject(scene.character) || !isObject(scene.voice)) return `video_inputs[${i}] needs a character and a voice.`;
    const c = scene.character;
    if (c.type === 'avatar' && !str(c.avatar_id)) return `video_inputs[${i}].character.avatar_id is required.`;
    if (c.type === 'talking_photo' && !str(c.talking_photo_id)) return `video_inputs[${i}].character.talking_photo_id is required.`;
    const v = scene.voice;
    if (v.type === 'text' && (!str(v.voice_id) || typeof v.input_text !== 'string')) return `video_inputs[${i}].voice needs voice_id and input_text.`;
    if (typeof v.input_text === 'string' && v.input_text.length > SCRIPT_LIMIT)
      return `video_inputs[${i}].voice.input_text must be under ${SCRIPT_LIMIT} characters.`;
  }
  return null;
}

export function videoRoutes(env: ProviderEnv, state: HeyGenState): Route[] {
  const urls = (ctx: Ctx, job: Job<Video>, phase: Phase) =>
    phase === 'completed'
      ? { video: mediaUrl(ctx.baseUrl, job.id, 'mp4'), thumbnail: mediaUrl(ctx.baseUrl, job.id, 'jpg'), gif: mediaUrl(ctx.baseUrl, job.id, 'gif') }
      : { video: null, thumbnail: null, gif: null };

  /** v3 VideoDetail (also `/v2/videos`). */
  const detail = (ctx: Ctx, job: Job<Video>): Record<string, unknown> => {
    const phase = phaseOf(job);
    const u = urls(ctx, job, phase);
    const done = phase === 'completed' || phase === 'failed';
    return {
      id: job.id,
      title: job.data.title,
      status: phase,
      created_at: Math.floor(job.createdAt / 1000),
      completed_at: done ? Math.floor(finishedAt(job) / 1000) : null,
      video_url: u.video,
      thumbnail_url: u.thumbnail,
      gif_url: u.gif,
      captioned_video_url: null,
      subtitle_url: null,
      duration: phase === 'completed' ? env.media.videoSeconds : null,
      folder_id: job.data.folderId,
      output_language: null,
      failure_code: phase === 'failed' ? 'RENDER_FAILED' : null,
      failure_message: phase === 'failed' ? 'Video rendering failed (the sandbox was asked to fail this job).' : null,
      video_page_url: `https://app.heygen.com/videos/${job.id}`,
    };
  };

  /** Legacy `/v1/video_status.get` data. */
  const legacyStatus = (ctx: Ctx, job: Job<Video>): Record<string, unknown> => {
    const phase = phaseOf(job);
    const u = urls(ctx, job, phase);
    return {
      id: job.id,
      status: phase,
      callback_id: job.data.callbackId,
      caption_url: null,
      created_at: Math.floor(job.createdAt / 1000),
      duration: phase === 'completed' ? env.media.videoSeconds : null,
      error:
        phase === 'failed'
          ? { code: 40119, message: 'Video is too long', detail: 'Video is too long (> 3600.0s). Please upgrade your plan to generate longer videos' }
          : null,
      gif_url: u.gif,
      thumbnail_url: u.thumbnail,
      video_url: u.video,
      video_url_caption: null,
    };
  };

  const create = (ctx: Ctx, body: Record<string, unknown>, source: Video['source']): Job<Video> => {
    const title = str(body.title);
    return state.videos.create(
      hexId(),
      env.videoJobMs,
      { title, callbackId: str(body.callback_id), folderId: str(body.folder_id), source },
      wantsFailure(ctx.req.headers['x-sandbox-job'], title, body.callback_id),
    );
  };

  const job = (ctx: Ctx, id: string | null): Job<Video> | null => {
    if (!id) {
      sendAnswer(ctx, invalidParameter(ctx.path, 'video_id', 'video_id is required.'));
      return null;
    }
    const j = state.videos.get(id);
    if (!j) sendAnswer(ctx, notFound(ctx.path, 'Video'));
    return j ?? null;
  };

  async function createV3(ctx: Ctx, typed: boolean): Promise<void> {
    const body = await objectBody(ctx);
    if (!body) return;
    const problem = videoProblem(body, typed);
    if (problem) return sendAnswer(ctx, hgError({ status: 400, family: 'v3', message: problem[1], param: problem[0] }));
    const j = create(ctx, body, typed ? 'v3' : 'v2-videos');
    sendJson(ctx, 200, v3({ video_id: j.id, status: phaseOf(j) }));
  }

  function list(ctx: Ctx): void {
    let all = state.videos.list();
    const folder = ctx.query.get('folder_id');
    const title = ctx.query.get('title')?.toLowerCase();
    if (folder) all = all.filter((j) => j.data.folderId === folder);
    if (title) all = all.filter((j) => (j.data.title ?? '').toLowerCase().includes(title));
    const page = paged(ctx, all);
    sendJson(ctx, 200, { ...page, data: page.data.map((j) => detail(ctx, j)) });
  }

  function remove(ctx: Ctx, id: string | null): void {
    const j = job(ctx, id);
    if (!j) return;
    if (j.id !== SEED.video) state.videos.delete(j.id);
    sendJson(ctx, 200, familyOf(ctx.path) === 'v1' ? v1(null) : v3({ id: j.id, deleted: true }));
  }

  function get(ctx: Ctx): void {
    const j = job(ctx, ctx.params.video_id!);
    if (j) sendJson(ctx, 200, v3(detail(ctx, j)));
  }

  return [
    { method: 'POST', path: '/v3/videos', handler: (ctx) => createV3(ctx, true) },
    { method: 'GET', path: '/v3/videos', handler: list },
    { method: 'GET', path: '/v3/videos/{video_id}', handler: get },
    { method: 'DELETE', path: '/v3/videos/{video_id}', handler: (ctx) => remove(ctx, ctx.params.video_id!) },
    { method: 'POST', path: '/v2/videos', handler: (ctx) => createV3(ctx, false) },
    { method: 'GET', path: '/v2/videos', handler: list },
    { method: 'GET', path: '/v2/videos/{video_id}', handler: get },
    { method: 'DELETE', path: '/v2/videos/{video_id}', handler: (ctx) => remove(ctx, ctx.params.video_id!) },
    {
      method: 'POST',
      path: '/v2/video/generate',
      async handler(ctx) {
        const body = await objectBody(ctx);
        if (!body) return;
        const problem = legacyProblem(body);
        if (problem) return sendAnswer(ctx, invalidParameter(ctx.path, 'video_inputs', problem));
        sendJson(ctx, 200, v2({ video_id: create(ctx, body, 'v2').id }));
      },
    },
    {
      method: 'POST',
      path: '/v2/template/{template_id}/generate',
      async handler(ctx) {
        const body = await objectBody(ctx);
        if (!body) return;
        if (body.variables !== undefined && !isObject(body.variables)) {
          return sendAnswer(ctx, invalidParameter(ctx.path, 'variables', 'variables must be an object.'));
        }
        sendJson(ctx, 200, v2({ video_id: create(ctx, body, 'template').id }));
      },
    },
    {
      method: 'POST',
      path: '/v3/video-agents',
      async handler(ctx) {
        const body = await objectBody(ctx);
        if (!body) return;
        if (!str(body.prompt)) return sendAnswer(ctx, hgError({ status: 400, family: 'v3', message: 'prompt is required.', param: 'prompt' }));
        const j = create(ctx, body, 'agent');
        sendJson(ctx, 200, v3({ session_id: hexId(), status: 'generating', video_id: j.id, created_at: unixNow() }));
      },
    },
    {
      method: 'GET',
      path: '/v1/video_status.get',
      handler(ctx) {
        const j = job(ctx, ctx.query.get('video_id'));
        if (j) sendJson(ctx, 200, v1(legacyStatus(ctx, j)));
      },
    },
    {
      method: 'GET',
      path: '/v1/video.list',
      handler(ctx) {
        const page = paged(ctx, state.videos.list(), 100);
        const videos = page.data.map((j) => ({
          video_id: j.id,
          status: phaseOf(j),
          video_title: j.data.title ?? '',
          created_at: Math.floor(j.createdAt / 1000),
          type: 'GENERATED',
        }));
        sendJson(ctx, 200, v1({ token: page.next_token, videos }));
      },
    },
    { method: 'DELETE', path: '/v1/video.delete', handler: (ctx) => remove(ctx, ctx.query.get('video_id')) },
  ];
}
