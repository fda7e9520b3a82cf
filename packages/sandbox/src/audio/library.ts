// Renders audio of a wanted duration in any ElevenLabs output format, from the committed
// fixtures (MP3 frames, Opus clip) or from code (PCM, WAV, G.711). Results are cached because
// benchmarks ask for the same few lengths over and over.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitFrames } from './mp3.ts';
import { g711, pcm16, wavHeader } from './pcm.ts';
import type { OutputFormat } from './formats.ts';

/** Shortest audio ever returned: a few frames, so that even "Hi" decodes to something. */
export const MIN_SECONDS = 0.25;
/** Longest: keeps a silly request from allocating hundreds of megabytes. */
export const MAX_SECONDS = 600;

interface Rendered {
  body: Buffer;
  /** Offsets where the body may be cut into stream chunks (after each MPEG frame / sample). */
  unitEnds: number[] | null;
  unitBytes: number;
}

interface Mp3Source {
  frames: Buffer[];
  frameSeconds: number;
}

export interface AudioLibrary {
  /** The whole file for `seconds` of audio. */
  render(format: OutputFormat, seconds: number): Buffer;
  /** The same bytes as `render`, cut into chunks of about `chunkSeconds` (whole frames for MP3). */
  chunks(format: OutputFormat, seconds: number, chunkSeconds: number): Buffer[];
  /** Duration that `render` really produces (MP3 rounds up to whole frames). */
  actualSeconds(format: OutputFormat, seconds: number): number;
}

const CACHE_LIMIT = 256;

export function loadAudioLibrary(fixturesDir: string): AudioLibrary {
  const mp3 = new Map<string, Mp3Source>();
  const loadMp3 = (format: OutputFormat): Mp3Source => {
    let src = mp3.get(format.name);
    if (!src) {
      const file = join(fixturesDir, `tone_${format.sampleRate}_${format.bitrateKbps}.mp3`);
      const { header, frames } = splitFrames(readFileSync(file));
      src = { frames, frameSeconds: header.samplesPerFrame / header.sampleRate };
      mp3.set(format.name, src);
    }
    return src;
  };
  let opus: Buffer | null = null;
  const cache = new Map<string, Rendered>();

  const clamp = (s: number): number => Math.min(MAX_SECONDS, Math.max(MIN_SECONDS, Number.isFinite(s) ? s : 0));

  const frameCount = (src: Mp3Source, seconds: number): number => Math.ceil(clamp(seconds) / src.frameSeconds - 1e-9);

  const build = (format: OutputFormat, seconds: number): Rendered => {
    switch (format.codec) {
      case 'mp3': {
        const src = loadMp3(format);
        const n = frameCount(src, seconds);
        const parts: Buffer[] = new Array(n);
        const unitEnds: number[] = new Array(n);
        let end = 0;
        for (let i = 0; i < n; i++) {
          const f = src.frames[i % src.frames.length]!;
          parts[i] = f;
          end += f.length;
          unitEnds[i] = end;
        }
        return { body: Buffer.concat(parts, end), unitEnds, unitBytes: 0 };
      }
      case 'pcm':
      case 'wav': {
        const samples = Math.round(clamp(seconds) * format.sampleRate);
        const data = pcm16(format.sampleRate, samples);
        const body = format.codec === 'wav' ? Buffer.concat([wavHeader(format.sampleRate, data.length), data]) : data;
        return { body, unitEnds: null, unitBytes: 2 };
      }
      case 'ulaw':
      case 'alaw': {
        const samples = Math.round(clamp(seconds) * format.sampleRate);
        return { body: g711(format.sampleRate, samples, format.codec), unitEnds: null, unitBytes: 1 };
      }
      case 'opus':
        // An Ogg stream cannot be lengthened by repeating pages, so every answer is the clip.
        opus ??= readFileSync(join(fixturesDir, 'tone_48000.opus'));
        return { body: opus, unitEnds: null, unitBytes: 1 };
    }
  };

  const get = (format: OutputFormat, seconds: number): Rendered => {
    const key = format.codec === 'mp3' ? `${format.name}:${frameCount(loadMp3(format), seconds)}` : `${format.name}:${clamp(seconds)}`;
    let r = cache.get(key);
    if (r) return r;
    r = build(format, seconds);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(key, r);
    return r;
  };

  return {
    render: (format, seconds) => get(format, seconds).body,

    actualSeconds(format, seconds) {
      if (format.codec === 'mp3') {
        const src = loadMp3(format);
        return frameCount(src, seconds) * src.frameSeconds;
      }
      if (format.codec === 'opus') return 1;
      return clamp(seconds);
    },

    chunks(format, seconds, chunkSeconds) {
      const r = get(format, seconds);
      const out: Buffer[] = [];
      if (r.unitEnds) {
        const src = loadMp3(format);
        const perChunk = Math.max(1, Math.round(chunkSeconds / src.frameSeconds));
        let start = 0;
        for (let i = perChunk - 1; i < r.unitEnds.length + perChunk - 1; i += perChunk) {
          const end = r.unitEnds[Math.min(i, r.unitEnds.length - 1)]!;
          if (end > start) out.push(r.body.subarray(start, end));
          start = end;
        }
        return out;
      }
      const bytesPerSecond = format.codec === 'opus' ? r.body.length : format.sampleRate * r.unitBytes;
      const size = Math.max(r.unitBytes, Math.round((bytesPerSecond * chunkSeconds) / r.unitBytes) * r.unitBytes);
      // WAV: the header travels with the first chunk so that a reader can start at once.
      let start = 0;
      let first = format.codec === 'wav' ? 44 : 0;
      while (start < r.body.length) {
        const end = Math.min(r.body.length, start + size + first);
        out.push(r.body.subarray(start, end));
        start = end;
        first = 0;
      }
      return out;
    },
  };
}
