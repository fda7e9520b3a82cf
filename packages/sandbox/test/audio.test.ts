// Real audio bytes (SPEC §10, CATALOG §1.4, §3 point 8): valid MP3 frames, PCM/WAV sizes that
// match the rate, streams in several chunks, ElevenLabs' response headers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, EL_KEY, mp3Frames, mp3Seconds, start, type Started } from './helpers.ts';

let s: Started;
before(async () => {
  s = await start();
});
after(() => s.sandbox.close());

const VOICE = 'JBFqnCBsd6RMkjVDRZzb';
const LONG = 'The quick brown fox jumps over the lazy dog, and then it keeps on running for a while.';

const tts = (text: unknown, query = '', path = '', headers: Record<string, string> = {}) =>
  call(`${s.el}/v1/text-to-speech/${VOICE}${path}${query}`, { headers: { ...EL_KEY, ...headers }, body: text === undefined ? {} : { text } });

describe('MP3', () => {
  test('default format: audio/mpeg, 44.1 kHz 128 kbit/s frames chained to the last byte', async () => {
    const r = await tts('Hello from Portico.');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'audio/mpeg');
    assert.equal(Number(r.headers['content-length']), r.body.length);
    const frames = mp3Frames(r.body);
    assert.ok(frames.length >= 4, 'at least a few frames');
    for (const f of frames) {
      assert.equal(f.sampleRate, 44100);
      assert.equal(f.bitrate, 128000);
    }
  });

  test('duration grows with the text (about 60 ms per character)', async () => {
    const short = mp3Seconds(mp3Frames((await tts('Hi there.')).body));
    const long = mp3Seconds(mp3Frames((await tts(LONG)).body));
    assert.ok(long > short * 3, `${long} s vs ${short} s`);
    assert.ok(Math.abs(long - LONG.length * 0.06) < 0.1, `${long} s for ${LONG.length} characters`);
    const tiny = mp3Seconds(mp3Frames((await tts('a')).body));
    assert.ok(tiny >= 0.2, 'even one character gives a few frames');
  });

  for (const [format, rate, kbps] of [
    ['mp3_22050_32', 22050, 32],
    ['mp3_24000_48', 24000, 48],
    ['mp3_44100_64', 44100, 64],
    ['mp3_44100_192', 44100, 192],
  ] as const) {
    test(`${format}: frames at ${rate} Hz, ${kbps} kbit/s`, async () => {
      const r = await tts(LONG, `?output_format=${format}`);
      assert.equal(r.headers['content-type'], 'audio/mpeg');
      const frames = mp3Frames(r.body);
      assert.ok(frames.every((f) => f.sampleRate === rate && f.bitrate === kbps * 1000));
      assert.ok(Math.abs(mp3Seconds(frames) - LONG.length * 0.06) < 0.1);
    });
  }

  test('ElevenLabs headers: request-id, character-cost, history-item-id, x-region, concurrency', async () => {
    const text = 'Héllo wörld';
    const r = await tts(text);
    assert.equal(r.headers['character-cost'], String([...text].length));
    assert.match(String(r.headers['request-id']), /^[0-9a-f]{20}$/);
    assert.match(String(r.headers['history-item-id']), /^[A-Za-z0-9]{20}$/);
    assert.equal(r.headers['x-region'], 'us-central1');
    assert.ok(Number(r.headers['current-concurrent-requests']) >= 1);
    assert.ok(Number(r.headers['maximum-concurrent-requests']) >= 1);
    // The generation lands in the history, with its audio.
    const item = await call(`${s.el}/v1/history/${r.headers['history-item-id']}`, { headers: EL_KEY });
    assert.equal(item.json().text, text);
    const audio = await call(`${s.el}/v1/history/${r.headers['history-item-id']}/audio`, { headers: EL_KEY });
    assert.deepEqual(audio.body, r.body);
  });
});

