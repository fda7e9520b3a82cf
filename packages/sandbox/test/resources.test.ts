// JSON resources in the providers' shapes: ElevenLabs voices, models, user, history (and its
// ZIP download); HeyGen v1/v2/v3 envelopes, pagination, webhooks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, EL_KEY, HG_KEY, mp3Frames, start, type Started } from './helpers.ts';

let s: Started;
before(async () => {
  s = await start();
});
after(() => s.sandbox.close());

const el = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${s.el}${path}`, { ...init, headers: { ...EL_KEY, ...init.headers } });
const hg = (path: string, init: Parameters<typeof call>[1] = {}) => call(`${s.hg}${path}`, { ...init, headers: { ...HG_KEY, ...init.headers } });

describe('ElevenLabs resources', () => {
  test('voices: list, one voice with settings, unknown → voice_not_found', async () => {
    const list = (await el('/v1/voices')).json();
    const ids = list.voices.map((v: any) => v.voice_id);
    for (const id of ['JBFqnCBsd6RMkjVDRZzb', '21m00Tcm4TlvDq8ikWAM', 'EXAVITQu4vr4xnSDxMaL', 'CwhRBWXzGAHq8TQ4Fs17']) assert.ok(ids.includes(id));
    for (const v of list.voices)
      for (const k of ['voice_id', 'name', 'category', 'labels', 'available_for_tiers', 'high_quality_base_model_ids']) assert.ok(k in v, k);
    const one = (await el('/v1/voices/JBFqnCBsd6RMkjVDRZzb?with_settings=true')).json();
    assert.equal(one.name, 'George');
    assert.equal(one.settings.similarity_boost, 0.75);
    const missing = await el('/v1/voices/foo');
    assert.equal(missing.status, 404);
    assert.equal(missing.json().detail.status, 'voice_not_found');
    assert.match(missing.json().detail.message, /voice_id foo was not found/);
  });

  test('clone, edit settings, search, delete', async () => {
    const form = new FormData();
    form.append('name', 'My clone');
    form.append('files', new Blob([Buffer.alloc(2000)], { type: 'audio/mpeg' }), 'sample.mp3');
    const added = await fetch(`${s.el}/v1/voices/add`, { method: 'POST', headers: EL_KEY, body: form });
    const { voice_id, requires_verification } = await added.json();
    assert.equal(requires_verification, false);
    assert.equal((await el(`/v1/voices/${voice_id}/settings/edit`, { body: { stability: 0.2 } })).json().status, 'ok');
    assert.equal((await el(`/v1/voices/${voice_id}/settings`)).json().stability, 0.2);
    const found = (await el('/v2/voices?search=clone&page_size=5')).json();
    assert.deepEqual(
      found.voices.map((v: any) => v.voice_id),
      [voice_id],
    );
    assert.equal(found.has_more, false);
    assert.equal(found.total_count, 1);
    assert.deepEqual((await el(`/v1/voices/${voice_id}`, { method: 'DELETE' })).json(), { status: 'ok' });
    assert.equal((await el(`/v1/voices/${voice_id}`)).status, 404);
  });

  test('/v2/voices pages with next_page_token', async () => {
    const p1 = (await el('/v2/voices?page_size=3')).json();
    assert.equal(p1.voices.length, 3);
    assert.equal(p1.has_more, true);
    const p2 = (await el(`/v2/voices?page_size=3&next_page_token=${p1.next_page_token}`)).json();
    assert.ok(p2.voices.length >= 1);
    assert.equal(p2.has_more, false);
  });

  test('models: a top-level array; subscription has the fields the official SDK requires', async () => {
    const models = (await el('/v1/models')).json();
    assert.ok(Array.isArray(models));
    assert.ok(models.some((m: any) => m.model_id === 'eleven_multilingual_v2' && m.concurrency_group === 'standard'));
    const sub = (await el('/v1/user/subscription')).json();
    for (const k of [
      'tier',
      'character_count',
      'character_limit',
      'max_credit_limit_extension',
      'professional_voice_slots_used_in_workspace',
      'open_invoices',
      'next_character_count_reset_unix',
    ])
      assert.ok(k in sub, k);
    assert.deepEqual(sub.current_overage, { amount: '0', currency: 'usd' });
    const user = (await el('/v1/user')).json();
    assert.equal(user.subscription.tier, sub.tier);
  });

  test('history: list newest first, item, download one (MP3) and several (ZIP)', async () => {
    const a = await el('/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb', { body: { text: 'first' } });
    const b = await el('/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb', { body: { text: 'second' } });
    const list = (await el('/v1/history?page_size=2')).json();
    assert.deepEqual(
      list.history.map((h: any) => h.text),
      ['second', 'first'],
    );
    assert.equal(list.has_more, true);
    assert.equal(list.last_history_item_id, a.headers['history-item-id']);
    const one = await el('/v1/history/download', { body: { history_item_ids: [a.headers['history-item-id']] } });
    assert.equal(one.headers['content-type'], 'audio/mpeg');
    mp3Frames(one.body);
    const zip = await el('/v1/history/download', { body: { history_item_ids: [a.headers['history-item-id'], b.headers['history-item-id']] } });
    assert.equal(zip.headers['content-type'], 'application/zip');
    assert.equal(zip.body.readUInt32LE(0), 0x04034b50);
    const eocd = zip.body.subarray(zip.body.length - 22);
    assert.equal(eocd.readUInt32LE(0), 0x06054b50);
    assert.equal(eocd.readUInt16LE(10), 2);
    // The first entry is stored uncompressed: its data is a whole MP3.
    const nameLen = zip.body.readUInt16LE(26);
    const size = zip.body.readUInt32LE(18);
    mp3Frames(zip.body.subarray(30 + nameLen, 30 + nameLen + size));
    assert.equal((await el('/v1/history/nope')).json().detail.status, 'history_item_not_found');
  });

  test('character stats need start_unix and end_unix', async () => {
    assert.equal((await el('/v1/usage/character-stats')).status, 422);
    const r = (await el('/v1/usage/character-stats?start_unix=1735689600000&end_unix=1735948800000')).json();
    assert.equal(r.time.length, 4);
    assert.equal(r.usage.All.length, 4);
  });
});

describe('HeyGen resources', () => {
  test('v3 lists: {data: [...], has_more, next_token}, paged by limit and token', async () => {
    const looks = (await hg('/v3/avatars/looks')).json();
    assert.deepEqual(Object.keys(looks).sort(), ['data', 'has_more', 'next_token']);
    assert.ok(looks.data.some((l: any) => l.id === 'Abigail_expressive_2024112501'));
    const p1 = (await hg('/v3/avatars/looks?limit=2')).json();
    assert.equal(p1.data.length, 2);
    assert.equal(p1.has_more, true);
    const p2 = (await hg(`/v3/avatars/looks?limit=2&token=${p1.next_token}`)).json();
    assert.equal(p2.data.length, 1);
    assert.equal(p2.next_token, null);
    const voices = (await hg('/v3/voices')).json();
    assert.ok(voices.data.some((v: any) => v.voice_id === '1bd001e7e50f421d891986aad5158bc8'));
  });

  test('v2 legacy envelope {error: null, data}', async () => {
    const avatars = (await hg('/v2/avatars')).json();
    assert.equal(avatars.error, null);
    assert.ok(avatars.data.avatars.some((a: any) => a.avatar_id === 'Kristin_public_3_20240108'));
    assert.ok(Array.isArray(avatars.data.talking_photos));
    const quota = (await hg('/v2/user/remaining_quota')).json();
    assert.equal(typeof quota.data.remaining_quota, 'number');
    assert.equal(typeof quota.data.details.api, 'number');
  });

  test('v1 envelope {code: 100, data, message}', async () => {
    const me = (await hg('/v1/user/me')).json();
    assert.equal(me.code, 100);
    assert.equal(me.data.email, 'sandbox@example.com');
    const events = (await hg('/v1/webhook/webhook.list')).json();
    assert.ok(events.data.includes('avatar_video.success'));
  });

  test('webhook endpoints: v1 add/list/delete, v3 create/rotate', async () => {
    const added = (await hg('/v1/webhook/endpoint.add', { body: { url: 'https://example.com/h', events: ['avatar_video.success'] } })).json();
    assert.equal(added.code, 100);
    const id = added.data.endpoint_id;
    assert.ok((await hg('/v1/webhook/endpoint.list')).json().data.some((e: any) => e.endpoint_id === id));
    assert.equal((await hg(`/v1/webhook/endpoint.delete?endpoint_id=${id}`, { method: 'DELETE' })).json().code, 100);
    const bad = await hg('/v1/webhook/endpoint.add', { body: {} });
    assert.equal(bad.status, 400);
    assert.equal(typeof bad.json().code, 'number');
    const v3 = (await hg('/v3/webhooks/endpoints', { body: { url: 'https://example.com/v3' } })).json().data;
    const rotated = (await hg(`/v3/webhooks/endpoints/${v3.endpoint_id}/rotate-secret`, { method: 'POST' })).json().data;
    assert.notEqual(rotated.secret, v3.secret);
  });

  test('v3 asset upload (multipart field file) and speech', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.alloc(1234)], { type: 'image/png' }), 'p.png');
    const up = await fetch(`${s.hg}/v3/assets`, { method: 'POST', headers: HG_KEY, body: form });
    const a = (await up.json()).data;
    assert.equal(a.size_bytes, 1234);
    assert.equal(a.mime_type, 'image/png');
    const speech = (await hg('/v3/voices/speech', { body: { text: 'Hello there', voice_id: '1bd001e7e50f421d891986aad5158bc8' } })).json().data;
    assert.equal(speech.word_timestamps.length, 2);
    const audio = await call(speech.audio_url);
    assert.equal(audio.headers['content-type'], 'audio/mpeg');
    mp3Frames(audio.body);
  });
});
