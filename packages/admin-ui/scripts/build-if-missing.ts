// Builds the admin panel when packages/admin-ui/dist is missing, so that `npm ci && npm start`
// on a fresh clone serves /admin (proposed as the root `prestart` script). A no-op otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const panel = fileURLToPath(new URL('..', import.meta.url));
const vite = fileURLToPath(new URL('../../../node_modules/vite/bin/vite.js', import.meta.url));

if (!existsSync(fileURLToPath(new URL('../dist/index.html', import.meta.url)))) {
  if (!existsSync(vite)) {
    console.warn('admin panel not built and vite is not installed (run `npm ci`); /admin will say how to build it');
  } else {
    console.log('building the admin panel (packages/admin-ui/dist)…');
    const r = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: panel, stdio: 'inherit' });
    // A failed build must not stop the gateway from starting: /admin then explains what to do.
    if (r.status !== 0) console.warn(`admin panel build failed (exit ${r.status}); the gateway starts without it`);
  }
}