describe('PCM and WAV', () => {
  for (const rate of [8000, 16000, 22050, 24000, 44100]) {
    test(`pcm_${rate}: raw S16LE, 2 bytes per sample at ${rate} Hz`, async () => {
      const r = await tts(LONG, `?output_format=pcm_${rate}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'audio/pcm');
      assert.equal(r.body.length % 2, 0);
      const seconds = r.body.length / 2 / rate;
      assert.ok(Math.abs(seconds - LONG.length * 0.06) < 0.01, `${seconds} s`);
      // Not silence: a tone is in there.
      let peak = 0;
      for (let i = 0; i < r.body.length; i += 2) peak = Math.max(peak, Math.abs(r.body.readInt16LE(i)));
      assert.ok(peak > 1000);
    });
  }

  test('wav_16000: 44-byte RIFF header that matches the data', async () => {
    const r = await tts(LONG, '?output_format=wav_16000');
    assert.equal(r.headers['content-type'], 'audio/wav');
    const b = r.body;
    assert.equal(b.toString('ascii', 0, 4), 'RIFF');
    assert.equal(b.readUInt32LE(4), b.length - 8);
    assert.equal(b.toString('ascii', 8, 16), 'WAVEfmt ');
    assert.equal(b.readUInt16LE(20), 1); // PCM
    assert.equal(b.readUInt16LE(22), 1); // mono
    assert.equal(b.readUInt32LE(24), 16000);
    assert.equal(b.readUInt16LE(34), 16);
    assert.equal(b.toString('ascii', 36, 40), 'data');
    assert.equal(b.readUInt32LE(40), b.length - 44);
    assert.ok(Math.abs((b.length - 44) / 2 / 16000 - LONG.length * 0.06) < 0.01);
  });

  test('ulaw_8000: one byte per sample', async () => {
    const r = await tts(LONG, '?output_format=ulaw_8000');
    assert.equal(r.headers['content-type'], 'audio/basic');
    assert.ok(Math.abs(r.body.length / 8000 - LONG.length * 0.06) < 0.01);
  });
});

describe('validation', () => {
  test('a body without text → 422 validation list', async () => {
    const r = await tts(undefined);
    assert.equal(r.status, 422);
    assert.deepEqual(r.json(), { detail: [{ type: 'missing', loc: ['body', 'text'], msg: 'Field required', input: null }] });
  });

  test('text of the wrong type → 422 string_type', async () => {
    const r = await tts(42);
    assert.equal(r.status, 422);
    assert.equal(r.json().detail[0].type, 'string_type');
  });

  test('invalid JSON → 422 json_invalid', async () => {
    const r = await call(`${s.el}/v1/text-to-speech/${VOICE}`, { headers: { ...EL_KEY, 'content-type': 'application/json' }, body: '{"text": ' });
    assert.equal(r.status, 422);
    assert.equal(r.json().detail[0].type, 'json_invalid');
  });

  test('unknown output_format → 422 enum on the query', async () => {
    const r = await tts('hi', '?output_format=flac_44100');
    assert.equal(r.status, 422);
    assert.deepEqual(r.json().detail[0].loc, ['query', 'output_format']);
  });
});

describe('streaming', () => {
  test('…/stream: chunked MP3 in several paced chunks; the first before the last is sent', async () => {
    const r = await tts(LONG, '', '/stream', { 'X-Sandbox-Pace-Ms': '20' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['transfer-encoding'], 'chunked');
    assert.equal(r.headers['content-length'], undefined);
    assert.ok(r.chunks.length >= 5, `${r.chunks.length} chunks`);
    const first = r.chunks[0]!.at;
    const last = r.chunks.at(-1)!.at;
    assert.ok(last - first >= 100, `stream spread over ${last - first} ms`);
    assert.ok(Math.abs(mp3Seconds(mp3Frames(r.body)) - LONG.length * 0.06) < 0.1);
  });

  test('X-Sandbox-Pace-Ms: 0 sends everything at once', async () => {
    const t0 = performance.now();
    const r = await tts(LONG, '', '/stream', { 'X-Sandbox-Pace-Ms': '0' });
    // Paced at 20 ms, these ~48 chunks take at least ~950 ms.
    assert.ok(performance.now() - t0 < 900);
    mp3Frames(r.body);
  });

  test('stream/with-timestamps: newline-delimited JSON with audio and alignment', async () => {
    const text = 'Hello there, this sentence is long enough for several lines.';
    const r = await tts(text, '', '/stream/with-timestamps', { 'X-Sandbox-Pace-Ms': '5' });
    assert.equal(r.status, 200);
    const lines = r.body
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.ok(lines.length >= 3);
    const audio = Buffer.concat(lines.map((l) => Buffer.from(l.audio_base64, 'base64')));
    assert.ok(Math.abs(mp3Seconds(mp3Frames(audio)) - text.length * 0.06) < 0.1);
    const chars = lines.flatMap((l) => l.alignment?.characters ?? []);
    assert.equal(chars.join(''), text);
    const ends = lines.flatMap((l) => l.alignment?.character_end_times_seconds ?? []);
    assert.ok(ends.every((t: number, i: number) => i === 0 || t > ends[i - 1]));
  });

  test('with-timestamps: base64 audio plus character alignment', async () => {
    const r = await tts('Hello', '', '/with-timestamps');
    const j = r.json();
    assert.deepEqual(j.alignment.characters, ['H', 'e', 'l', 'l', 'o']);
    assert.deepEqual(j.alignment.character_start_times_seconds, [0, 0.06, 0.12, 0.18, 0.24]);
    mp3Frames(Buffer.from(j.audio_base64, 'base64'));
  });

  test('pcm stream: whole samples in every chunk', async () => {
    const r = await tts(LONG, '?output_format=pcm_16000', '/stream');
    assert.equal(r.headers['content-type'], 'audio/pcm');
    assert.equal(r.body.length, Math.round(LONG.length * 0.06 * 16000) * 2);
  });
});

describe('other audio endpoints', () => {
  test('text-to-dialogue: cost is the sum of the inputs', async () => {
    const inputs = [
      { text: 'Hi Sarah.', voice_id: 'JBFqnCBsd6RMkjVDRZzb' },
      { text: 'Hi George!', voice_id: 'EXAVITQu4vr4xnSDxMaL' },
    ];
    const r = await call(`${s.el}/v1/text-to-dialogue`, { headers: EL_KEY, body: { inputs } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['character-cost'], String('Hi Sarah. Hi George!'.length));
    mp3Frames(r.body);
    const bad = await call(`${s.el}/v1/text-to-dialogue`, { headers: EL_KEY, body: { inputs: [{ text: 'x' }] } });
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.json().detail[0].loc, ['body', 'inputs', 0, 'voice_id']);
  });

  test('sound-generation honours duration_seconds', async () => {
    const r = await call(`${s.el}/v1/sound-generation`, { headers: EL_KEY, body: { text: 'rain on a tin roof', duration_seconds: 3 } });
    assert.equal(r.status, 200);
    assert.ok(Math.abs(mp3Seconds(mp3Frames(r.body)) - 3) < 0.05);
  });

  test('speech-to-speech: multipart with an audio file → MP3; without → 422', async () => {
    const form = new FormData();
    form.append('audio', new Blob([Buffer.alloc(32_000)], { type: 'audio/mpeg' }), 'in.mp3');
    form.append('model_id', 'eleven_multilingual_sts_v2');
    const r = await fetch(`${s.el}/v1/speech-to-speech/${VOICE}`, { method: 'POST', headers: EL_KEY, body: form });
    assert.equal(r.status, 200);
    const frames = mp3Frames(Buffer.from(await r.arrayBuffer()));
    assert.ok(Math.abs(mp3Seconds(frames) - 2) < 0.05);
    const empty = new FormData();
    empty.append('model_id', 'x');
    const bad = await fetch(`${s.el}/v1/speech-to-speech/${VOICE}`, { method: 'POST', headers: EL_KEY, body: empty });
    assert.equal(bad.status, 422);
    assert.deepEqual((await bad.json()).detail[0].loc, ['body', 'audio']);
  });

  test('speech-to-text: transcript, stored by id; webhook=true → 202', async () => {
    const form = new FormData();
    form.append('model_id', 'scribe_v1');
    form.append('file', new Blob([Buffer.alloc(1000)], { type: 'audio/mpeg' }), 'a.mp3');
    const r = await fetch(`${s.el}/v1/speech-to-text`, { method: 'POST', headers: EL_KEY, body: form });
    const j = await r.json();
    assert.equal(r.status, 200);
    assert.equal(j.language_code, 'en');
    assert.ok(j.words.length > 0);
    const stored = await call(`${s.el}/v1/speech-to-text/transcripts/${j.transcription_id}`, { headers: EL_KEY });
    assert.equal(stored.json().text, j.text);
    form.append('webhook', 'true');
    const later = await fetch(`${s.el}/v1/speech-to-text`, { method: 'POST', headers: EL_KEY, body: form });
    assert.equal(later.status, 202);
  });
});
