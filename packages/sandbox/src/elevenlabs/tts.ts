// Text to audio: text-to-speech (whole, streamed, with timestamps), text-to-dialogue,
// sound generation. Real audio bytes in the asked output format (CATALOG §1.4).
import { isObject, sendAnswer, sendBytes, sendJson, streamChunks, type Ctx } from '../http.ts';
import type { OutputFormat } from '../audio/formats.ts';
import type { ProviderEnv } from '../provider.ts';
import type { Route } from '../router.ts';
import { validationError, type ValidationItem } from './errors.ts';
import { DEFAULT_MODEL_ID } from './data.ts';
import { SECONDS_PER_CHAR, alignment, characterCount, generationHeaders, type Meter } from './audio-common.ts';
import type { ElevenLabsState } from './state.ts';
import { formatOf, jsonBody, requireString } from './validate.ts';

/** Streamed audio arrives in pieces of about this much audio. */
const STREAM_CHUNK_S = 0.1;
/** Characters per line of `stream/with-timestamps`. */
const CHARS_PER_LINE = 10;

interface SpeechRequest {
  text: string;
  modelId: string;
  format: OutputFormat;
}

/** Reads and checks a text-to-speech body; null after answering 422. */
async function speechRequest(ctx: Ctx): Promise<SpeechRequest | null> {
  const format = formatOf(ctx);
  if (!format) return null;
  const body = await jsonBody(ctx);
  if (!body) return null;
  const errors: ValidationItem[] = [];
  const text = requireString(body, 'text', errors);
  if (errors.length) {
    sendAnswer(ctx, validationError(errors));
    return null;
  }
  const modelId = typeof body.model_id === 'string' ? body.model_id : DEFAULT_MODEL_ID;
  return { text, modelId, format };
}

function voiceName(state: ElevenLabsState, voiceId: string): string {
  return (state.voices.get(voiceId)?.name as string | undefined) ?? 'Custom voice';
}

