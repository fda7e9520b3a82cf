// Dubbing jobs (CATALOG §3 point 7): create → `dubbing` → `dubbed` over the sandbox's job time;
// the dubbed file answers 425 until then.
import { alnumId, jsonBuffer, sendAnswer, sendBytes, sendJson, type Ctx } from '../http.ts';
import { outputFormat } from '../audio/formats.ts';
import { phaseOf, wantsFailure, type Job } from '../jobs.ts';
import { field, files } from '../multipart.ts';
import type { ProviderEnv } from '../provider.ts';
import type { Route } from '../router.ts';
import { elError, notFoundFor, validationError } from './errors.ts';
import { DUBBING_ID } from './data.ts';
import type { Dubbing, ElevenLabsState } from './state.ts';
import { formBody } from './validate.ts';

const OK = jsonBuffer({ status: 'ok' });

function status(job: Job<Dubbing>): 'dubbing' | 'dubbed' | 'failed' {
  const p = phaseOf(job);
  return p === 'completed' ? 'dubbed' : p === 'failed' ? 'failed' : 'dubbing';
}

function describe(job: Job<Dubbing>): Record<string, unknown> {
  const s = status(job);
  return {
    dubbing_id: job.id,
    name: job.data.name,
    status: s,
    source_language: job.data.source_language,
    target_languages: job.data.target_languages,
    editable: false,
    created_at: new Date(job.createdAt).toISOString().replace('Z', '000'),
    media_metadata: { content_type: job.data.content_type, duration: job.data.duration },
    error: s === 'failed' ? 'Dubbing failed: the sandbox was asked to fail this job.' : null,
  };
}

/** Subtitles of the dub in SRT or WebVTT. */
function subtitles(format: string, language: string): string {
  const line = language === 'es' ? 'Hola desde el sandbox de Portico.' : 'Hello from the Portico sandbox.';
  if (format === 'webvtt') return `WEBVTT\n\n00:00:00.000 --> 00:00:02.000\n${line}\n`;
  return `1\n00:00:00,000 --> 00:00:02,000\n${line}\n`;
}

export function dubbingRoutes(env: ProviderEnv, state: ElevenLabsState): Route[] {
  const job = (ctx: Ctx): Job<Dubbing> | null => {
    const j = state.dubbings.get(ctx.params.dubbing_id!);
    if (!j) sendAnswer(ctx, notFoundFor(ctx.params, ctx.requestId));
    return j ?? null;
  };

  /** The job when its output can be downloaded; otherwise answers 425 (not yet) or 400 (failed). */
  const ready = (ctx: Ctx): Job<Dubbing> | null => {
    const j = job(ctx);
    if (!j) return null;
    const s = status(j);
    if (s === 'dubbing') {
      sendAnswer(ctx, elError(425, 'dubbing_not_ready', ctx.requestId));
      return null;
    }
    if (s === 'failed') {
      sendAnswer(ctx, elError(400, 'dubbing_failed', ctx.requestId, 'This dubbing failed; there is nothing to download.'));
      return null;
    }
    const language = ctx.params.language_code!;
    if (!j.data.target_languages.includes(language)) {
      sendAnswer(ctx, elError(404, 'language_not_found', ctx.requestId, `Language ${language} is not a target language of this dubbing.`));
      return null;
    }
    return j;
  };

  async function create(ctx: Ctx): Promise<void> {
    const parts = await formBody(ctx, ['target_lang']);
    if (!parts) return;
    const file = files(parts, 'file')[0];
    const sourceUrl = field(parts, 'source_url');
    if (!file && !sourceUrl) {
      sendAnswer(ctx, validationError([{ type: 'missing', loc: ['body', 'file'], msg: 'Either file or source_url must be provided', input: null }]));
      return;
    }
    const isAudio = file ? /^audio\//.test(file.contentType ?? '') : /\.(mp3|wav|m4a|ogg)(\?|$)/i.test(sourceUrl ?? '');
    const duration = file ? Math.round(Math.max(1, file.data.length / 16_000) * 10) / 10 : 127.5;
    const name = field(parts, 'name') ?? file?.filename ?? 'Untitled';
    const id = alnumId();
    state.dubbings.create(
      id,
      env.videoJobMs,
      {
        name,
        source_language: field(parts, 'source_lang') ?? 'auto',
        target_languages: [field(parts, 'target_lang')!],
        content_type: isAudio ? 'audio/mpeg' : 'video/mp4',
        duration,
      },
      wantsFailure(ctx.req.headers['x-sandbox-job'], name),
    );
    sendJson(ctx, 200, { dubbing_id: id, expected_duration_sec: Math.round(duration * 1.2 * 10) / 10 });
  }

  function list(ctx: Ctx): void {
    const q = ctx.query;
    const size = Math.min(200, Math.max(1, Number(q.get('page_size') ?? 100) || 100));
    const wanted = q.get('dubbing_status');
    let all = state.dubbings.list();
    if (wanted) all = all.filter((j) => status(j) === wanted);
    const start = Number(q.get('cursor') ?? 0) || 0;
    const pageJobs = all.slice(start, start + size);
    const more = start + size < all.length;
    sendJson(ctx, 200, { dubs: pageJobs.map(describe), next_cursor: more ? String(start + size) : null, has_more: more });
  }

  return [
    { method: 'POST', path: '/v1/dubbing', handler: create },
    { method: 'GET', path: '/v1/dubbing', handler: list },
    {
      method: 'GET',
      path: '/v1/dubbing/{dubbing_id}',
      handler(ctx) {
        const j = job(ctx);
        if (j) sendJson(ctx, 200, describe(j));
      },
    },
    {
      method: 'GET',
      path: '/v1/dubbing/{dubbing_id}/audio/{language_code}',
      handler(ctx) {
        const j = ready(ctx);
        if (!j) return;
        if (j.data.content_type === 'video/mp4') return sendBytes(ctx, 200, 'video/mp4', env.media.video);
        const format = outputFormat(null)!;
        sendBytes(ctx, 200, format.contentType, env.audio.render(format, j.data.duration));
      },
    },
    {
      method: 'GET',
      path: '/v1/dubbing/{dubbing_id}/transcript/{language_code}',
      handler(ctx) {
        const j = ready(ctx);
        if (!j) return;
        const format = ctx.query.get('format_type') === 'webvtt' ? 'webvtt' : 'srt';
        sendBytes(ctx, 200, 'text/plain; charset=utf-8', Buffer.from(subtitles(format, ctx.params.language_code!)));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/dubbing/{dubbing_id}',
      handler(ctx) {
        const j = job(ctx);
        if (!j) return;
        if (j.id !== DUBBING_ID) state.dubbings.delete(j.id);
        sendJson(ctx, 200, OK);
      },
    },
  ];
}
