// MPEG audio frame headers: enough to cut a fixture into whole frames so that repeating them
// gives a file of any length that every player accepts (CATALOG §3 point 8).

export interface FrameHeader {
  /** 1, 2 or 2.5 (MPEG-2.5). */
  version: number;
  layer: number;
  bitrateKbps: number;
  sampleRate: number;
  padding: boolean;
  channels: number;
  samplesPerFrame: number;
  /** Bytes from this header to the next one. */
  length: number;
}

// Layer III bitrate tables (kbit/s), index 0 = free format, 15 = bad.
const BITRATES_V1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2_L3 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES: Record<string, number[]> = {
  '1': [44100, 48000, 32000],
  '2': [22050, 24000, 16000],
  '2.5': [11025, 12000, 8000],
};

/** Parses the 4-byte Layer III header at `offset`, or null when there is none. */
export function parseFrameHeader(buf: Buffer, offset: number): FrameHeader | null {
  if (offset + 4 > buf.length) return null;
  const b1 = buf[offset + 1]!;
  const b2 = buf[offset + 2]!;
  const b3 = buf[offset + 3]!;
  // 11-bit sync word.
  if (buf[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const versionBits = (b1 >> 3) & 0x03;
  const layerBits = (b1 >> 1) & 0x03;
  if (versionBits === 1 || layerBits !== 1) return null; // reserved version, or not Layer III
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 0x03;
  if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  const bitrateKbps = (version === 1 ? BITRATES_V1_L3 : BITRATES_V2_L3)[bitrateIndex]!;
  const sampleRate = SAMPLE_RATES[String(version)]![rateIndex]!;
  const padding = ((b2 >> 1) & 1) === 1;
  const samplesPerFrame = version === 1 ? 1152 : 576;
  const length = Math.floor(((samplesPerFrame / 8) * bitrateKbps * 1000) / sampleRate) + (padding ? 1 : 0);
  return {
    version,
    layer: 3,
    bitrateKbps,
    sampleRate,
    padding,
    channels: b3 >> 6 === 3 ? 1 : 2,
    samplesPerFrame,
    length,
  };
}

/** Splits a tag-free MP3 into its frames; throws unless the frames chain to the last byte. */
export function splitFrames(buf: Buffer): { header: FrameHeader; frames: Buffer[] } {
  const frames: Buffer[] = [];
  let first: FrameHeader | null = null;
  let offset = 0;
  while (offset < buf.length) {
    const h = parseFrameHeader(buf, offset);
    if (!h || offset + h.length > buf.length) throw new Error(`no whole MPEG frame at byte ${offset}`);
    first ??= h;
    frames.push(buf.subarray(offset, offset + h.length));
    offset += h.length;
  }
  if (!first) throw new Error('empty MP3');
  return { header: first, frames };
}
