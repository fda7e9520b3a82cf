// The mutable part of one ElevenLabs fake: voices added or removed, history, dubbing jobs,
// transcripts, characters spent. One instance per sandbox, so that tests do not share state.
import { jsonBuffer } from '../http.ts';
import { JobStore } from '../jobs.ts';
import { DUBBING_ID, TRANSCRIPTION_ID, premadeVoices, seedHistory, type HistoryItem, type Voice } from './data.ts';

export interface Dubbing {
  name: string;
  source_language: string;
  target_languages: string[];
  content_type: string;
  duration: number;
}

const HISTORY_LIMIT = 1000;

export class ElevenLabsState {
  readonly voices = new Map<string, Voice>();
  readonly premade = new Set<string>();
  readonly history = new Map<string, HistoryItem>();
  readonly dubbings = new JobStore<Dubbing>();
  readonly transcripts = new Map<string, Record<string, unknown>>();
  charactersUsed = 1000;
  private voicesList: Buffer | null = null;

  constructor() {
    for (const v of premadeVoices()) {
      this.voices.set(v.voice_id, v);
      this.premade.add(v.voice_id);
    }
    for (const h of seedHistory()) this.history.set(h.history_item_id, h);
    // A finished dub, old enough to be `dubbed` from the first request on.
    this.dubbings.create(
      DUBBING_ID,
      0,
      { name: 'My Dubbing Project', source_language: 'en', target_languages: ['es'], content_type: 'video/mp4', duration: 127.5 },
      false,
      Date.parse('2025-07-15T14:49:41.149Z'),
    );
    this.transcripts.set(TRANSCRIPTION_ID, transcript(TRANSCRIPTION_ID, 'Hello world!'));
  }

  /** `{"voices": [...]}`, serialised once until the voice set changes. */
  voicesJson(): Buffer {
    return (this.voicesList ??= jsonBuffer({ voices: [...this.voices.values()] }));
  }

  voicesChanged(): void {
    this.voicesList = null;
  }

  addHistory(item: HistoryItem): void {
    this.history.set(item.history_item_id, item);
    if (this.history.size > HISTORY_LIMIT) this.history.delete(this.history.keys().next().value!);
  }

  addTranscript(id: string, t: Record<string, unknown>): void {
    this.transcripts.set(id, t);
    if (this.transcripts.size > HISTORY_LIMIT) this.transcripts.delete(this.transcripts.keys().next().value!);
  }

  /** Characters spent, as `character-cost` reports; returns the count before and after. */
  spend(characters: number): [number, number] {
    const from = this.charactersUsed;
    this.charactersUsed += characters;
    return [from, this.charactersUsed];
  }
}

/** A Scribe transcript of `text`, one word entry per word with 0.4 s per word. */
export function transcript(id: string | null, text: string): Record<string, unknown> {
  const words: Record<string, unknown>[] = [];
  let t = 0;
  const tokens = text.split(/(\s+)/).filter((x) => x !== '');
  for (const token of tokens) {
    const spacing = /^\s+$/.test(token);
    const d = spacing ? 0 : 0.4;
    words.push({
      text: token,
      start: Number(t.toFixed(3)),
      end: Number((t + d).toFixed(3)),
      type: spacing ? 'spacing' : 'word',
      speaker_id: 'speaker_0',
      logprob: spacing ? 0 : -0.12,
    });
    t += d;
  }
  return {
    language_code: 'en',
    language_probability: 0.98,
    text,
    words,
    ...(id ? { transcription_id: id } : {}),
  };
}
