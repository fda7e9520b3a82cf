// Asynchronous jobs: HeyGen videos (pending → processing → completed, with a self-served MP4),
// translations, ElevenLabs dubbing (dubbing → dubbed, 425 before).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { call, EL_KEY, HG_KEY, start, type Started } from './helpers.ts';
import { JobStore, phaseOf } from '../src/jobs.ts';

// Long enough that each phase outlasts a slow request on a busy machine.
// Long enough that each phase outlasts a slow request on a busy machine; the tests poll and check
// the order of the states rather than the state at fixed instants.
const JOB_MS = 1500;
let s: Started;
before(async () => {
  s = await start({ videoJobMs: JOB_MS });
});
after(() => s.sandbox.close());

/** Polls `read` every 40 ms until a terminal state; returns the distinct states seen, in order. */
async function phases(read: () => Promise<string>, terminal: string[]): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + JOB_MS * 6;
  for (;;) {
    const state = await read();
    if (seen.at(-1) !== state) seen.push(state);
    if (terminal.includes(state)) return seen;
    if (Date.now() > deadline) assert.fail(`no terminal state, saw ${seen.join(' → ')}`);
    await sleep(40);
  }
}

/** `seen` follows `order` (states may be skipped only at the start, under load). */
function assertOrder(seen: string[], order: string[]): void {
  const idx = seen.map((x) => order.indexOf(x));
  assert.ok(
    idx.every((i, k) => i >= 0 && (k === 0 || i > idx[k - 1]!)),
    seen.join(' → '),
  );
  assert.equal(seen.at(-1), order.at(-1));
}

const v3Body = { type: 'avatar', avatar_id: 'Abigail_expressive_2024112501', script: 'Hello!', voice_id: '1bd001e7e50f421d891986aad5158bc8', title: 'Test' };
const legacyBody = {
  video_inputs: [
    {
      character: { type: 'avatar', avatar_id: 'Kristin_public_3_20240108', avatar_style: 'normal' },
      voice: { type: 'text', voice_id: '2f72ee82b83d4b00af16c4771d611752', input_text: 'Welcome!' },
    },
  ],
  callback_id: 'order-1',
};

async function statuses(id: string): Promise<{ v3: any; v2: any; v1: any }> {
  const [a, b, c] = await Promise.all([
    call(`${s.hg}/v3/videos/${id}`, { headers: HG_KEY }),
    call(`${s.hg}/v2/videos/${id}`, { headers: HG_KEY }),
    call(`${s.hg}/v1/video_status.get?video_id=${id}`, { headers: HG_KEY }),
  ]);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.equal(c.status, 200);
  return { v3: a.json(), v2: b.json(), v1: c.json() };
}

describe('job clock', () => {
  test('pending for the first 20 %, processing until the end, then completed or failed', () => {
    const store = new JobStore<null>(2);
    const ok = store.create('a', 1000, null, false, 0);
    const bad = store.create('b', 1000, null, true, 0);
    assert.equal(phaseOf(ok, 0), 'pending');
    assert.equal(phaseOf(ok, 199), 'pending');
    assert.equal(phaseOf(ok, 200), 'processing');
    assert.equal(phaseOf(ok, 999), 'processing');
    assert.equal(phaseOf(ok, 1000), 'completed');
    assert.equal(phaseOf(bad, 999), 'processing');
    assert.equal(phaseOf(bad, 1000), 'failed');
    store.create('c', 1000, null);
    assert.equal(store.get('a'), undefined, 'the oldest job is dropped past the limit');
  });
});

