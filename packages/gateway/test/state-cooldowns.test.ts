// Key-pool cool-downs shared through a bus: one message per key and cool-down, none for one that
// is already over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BusCooldowns } from '../src/state/cooldowns.ts';
import type { Bus } from '../src/state/bus.ts';

test('cool-downs publish once per key and lasting cool-down, never for Retry-After: 0', () => {
  const sent: unknown[] = [];
  const bus = { publish: (m: unknown) => void sent.push(m) } as unknown as Bus;
  const c = new BusCooldowns(bus);
  c.coolDown('k1', 0);
  assert.equal(c.isCoolingDown('k1'), false);
  assert.equal(sent.length, 0);
  c.coolDown('k1', 60_000);
  c.coolDown('k1', 60_000); // the next request in flight got the same 429
  assert.equal(c.isCoolingDown('k1'), true);
  assert.equal(sent.length, 1);
  c.coolDown('k1', 600_000); // a longer one is news
  assert.equal(sent.length, 2);
  c.coolDown('k2', 60_000);
  assert.equal(sent.length, 3);
  c.clear('k1');
  assert.equal(c.isCoolingDown('k1'), false);
  c.coolDown('k1', 60_000);
  assert.equal(sent.length, 5, 'clear and a new cool-down are both published');
});
