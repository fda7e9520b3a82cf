// Refreshes docs/screenshots/*.png: runs the panel's end-to-end test (real gateway, sandbox
// upstreams, headless Chromium) with its screenshots kept in docs/screenshots.
//   npm run screenshots -w packages/admin-ui      (or: node packages/admin-ui/scripts/screenshots.ts)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const e2e = fileURLToPath(new URL('../test/e2e.test.ts', import.meta.url));
const out = fileURLToPath(new URL('../../../docs/screenshots', import.meta.url));
const r = spawnSync(process.execPath, ['--test', '--test-timeout=300000', e2e], {
  stdio: 'inherit',
  env: { ...process.env, PORTICO_SCREENSHOTS_DIR: out },
});
if (r.status === 0) console.log(`screenshots written to ${out}`);
process.exit(r.status ?? 1);