export function ttsRoutes(env: ProviderEnv, state: ElevenLabsState, meter: Meter): Route[] {
  const { audio } = env;
  const secondsOf = (text: string): number => characterCount(text) * SECONDS_PER_CHAR;

  async function tts(ctx: Ctx, stream: boolean): Promise<void> {
    const r = await speechRequest(ctx);
    if (!r) return;
    const voiceId = ctx.params.voice_id!;
    const headers = generationHeaders(ctx, state, meter, {
      text: r.text,
      voiceId,
      voiceName: voiceName(state, voiceId),
      modelId: r.modelId,
      format: r.format,
      source: 'TTS',
    });
    const seconds = secondsOf(r.text);
    if (stream) {
      await streamChunks(ctx, 200, r.format.contentType, audio.chunks(r.format, seconds, STREAM_CHUNK_S), headers);
    } else {
      sendBytes(ctx, 200, r.format.contentType, audio.render(r.format, seconds), headers);
    }
  }

  async function withTimestamps(ctx: Ctx, stream: boolean): Promise<void> {
    const r = await speechRequest(ctx);
    if (!r) return;
    const voiceId = ctx.params.voice_id!;
    const headers = generationHeaders(ctx, state, meter, {
      text: r.text,
      voiceId,
      voiceName: voiceName(state, voiceId),
      modelId: r.modelId,
      format: r.format,
      source: 'TTS',
    });
    const chars = [...r.text];
    const seconds = secondsOf(r.text);
    if (!stream) {
      const a = alignment(chars);
      sendJson(ctx, 200, { audio_base64: audio.render(r.format, seconds).toString('base64'), alignment: a, normalized_alignment: a }, headers);
      return;
    }
    // One JSON object per line, each with a piece of audio and the characters it covers.
    const pieces = audio.chunks(r.format, seconds, CHARS_PER_LINE * SECONDS_PER_CHAR);
    const per = Math.ceil(chars.length / pieces.length);
    const lines = pieces.map((piece, i) => {
      const slice = chars.slice(i * per, (i + 1) * per);
      const a = slice.length ? alignment(slice, i * per) : null;
      return Buffer.from(`${JSON.stringify({ audio_base64: piece.toString('base64'), alignment: a, normalized_alignment: a })}\n`);
    });
    await streamChunks(ctx, 200, 'application/json', lines, headers);
  }

  async function dialogue(ctx: Ctx, stream: boolean): Promise<void> {
    const format = formatOf(ctx);
    if (!format) return;
    const body = await jsonBody(ctx);
    if (!body) return;
    const errors: ValidationItem[] = [];
    const inputs = body.inputs;
    const texts: string[] = [];
    if (!Array.isArray(inputs)) {
      errors.push(
        inputs === undefined
          ? { type: 'missing', loc: ['body', 'inputs'], msg: 'Field required', input: null }
          : { type: 'list_type', loc: ['body', 'inputs'], msg: 'Input should be a valid list', input: inputs },
      );
    } else {
      inputs.forEach((input: unknown, i: number) => {
        const item = isObject(input) ? input : {};
        texts.push(requireString(item, 'text', errors, ['body', 'inputs', i]));
        requireString(item, 'voice_id', errors, ['body', 'inputs', i]);
      });
    }
    if (errors.length) {
      sendAnswer(ctx, validationError(errors));
      return;
    }
    const text = texts.join(' ');
    const headers = generationHeaders(ctx, state, meter, {
      text,
      voiceId: String((inputs as Record<string, unknown>[])[0]?.voice_id ?? ''),
      voiceName: 'Dialogue',
      modelId: typeof body.model_id === 'string' ? body.model_id : 'eleven_v3',
      format,
      source: 'TTD',
    });
    const seconds = secondsOf(text);
    if (stream) await streamChunks(ctx, 200, format.contentType, audio.chunks(format, seconds, STREAM_CHUNK_S), headers);
    else sendBytes(ctx, 200, format.contentType, audio.render(format, seconds), headers);
  }

  async function soundGeneration(ctx: Ctx): Promise<void> {
    const format = formatOf(ctx);
    if (!format) return;
    const body = await jsonBody(ctx);
    if (!body) return;
    const errors: ValidationItem[] = [];
    const text = requireString(body, 'text', errors);
    const d = body.duration_seconds;
    if (d !== undefined && d !== null && (typeof d !== 'number' || d < 0.5 || d > 30)) {
      errors.push({ type: 'value_error', loc: ['body', 'duration_seconds'], msg: 'Value error, duration_seconds must be between 0.5 and 30', input: d });
    }
    if (errors.length) {
      sendAnswer(ctx, validationError(errors));
      return;
    }
    const seconds = typeof d === 'number' ? d : Math.min(22, Math.max(0.5, secondsOf(text)));
    // Sound effects are billed per generated second when a duration is given, else per request.
    const cost = typeof d === 'number' ? Math.ceil(40 * d) : 200;
    const headers = generationHeaders(ctx, state, meter, { text, voiceId: '', voiceName: '', modelId: 'eleven_text_to_sound_v2', format, source: 'SFX', cost });
    sendBytes(ctx, 200, format.contentType, audio.render(format, seconds), headers);
  }

  return [
    { method: 'POST', path: '/v1/text-to-speech/{voice_id}', handler: (ctx) => tts(ctx, false) },
    { method: 'POST', path: '/v1/text-to-speech/{voice_id}/stream', handler: (ctx) => tts(ctx, true) },
    { method: 'POST', path: '/v1/text-to-speech/{voice_id}/with-timestamps', handler: (ctx) => withTimestamps(ctx, false) },
    { method: 'POST', path: '/v1/text-to-speech/{voice_id}/stream/with-timestamps', handler: (ctx) => withTimestamps(ctx, true) },
    { method: 'POST', path: '/v1/text-to-dialogue', handler: (ctx) => dialogue(ctx, false) },
    { method: 'POST', path: '/v1/text-to-dialogue/stream', handler: (ctx) => dialogue(ctx, true) },
    { method: 'POST', path: '/v1/sound-generation', handler: soundGeneration },
  ];
}
