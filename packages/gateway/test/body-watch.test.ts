// StalledBodies (http/body.ts): the one timer that finds invoke bodies which stopped arriving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { StalledBodies, type BodyReader } from '../src/http/body.ts';

function reader(name: string): BodyReader & { name: string; fake: { complete: boolean; destroyed: boolean; socket: { bytesRead: number } } } {
  const fake = { complete: false, destroyed: false, socket: { bytesRead: 0 } };
  return { name, fake, req: fake as unknown as IncomingMessage, bodyBytes: -1, bodySince: 0, sweepPrev: null, sweepNext: null };
}

test('StalledBodies reports only readers whose socket read nothing for the timeout; removal in any order', async () => {
  const stalled: string[] = [];
  const watch = new StalledBodies<ReturnType<typeof reader>>(100, (r) => stalled.push(r.name));
  const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(reader) as ReturnType<typeof reader>[];
  for (const r of [a!, b!, c!, d!, e!]) watch.add(r);
  watch.delete(c!); // middle
  watch.delete(e!); // head (last added)
  watch.delete(e!); // again: no effect
  b!.fake.complete = true; // finished: dropped at the next check
  const moving = setInterval(() => (d!.fake.socket.bytesRead += 10), 20);
  await new Promise((r) => setTimeout(r, 400));
  clearInterval(moving);
  assert.deepEqual(stalled, ['a']);
  // d stops moving: reported in turn.
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(stalled, ['a', 'd']);
  assert.equal(a!.sweepNext, null);
  assert.equal(a!.sweepPrev, null);
});
