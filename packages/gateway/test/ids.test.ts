// ULIDs (ids.ts): the layout (48-bit time, 80 random bits, Crockford base32) and strict order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ulid } from '../src/ids.ts';

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]{26}$/;

test('ulid: 26 Crockford base32 characters, the time first, strictly increasing within a millisecond and across them', () => {
  const t = Date.UTC(2026, 11, 7, 9, 0, 0);
  const ids = [ulid(t), ulid(t), ulid(t), ulid(t + 1), ulid(t + 1), ulid()];
  for (const id of ids) assert.match(id, CROCKFORD);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  // The first 10 characters are the milliseconds, most significant first.
  let ms = 0;
  for (const c of ids[0]!.slice(0, 10)) ms = ms * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(c);
  assert.equal(ms, t);
  assert.equal(ids[0]!.slice(0, 10), ids[2]!.slice(0, 10));
  assert.notEqual(ids[2]!.slice(0, 10), ids[3]!.slice(0, 10));
  assert.equal(new Set(Array.from({ length: 1000 }, () => ulid())).size, 1000);
});