describe('HeyGen video jobs', { concurrency: true }, () => {
  const creators: [string, string, object, (j: any) => string][] = [
    ['v3 generate-video', '/v3/videos', v3Body, (j) => j.data.video_id],
    ['generate-video-v2 (legacy)', '/v2/video/generate', legacyBody, (j) => j.data.video_id],
    ['generate-from-template', '/v2/template/b4d1a2c3e5f6478899aabbccddeeff00/generate', { variables: {}, title: 'T' }, (j) => j.data.video_id],
    ['/v2/videos', '/v2/videos', { avatar_id: 'josh_lite3_20230714', audio_url: 'https://example.com/a.mp3' }, (j) => j.data.video_id],
  ];
  for (const [label, path, body, idOf] of creators) {
    test(`${label}: pending → processing → completed, visible through v3, /v2/videos and v1`, async () => {
      const created = await call(`${s.hg}${path}`, { headers: HG_KEY, body });
      assert.equal(created.status, 200, created.body.toString());
      const id = idOf(created.json());
      // The state at creation is computed at age 0: always pending.
      if (path === '/v3/videos') assert.equal(created.json().data.status, 'pending');
      assert.match(id, /^[0-9a-f]{32}$/);

      const first = await statuses(id);
      assert.equal(first.v1.code, 100);
      assert.equal(first.v3.data.video_url, null);
      const seen = await phases(async () => (await statuses(id)).v3.data.status, ['completed', 'failed']);
      // Every state is usually seen; on a starved machine a poll may skip one (phaseOf's own test
      // below pins the boundaries).
      assertOrder(seen, ['pending', 'processing', 'completed']);

      const st = await statuses(id);
      assert.equal(st.v3.data.status, 'completed');
      assert.equal(st.v2.data.status, 'completed');
      assert.equal(st.v1.data.status, 'completed');
      assert.equal(typeof st.v3.data.duration, 'number');
      assert.ok(st.v3.data.completed_at >= st.v3.data.created_at);

      // The video URL is served by the sandbox itself, without a key, and is an MP4.
      for (const url of [st.v3.data.video_url, st.v1.data.video_url]) {
        assert.ok(url.startsWith(`${s.hg}/media/${id}.mp4`), url);
        const mp4 = await call(url);
        assert.equal(mp4.status, 200);
        assert.equal(mp4.headers['content-type'], 'video/mp4');
        assert.equal(mp4.body.toString('ascii', 4, 8), 'ftyp');
      }
      const thumb = await call(st.v3.data.thumbnail_url);
      assert.equal(thumb.headers['content-type'], 'image/jpeg');
      assert.equal(thumb.body[0], 0xff);
    });
  }

  test('MP4 answers byte ranges (players seek)', async () => {
    const r = await call(`${s.hg}/media/x.mp4`, { headers: { Range: 'bytes=4-7' } });
    assert.equal(r.status, 206);
    assert.equal(r.body.toString('ascii'), 'ftyp');
    assert.match(String(r.headers['content-range']), /^bytes 4-7\/\d+$/);
  });

  test('listing: v3 page envelope and the legacy v1 list', async () => {
    const v3 = (await call(`${s.hg}/v3/videos?limit=2`, { headers: HG_KEY })).json();
    assert.ok(Array.isArray(v3.data));
    assert.ok(v3.data.length <= 2);
    assert.equal(typeof v3.has_more, 'boolean');
    assert.ok('next_token' in v3);
    const v1 = (await call(`${s.hg}/v1/video.list`, { headers: HG_KEY })).json();
    assert.equal(v1.code, 100);
    assert.ok(v1.data.videos.some((v: any) => v.video_id === '4e3b2f5c6d7a48e9b0c1d2e3f4a5b6c7'));
  });

  test('unknown video id → each generation’s 404', async () => {
    const v3 = await call(`${s.hg}/v3/videos/nope`, { headers: HG_KEY });
    assert.equal(v3.status, 404);
    assert.deepEqual(v3.json(), { error: { code: 'not_found', message: 'Video not found.', param: null, doc_url: null } });
    const v1 = await call(`${s.hg}/v1/video_status.get?video_id=nope`, { headers: HG_KEY });
    assert.equal(v1.status, 404);
    assert.equal(typeof v1.json().code, 'number');
  });

  test('v3 generate-video validation → 400 invalid_parameter in the v3 envelope', async () => {
    for (const [body, param] of [
      [{}, 'type'],
      [{ type: 'avatar' }, 'avatar_id'],
      [{ type: 'avatar', avatar_id: 'a', script: 'Hi' }, 'voice_id'],
      [{ type: 'avatar', avatar_id: 'a' }, 'script'],
    ] as const) {
      const r = await call(`${s.hg}/v3/videos`, { headers: HG_KEY, body });
      assert.equal(r.status, 400);
      const e = r.json().error;
      assert.equal(e.code, 'invalid_parameter');
      assert.equal(e.param, param);
    }
    const legacy = await call(`${s.hg}/v2/video/generate`, { headers: HG_KEY, body: {} });
    assert.equal(legacy.status, 400);
    assert.equal(legacy.json().error.code, 'invalid_parameter');
    assert.equal(legacy.json().data, null);
  });

  test('X-Sandbox-Job: fail ends in failed, with the error inside a 200', async () => {
    const created = await call(`${s.hg}/v3/videos`, { headers: { ...HG_KEY, 'X-Sandbox-Job': 'fail' }, body: v3Body });
    const id = created.json().data.video_id;
    const seen = await phases(async () => (await statuses(id)).v3.data.status, ['completed', 'failed']);
    assert.equal(seen.at(-1), 'failed');
    const st = await statuses(id);
    assert.equal(st.v3.data.status, 'failed');
    assert.equal(typeof st.v3.data.failure_message, 'string');
    assert.equal(st.v1.data.status, 'failed');
    assert.equal(st.v1.data.error.code, 40119);
  });

  test('translations: legacy pending → running → success; v3 → completed', async () => {
    const v2 = await call(`${s.hg}/v2/video_translate`, { headers: HG_KEY, body: { video_url: 'https://example.com/v.mp4', output_language: 'Spanish' } });
    const id = v2.json().data.video_translate_id;
    const v3 = await call(`${s.hg}/v3/video-translations`, {
      headers: HG_KEY,
      body: { video: { type: 'url', url: 'https://example.com/v.mp4' }, output_languages: ['French', 'German'] },
    });
    const ids: string[] = v3.json().data.video_translation_ids;
    assert.equal(ids.length, 2);
    const legacy = await phases(async () => (await call(`${s.hg}/v2/video_translate/${id}`, { headers: HG_KEY })).json().data.status, ['success', 'failed']);
    assertOrder(legacy, ['pending', 'running', 'success']);
    const done = (await call(`${s.hg}/v2/video_translate/${id}`, { headers: HG_KEY })).json().data;
    assert.ok(done.url.includes('/media/'));
    const current = await phases(
      async () => (await call(`${s.hg}/v3/video-translations/${ids[0]}`, { headers: HG_KEY })).json().data.status,
      ['completed', 'failed'],
    );
    assertOrder(current, ['pending', 'running', 'completed']);
    const t = (await call(`${s.hg}/v3/video-translations/${ids[0]}`, { headers: HG_KEY })).json().data;
    assert.equal(t.output_language, 'French');
  });
});

