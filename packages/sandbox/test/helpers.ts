// Test helpers: a sandbox per test file, raw HTTP requests that record chunk timing, and an MP3
// frame walker written independently of src/audio/mp3.ts (so that the tests check the fixture
// handling instead of repeating it).
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { startSandbox, type Sandbox, type SandboxOptions } from '../src/index.ts';

export const EL_KEY = { 'xi-api-key': 'sandbox_test' };
export const HG_KEY = { 'x-api-key': 'sandbox_test' };

export interface Started {
  sandbox: Sandbox;
  el: string;
  hg: string;
}

export async function start(opts: SandboxOptions = {}): Promise<Started> {
  const sandbox = await startSandbox({ paceMs: 0, ...opts });
  const url = (slug: string): string => sandbox.services.find((s) => s.slug === slug)!.url;
  return { sandbox, el: url('elevenlabs'), hg: url('heygen') };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** ms after the request was sent at which each chunk arrived, and its size. */
  chunks: { at: number; size: number }[];
  json<T = any>(): T;
}

export interface Req {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer | object;
  signal?: AbortSignal;
}

/** One HTTP request on a fresh connection; rejects on socket errors (reset, premature close). */
export function call(url: string, req: Req = {}): Promise<Reply> {
  const body = req.body === undefined ? undefined : typeof req.body === 'string' || Buffer.isBuffer(req.body) ? req.body : JSON.stringify(req.body);
  const headers: Record<string, string> = { ...req.headers };
  if (body !== undefined && typeof req.body === 'object' && !Buffer.isBuffer(req.body)) headers['content-type'] ??= 'application/json';
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const r = httpRequest(url, { method: req.method ?? (body === undefined ? 'GET' : 'POST'), headers, agent: false, signal: req.signal }, (res) => {
      const parts: Buffer[] = [];
      const chunks: { at: number; size: number }[] = [];
      res.on('data', (c: Buffer) => {
        parts.push(c);
        chunks.push({ at: performance.now() - t0, size: c.length });
      });
      res.on('error', reject);
      res.on('aborted', () => reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
      res.on('end', () => {
        const all = Buffer.concat(parts);
        resolve({ status: res.statusCode!, headers: res.headers, body: all, chunks, json: () => JSON.parse(all.toString('utf8')) });
      });
    });
    r.on('error', reject);
    r.end(body);
  });
}

export interface Mp3Frame {
  offset: number;
  length: number;
  bitrate: number;
  sampleRate: number;
  samples: number;
}

const BR1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BR2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SR: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** Walks every MPEG-1/2/2.5 Layer III frame; throws if a header is invalid or the chain breaks. */
export function mp3Frames(buf: Buffer): Mp3Frame[] {
  const frames: Mp3Frame[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 4 > buf.length) throw new Error(`truncated header at ${off}`);
    const h = buf.readUInt32BE(off);
    if (h >>> 21 !== 0x7ff) throw new Error(`no sync word at ${off}`);
    const ver = (h >>> 19) & 3;
    const layer = (h >>> 17) & 3;
    const bri = (h >>> 12) & 15;
    const sri = (h >>> 10) & 3;
    const pad = (h >>> 9) & 1;
    if (ver === 1) throw new Error(`reserved version at ${off}`);
    if (layer !== 1) throw new Error(`not layer III at ${off}`);
    if (bri === 0 || bri === 15) throw new Error(`bad bitrate index at ${off}`);
    if (sri === 3) throw new Error(`bad sample rate index at ${off}`);
    const bitrate = (ver === 3 ? BR1 : BR2)[bri]! * 1000;
    const sampleRate = SR[ver]![sri]!;
    const samples = ver === 3 ? 1152 : 576;
    const length = Math.floor(((samples / 8) * bitrate) / sampleRate) + pad;
    if (off + length > buf.length) throw new Error(`frame at ${off} runs past the end`);
    frames.push({ offset: off, length, bitrate, sampleRate, samples });
    off += length;
  }
  return frames;
}

export function mp3Seconds(frames: Mp3Frame[]): number {
  return frames.reduce((s, f) => s + f.samples / f.sampleRate, 0);
}
