// Audio in, audio or text out: speech-to-speech (voice changer), audio isolation,
// speech-to-text (Scribe) and stored transcripts. Multipart requests.
import { alnumId, sendAnswer, sendBytes, sendJson, streamChunks, truthy, type Ctx } from '../http.ts';
import { outputFormat } from '../audio/formats.ts';
import { field, files, type Part } from '../multipart.ts';
import type { ProviderEnv } from '../provider.ts';
import type { Route } from '../router.ts';
import { elError, notFoundFor } from './errors.ts';
import { generationHeaders, type Meter } from './audio-common.ts';
import { transcript, type ElevenLabsState } from './state.ts';
import { formBody, formatOf } from './validate.ts';

/** Length of uploaded audio, guessed from its size as if it were 128 kbit/s MP3. */
function uploadedSeconds(parts: Part[], name: string): number {
  const bytes = files(parts, name).reduce((n, p) => n + p.data.length, 0);
  return Math.min(120, Math.max(0.5, bytes / 16_000));
}

/** Voice-changer minutes are billed like 1000 characters a minute. */
const costOfSeconds = (s: number): number => Math.ceil((s * 1000) / 60);

const SAMPLE_TRANSCRIPT = 'Hello from the Portico sandbox. This transcript is canned.';

export function audioToolRoutes(env: ProviderEnv, state: ElevenLabsState, meter: Meter): Route[] {
  const { audio } = env;

  async function speechToSpeech(ctx: Ctx, stream: boolean): Promise<void> {
    const format = formatOf(ctx);
    if (!format) return;
    const parts = await formBody(ctx, ['audio']);
    if (!parts) return;
    const seconds = uploadedSeconds(parts, 'audio');
    const voiceId = ctx.params.voice_id!;
    const headers = generationHeaders(ctx, state, meter, {
      text: '',
      voiceId,
      voiceName: (state.voices.get(voiceId)?.name as string | undefined) ?? 'Custom voice',
      modelId: field(parts, 'model_id') ?? 'eleven_multilingual_sts_v2',
      format,
      source: 'STS',
      cost: costOfSeconds(seconds),
    });
    if (stream) await streamChunks(ctx, 200, format.contentType, audio.chunks(format, seconds, 0.1), headers);
    else sendBytes(ctx, 200, format.contentType, audio.render(format, seconds), headers);
  }

  async function audioIsolation(ctx: Ctx): Promise<void> {
    const parts = await formBody(ctx, ['audio']);
    if (!parts) return;
    const format = outputFormat(null)!;
    const seconds = uploadedSeconds(parts, 'audio');
    const headers = generationHeaders(ctx, state, meter, {
      text: '',
      voiceId: '',
      voiceName: '',
      modelId: '',
      format,
      source: 'AudioIsolation',
      cost: costOfSeconds(seconds),
    });
    sendBytes(ctx, 200, format.contentType, audio.render(format, seconds), headers);
  }

  async function speechToText(ctx: Ctx): Promise<void> {
    const parts = await formBody(ctx, ['model_id']);
    if (!parts) return;
    const file = files(parts, 'file');
    const url = field(parts, 'cloud_storage_url');
    if (!file.length && !url) {
      sendAnswer(ctx, elError(400, 'invalid_parameters', ctx.requestId, 'Either file or cloud_storage_url must be provided.', { param: 'file' }));
      return;
    }
    const id = alnumId();
    const result = transcript(id, SAMPLE_TRANSCRIPT);
    state.addTranscript(id, result);
    if (truthy(field(parts, 'webhook'))) {
      // Asynchronous mode: the result would go to the account's webhook; it can be fetched by id.
      sendJson(ctx, 202, {
        message: 'Request accepted. Transcription result will be sent to the webhook endpoint.',
        request_id: ctx.requestId,
        transcription_id: id,
      });
      return;
    }
    sendJson(ctx, 200, result);
  }

  return [
    { method: 'POST', path: '/v1/speech-to-speech/{voice_id}', handler: (ctx) => speechToSpeech(ctx, false) },
    { method: 'POST', path: '/v1/speech-to-speech/{voice_id}/stream', handler: (ctx) => speechToSpeech(ctx, true) },
    { method: 'POST', path: '/v1/audio-isolation', handler: audioIsolation },
    { method: 'POST', path: '/v1/speech-to-text', handler: speechToText },
    {
      method: 'GET',
      path: '/v1/speech-to-text/transcripts/{transcription_id}',
      handler(ctx) {
        const t = state.transcripts.get(ctx.params.transcription_id!);
        if (!t) sendAnswer(ctx, notFoundFor(ctx.params, ctx.requestId));
        else sendJson(ctx, 200, t);
      },
    },
  ];
}