describe('ElevenLabs dubbing', () => {
  test('dubbing → dubbed; the file answers 425 until then', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.alloc(64_000)], { type: 'video/mp4' }), 'talk.mp4');
    form.append('target_lang', 'es');
    const r = await fetch(`${s.el}/v1/dubbing`, { method: 'POST', headers: EL_KEY, body: form });
    assert.equal(r.status, 200);
    const { dubbing_id, expected_duration_sec } = await r.json();
    assert.equal(typeof expected_duration_sec, 'number');

    const early = await call(`${s.el}/v1/dubbing/${dubbing_id}/audio/es`, { headers: EL_KEY });
    assert.equal(early.status, 425);
    assert.equal(early.json().detail.code, 'dubbing_not_ready');

    const seen = await phases(async () => (await call(`${s.el}/v1/dubbing/${dubbing_id}`, { headers: EL_KEY })).json().status, ['dubbed', 'failed']);
    assert.deepEqual(seen, ['dubbing', 'dubbed']);
    const file = await call(`${s.el}/v1/dubbing/${dubbing_id}/audio/es`, { headers: EL_KEY });
    assert.equal(file.status, 200);
    assert.equal(file.headers['content-type'], 'video/mp4');
    assert.equal(file.body.toString('ascii', 4, 8), 'ftyp');
    const srt = await call(`${s.el}/v1/dubbing/${dubbing_id}/transcript/es?format_type=srt`, { headers: EL_KEY });
    assert.match(srt.body.toString(), /^1\n00:00:00,000 --> /);
    const list = (await call(`${s.el}/v1/dubbing`, { headers: EL_KEY })).json();
    assert.ok(list.dubs.some((d: any) => d.dubbing_id === dubbing_id));
  });

  test('unknown dubbing id → 404 in the ElevenLabs shape', async () => {
    const r = await call(`${s.el}/v1/dubbing/nope`, { headers: EL_KEY });
    assert.equal(r.status, 404);
    assert.equal(r.json().detail.status, 'dubbing_not_found');
  });
});
