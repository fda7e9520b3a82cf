// What every ElevenLabs audio answer shares: duration from text, response headers, history.
import { alnumId, unixNow, type Ctx, type Headers } from '../http.ts';
import type { OutputFormat } from '../audio/formats.ts';
import { concurrencyHeaders } from './errors.ts';
import { DEFAULT_VOICE_SETTINGS, DEFAULT_MODEL_ID, type HistoryItem } from './data.ts';
import type { ElevenLabsState } from './state.ts';

/** About 60 ms of speech per character (a brisk reading pace). */
export const SECONDS_PER_CHAR = 0.06;

export function characterCount(text: string): number {
  return [...text].length;
}

/** Counts requests in flight for the `current-concurrent-requests` header. */
export interface Meter {
  enter(ctx: Ctx): Headers;
}

export function createMeter(): Meter {
  let inFlight = 0;
  return {
    enter(ctx) {
      inFlight++;
      ctx.res.once('close', () => inFlight--);
      return concurrencyHeaders(inFlight);
    },
  };
}

export interface Generation {
  text: string;
  voiceId: string;
  voiceName: string;
  modelId: string;
  format: OutputFormat;
  source: string;
  /** Credits charged; defaults to the number of characters of `text`. */
  cost?: number;
}

/**
 * Records the generation (history, characters spent) and returns ElevenLabs' informational
 * headers: request-id (already on ctx), character-cost, history-item-id, tts-latency-ms.
 */
export function generationHeaders(ctx: Ctx, state: ElevenLabsState, meter: Meter, g: Generation): Headers {
  const cost = g.cost ?? characterCount(g.text);
  const [from, to] = state.spend(cost);
  const headers: Headers = meter.enter(ctx);
  headers['character-cost'] = String(cost);
  headers['tts-latency-ms'] = String(80 + (cost % 40));
  if (ctx.query.get('enable_logging') !== 'false') {
    const item: HistoryItem = {
      history_item_id: alnumId(),
      request_id: ctx.requestId,
      voice_id: g.voiceId,
      voice_name: g.voiceName,
      voice_category: 'premade',
      model_id: g.modelId || DEFAULT_MODEL_ID,
      text: g.text,
      date_unix: unixNow(),
      character_count_change_from: from,
      character_count_change_to: to,
      content_type: g.format.contentType,
      state: 'created',
      settings: DEFAULT_VOICE_SETTINGS,
      feedback: null,
      share_link_id: null,
      source: g.source,
      alignments: null,
      dialogue: null,
      output_format: g.format.name,
    };
    state.addHistory(item);
    headers['history-item-id'] = item.history_item_id;
  }
  return headers;
}

export interface Alignment {
  characters: string[];
  character_start_times_seconds: number[];
  character_end_times_seconds: number[];
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** Character timings, `offset` characters into the text. */
export function alignment(chars: string[], offset = 0): Alignment {
  return {
    characters: chars,
    character_start_times_seconds: chars.map((_, i) => round3((offset + i) * SECONDS_PER_CHAR)),
    character_end_times_seconds: chars.map((_, i) => round3((offset + i + 1) * SECONDS_PER_CHAR)),
  };
}
