import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../src/logger.ts';

test('secrets are redacted from log lines', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _e, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const log = createLogger('info', sink);
  log.info(
    { req: { headers: { authorization: 'Bearer ptk_x_SECRET1', 'xi-api-key': 'SECRET2', 'x-api-key': 'SECRET3', cookie: 'SECRET4', accept: 'kept' } } },
    'r',
  );
  log.info({ headers: { 'x-api-key': 'SECRET5' } }, 'h');
  log.info({ secret: 'SECRET6', credential: { key: 'SECRET7' }, admin_token: 'SECRET8' }, 'f');
  await new Promise((r) => setImmediate(r));
  const all = lines.join('');
  for (let i = 1; i <= 8; i++) assert.ok(!all.includes(`SECRET${i}`), `SECRET${i} leaked: ${all}`);
  assert.ok(all.includes('kept'));
  assert.ok(all.includes('[redacted]'));
});
