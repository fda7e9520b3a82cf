// What each cell sends: one upstream request per scenario, and how each kind of target
// expresses it (raw upstream path for the direct run and the plain proxies, the invoke API for
// Portico, Portkey's custom-host headers for the peer).
import type { RequestShape } from './loadgen.ts';

export type ScenarioId = 'json' | 'tts' | 'bin5mb' | 'stream' | 'err429';

export interface Scenario {
  id: ScenarioId;
  label: string;
  /** Portico action (catalog endpoint slug). */
  action: string;
  method: 'GET' | 'POST';
  upstreamPath: string;
  pathParams?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
  expectStatus: number;
}

export const BENCH_KEY = 'sandbox_bench_key';
const VOICE = '21m00Tcm4TlvDq8ikWAM';
const TEXT = 'The quick brown fox jumps over the lazy dog while the benchmark measures every proxy in turn.';

export const SCENARIOS: Scenario[] = [
  { id: 'json', label: 'small JSON GET (list-voices, 2 KiB)', action: 'list-voices', method: 'GET', upstreamPath: '/v1/voices', expectStatus: 200 },
  {
    id: 'tts',
    label: 'POST text-to-speech → 64 KiB audio',
    action: 'text-to-speech',
    method: 'POST',
    upstreamPath: `/v1/text-to-speech/${VOICE}`,
    pathParams: { voice_id: VOICE },
    body: { text: TEXT, model_id: 'eleven_multilingual_v2' },
    expectStatus: 200,
  },
  {
    id: 'bin5mb',
    label: '5 MiB binary GET (get-history-audio)',
    action: 'get-history-audio',
    method: 'GET',
    upstreamPath: '/v1/history/bench-5mb/audio',
    pathParams: { history_item_id: 'bench-5mb' },
    expectStatus: 200,
  },
  {
    id: 'stream',
    label: 'streamed TTS, 16 × 4 KiB chunks, no pacing',
    action: 'text-to-speech-stream',
    method: 'POST',
    upstreamPath: `/v1/text-to-speech/${VOICE}/stream`,
    pathParams: { voice_id: VOICE },
    body: { text: TEXT, model_id: 'eleven_multilingual_v2' },
    headers: { 'x-sandbox-pace-ms': '0' },
    expectStatus: 200,
  },
  {
    id: 'err429',
    label: 'error path: upstream 429 passed through (list-voices)',
    action: 'list-voices',
    method: 'GET',
    upstreamPath: '/v1/voices',
    headers: { 'x-sandbox-fault': '429' },
    expectStatus: 429,
  },
];

export function scenario(id: ScenarioId): Scenario {
  return SCENARIOS.find((s) => s.id === id)!;
}

/** The TTFB cell: the stream endpoint paced (4 chunks, 2 ms apart) so the body outlasts the first byte. */
export const TTFB_SCENARIO: Scenario = {
  ...scenario('stream'),
  label: 'streamed TTS, 4 × 4 KiB chunks 2 ms apart',
  headers: { 'x-sandbox-pace-ms': '2', 'x-bench-chunks': '4' },
};

export const BULK_BYTES = 1024 * 1024 * 1024;
export const BULK_SCENARIO: Scenario = {
  id: 'bin5mb',
  label: '1 GiB binary GET (get-history-audio)',
  action: 'get-history-audio',
  method: 'GET',
  upstreamPath: `/v1/history/bytes-${BULK_BYTES}/audio`,
  pathParams: { history_item_id: `bytes-${BULK_BYTES}` },
  expectStatus: 200,
};

export type Dialect =
  { kind: 'raw'; base: string; injectKey: boolean } | { kind: 'portico'; base: string; apiKey: string } | { kind: 'portkey'; base: string; upstream: string };

export function requestFor(d: Dialect, s: Scenario): RequestShape {
  const headers: Record<string, string> = { ...s.headers };
  if (d.kind === 'portico') {
    const invoke: Record<string, unknown> = {};
    if (s.pathParams) invoke.path_params = s.pathParams;
    if (s.body !== undefined) invoke.body = s.body;
    headers.authorization = `Bearer ${d.apiKey}`;
    headers['content-type'] = 'application/json';
    return { url: `${d.base}/api/v1/external-proxy/elevenlabs/${s.action}`, method: 'POST', headers, body: JSON.stringify(invoke) };
  }
  if (d.kind === 'raw' && d.injectKey) headers['xi-api-key'] = BENCH_KEY;
  if (d.kind === 'portkey') {
    headers['x-portkey-provider'] = 'openai';
    headers['x-portkey-custom-host'] = `${d.upstream}/v1`;
    headers.authorization = `Bearer ${BENCH_KEY}`;
  }
  let body: string | undefined;
  if (s.body !== undefined) {
    body = JSON.stringify(s.body);
    headers['content-type'] = 'application/json';
  }
  return { url: d.base + s.upstreamPath, method: s.method, headers, ...(body !== undefined ? { body } : {}) };
}
