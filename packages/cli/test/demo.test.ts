// `portico demo --once --fast`: sandbox + gateway + admin setup + real calls, in a temp cwd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { looksLikeMp3, runCli, tempDir } from './helpers.ts';

test('demo --once --fast writes demo-output/hello.mp3 and video.mp4 and exits 0', { timeout: 90_000 }, async () => {
  const dir = tempDir('portico-demo-test-');
  try {
    const r = await runCli(['demo', '--once', '--fast'], { cwd: dir.path, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    const mp3 = readFileSync(join(dir.path, 'demo-output', 'hello.mp3'));
    assert.ok(mp3.length > 0 && looksLikeMp3(mp3), 'hello.mp3 is an MP3');
    assert.ok(statSync(join(dir.path, 'demo-output', 'video.mp4')).size > 0, 'video.mp4 is not empty');
    // The walkthrough: counts, files, and for each call a curl and an SDK line.
    assert.match(r.stdout, /elevenlabs list-voices: \d+ voices/);
    assert.match(r.stdout, /curl -sS -X POST "\$PORTICO_URL\/api\/v1\/external-proxy\/elevenlabs\/text-to-speech"/);
    assert.match(r.stdout, /await client\.invoke\('elevenlabs', 'text-to-speech', \{ path_params: \{ voice_id: 'JBFqnCBsd6RMkjVDRZzb' \}, body: \{ text: '/);
    assert.match(r.stdout, /: completed \(/);
    // Nothing failed (dependencies' deprecation warnings may appear on stderr).
    assert.ok(!/^portico:/m.test(r.stderr), r.stderr);
  } finally {
    dir.remove();
  }
});
