// The admin panel is a static bundle that the gateway serves at /admin (packages/gateway/src/admin-panel/).
// `npm run dev -w packages/admin-ui` serves it with hot reload and forwards the API calls to a gateway
// at PORTICO_URL (default http://127.0.0.1:8080).
import { defineConfig } from 'vite';

const gateway = process.env.PORTICO_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/admin/',
  // Preact's automatic JSX runtime, without a plugin.
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No inline data: URLs or scripts: the gateway's Content-Security-Policy allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: {
      '/api': gateway,
      '/admin/session': gateway,
    },
  },
});
