// The .cpuprofile summary used by `npm run bench -- --profile`: self time per function from
// sample gaps, module grouping, and the measured-phase window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moduleOf, summarizeProfile, formatProfile, type CpuProfile } from '../lib/cpuprofile.ts';

const ROOT = '/repo';

function frame(id: number, functionName: string, url: string, lineNumber = 0): CpuProfile['nodes'][number] {
  return { id, callFrame: { functionName, scriptId: id, url, lineNumber, columnNumber: 0 } };
}

// root → (idle), relay (Portico), stream (undici), (garbage collector)
const profile: CpuProfile = {
  nodes: [
    { ...frame(1, '(root)', ''), children: [2, 3, 4, 5] },
    frame(2, '(idle)', ''),
    frame(3, 'relayHeaders', 'file:///repo/packages/gateway/src/proxy/relay-response.ts', 13),
    frame(4, 'stream', 'file:///repo/node_modules/undici/lib/api/api-stream.js', 99),
    frame(5, '(garbage collector)', ''),
  ],
  startTime: 1_000_000,
  endTime: 1_000_700,
  // sample i is charged the gap to the next sample (the last one the average gap)
  samples: [3, 3, 4, 2, 5, 3, 4],
  timeDeltas: [0, 100, 100, 100, 100, 100, 100],
};

test('self time per function comes from the gaps between samples, idle excluded from busy time', () => {
  const s = summarizeProfile(profile, ROOT);
  const byName = Object.fromEntries(s.functions.map((r) => [r.name, r]));
  assert.equal(byName.relayHeaders!.selfMs, 0.3);
  assert.equal(byName.stream!.selfMs, 0.2);
  assert.equal(byName['(garbage collector)']!.selfMs, 0.1);
  assert.equal(byName['(idle)'], undefined);
  assert.equal(s.busyMs, 0.6);
  assert.equal(s.functions[0]!.name, 'relayHeaders');
  assert.equal(s.functions[0]!.where, 'packages/gateway/src/proxy/relay-response.ts:14');
  assert.equal(s.functions[0]!.share, 0.5);
  assert.deepEqual(
    s.modules.map((m) => m.module),
    ['portico gateway/proxy', 'undici', '(garbage collector)'],
  );
});

test('a window keeps only the samples taken in it', () => {
  // samples are at 1_000_000, _100, _200, _300, _400, _500, _600; keep _300.._600
  const s = summarizeProfile(profile, ROOT, { fromUs: 1_000_300, toUs: 1_000_600 });
  const byName = Object.fromEntries(s.functions.map((r) => [r.name, r.selfMs]));
  assert.deepEqual(byName, { '(garbage collector)': 0.1, relayHeaders: 0.1, stream: 0.1 });
});

test('modules: npm packages (scoped too), Portico folders, Node internals', () => {
  assert.equal(moduleOf('node_modules/@fastify/ajv-compiler/index.js', 'f'), '@fastify/ajv-compiler');
  assert.equal(moduleOf('node_modules/fastify/lib/route.js', 'f'), 'fastify');
  assert.equal(moduleOf('packages/gateway/src/server.ts', 'f'), 'portico gateway/(root)');
  assert.equal(moduleOf('packages/gateway/src/auth/tokens.ts', 'f'), 'portico gateway/auth');
  assert.equal(moduleOf('node:internal/streams/readable', 'f'), 'node:internal');
  assert.equal(moduleOf('', '(program)'), '(program)');
});

test('the printed summary names the top functions with their share', () => {
  const text = formatProfile(summarizeProfile(profile, ROOT), { top: 2, requests: 3, windowed: true });
  assert.match(text, /relayHeaders — packages\/gateway\/src\/proxy\/relay-response\.ts:14/);
  assert.match(text, /50\.0%/);
  assert.match(text, /Self time by module:/);
});
