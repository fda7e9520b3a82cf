// Uncompressed audio made in code: the same "beep, pause" pattern as the MP3 fixtures, as
// S16LE PCM, WAV, G.711 µ-law and A-law.

const TONE_HZ = 440;
const TONE_S = 0.4;
const FADE_IN_S = 0.02;
const FADE_OUT_S = 0.03;
const LEVEL = 0.3 * 32767;

const periods = new Map<number, Int16Array>();

/** One second of samples at `rate`: 0.4 s of 440 Hz with soft edges, then silence. */
export function tonePeriod(rate: number): Int16Array {
  let p = periods.get(rate);
  if (p) return p;
  p = new Int16Array(rate);
  const toneSamples = Math.round(TONE_S * rate);
  for (let i = 0; i < toneSamples; i++) {
    const t = i / rate;
    const env = Math.min(1, t / FADE_IN_S, (TONE_S - t) / FADE_OUT_S);
    p[i] = Math.round(LEVEL * env * Math.sin(2 * Math.PI * TONE_HZ * t));
  }
  periods.set(rate, p);
  return p;
}

/** `samples` samples of the pattern, signed 16-bit little-endian mono, no header. */
export function pcm16(rate: number, samples: number): Buffer {
  const period = tonePeriod(rate);
  const out = Buffer.allocUnsafe(samples * 2);
  for (let i = 0; i < samples; i++) out.writeInt16LE(period[i % rate]!, i * 2);
  return out;
}

/** The 44-byte RIFF/WAVE header for `dataBytes` of 16-bit mono PCM. */
export function wavHeader(rate: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28); // byte rate
  h.writeUInt16LE(2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

// G.711 encoders after the reference g711.c (Sun Microsystems, public domain).
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function segment(value: number, table: number[]): number {
  let seg = 0;
  while (seg < 8 && value > table[seg]!) seg++;
  return seg;
}

export function linearToUlaw(sample: number): number {
  let v = sample >> 2;
  let mask = 0xff;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  }
  if (v > 8159) v = 8159;
  v += 0x84 >> 2;
  const seg = segment(v, SEG_UEND);
  if (seg >= 8) return 0x7f ^ mask;
  return (((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask) & 0xff;
}

export function linearToAlaw(sample: number): number {
  let v = sample >> 3;
  let mask = 0xd5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  const seg = segment(v, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  const aval = (seg << 4) | (seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f);
  return (aval ^ mask) & 0xff;
}

/** `samples` bytes of 8-bit G.711 (µ-law or A-law) at `rate`. */
export function g711(rate: number, samples: number, law: 'ulaw' | 'alaw'): Buffer {
  const period = tonePeriod(rate);
  const encode = law === 'ulaw' ? linearToUlaw : linearToAlaw;
  const out = Buffer.allocUnsafe(samples);
  for (let i = 0; i < samples; i++) out[i] = encode(period[i % rate]!);
  return out;
}
