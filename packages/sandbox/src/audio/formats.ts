// ElevenLabs `output_format` values (CATALOG §1.4) and the Content-Type each one answers with.

export type Codec = 'mp3' | 'pcm' | 'wav' | 'ulaw' | 'alaw' | 'opus';

export interface OutputFormat {
  name: string;
  codec: Codec;
  sampleRate: number;
  /** kbit/s for mp3/opus. */
  bitrateKbps?: number;
  contentType: string;
}

export const DEFAULT_OUTPUT_FORMAT = 'mp3_44100_128';

const PCM_RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];
const MP3 = ['22050_32', '24000_48', '44100_32', '44100_64', '44100_96', '44100_128', '44100_192'];
const OPUS_KBPS = [32, 64, 96, 128, 192];

// Only audio/mpeg and audio/pcm are observed on the real API; the others follow CATALOG §1.4's
// suggestion for the sandbox.
const CONTENT_TYPES: Record<Codec, string> = {
  mp3: 'audio/mpeg',
  pcm: 'audio/pcm',
  wav: 'audio/wav',
  ulaw: 'audio/basic',
  alaw: 'audio/x-alaw-basic',
  opus: 'audio/ogg',
};

function build(): Map<string, OutputFormat> {
  const all = new Map<string, OutputFormat>();
  const add = (name: string, codec: Codec, sampleRate: number, bitrateKbps?: number): void => {
    const f: OutputFormat = { name, codec, sampleRate, contentType: CONTENT_TYPES[codec] };
    if (bitrateKbps !== undefined) f.bitrateKbps = bitrateKbps;
    all.set(name, f);
  };
  for (const m of MP3) {
    const [rate, kbps] = m.split('_').map(Number) as [number, number];
    add(`mp3_${m}`, 'mp3', rate, kbps);
  }
  for (const r of PCM_RATES) add(`pcm_${r}`, 'pcm', r);
  for (const r of PCM_RATES) add(`wav_${r}`, 'wav', r);
  add('ulaw_8000', 'ulaw', 8000);
  add('alaw_8000', 'alaw', 8000);
  for (const k of OPUS_KBPS) add(`opus_48000_${k}`, 'opus', 48000, k);
  return all;
}

const FORMATS = build();

export const OUTPUT_FORMAT_NAMES: readonly string[] = [...FORMATS.keys()];

export function outputFormat(name: string | null | undefined): OutputFormat | null {
  return FORMATS.get(name ?? DEFAULT_OUTPUT_FORMAT) ?? null;
}
