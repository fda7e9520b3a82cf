// Serves the built admin panel (packages/admin-ui/dist) at /admin with node:fs streams:
// fingerprinted assets under /admin/assets/ cached for a year, index.html never cached, and every
// other path under /admin answered with index.html so the panel's client-side routes survive a
// reload. Without a build, /admin answers a short page saying how to make one.
import { createReadStream, statSync, type Stats } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.ts';

export function defaultDistDir(): string {
  return fileURLToPath(new URL('../../../admin-ui/dist', import.meta.url));
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

// The panel loads only its own files and talks only to this origin.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HTML_HEADERS = {
  'content-security-policy': CSP,
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Portico admin panel not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.5">
<h1>The admin panel has not been built</h1>
<p>The gateway serves the panel from <code>packages/admin-ui/dist</code>, which does not exist yet.
From the repository root, run:</p>
<pre>npm run build</pre>
<p>then reload this page. (The admin API at <code>/api/v1/admin</code> works without it.)</p>
</body></html>
`;

function statFile(path: string): Stats | null {
  try {
    const st = statSync(path);
    return st.isFile() ? st : null;
  } catch {
    return null;
  }
}

function sendFile(req: FastifyRequest, reply: FastifyReply, path: string, st: Stats, cacheControl: string): FastifyReply {
  const type = TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
  const etag = `W/"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  void reply.header('content-type', type).header('cache-control', cacheControl).header('etag', etag).header('last-modified', st.mtime.toUTCString());
  void reply.header('x-content-type-options', 'nosniff');
  if (type.startsWith('text/html')) void reply.headers(HTML_HEADERS);
  const inm = req.headers['if-none-match'];
  if (typeof inm === 'string' && inm.split(',').some((t) => t.trim() === etag)) return reply.code(304).send();
  void reply.header('content-length', st.size);
  if (req.method === 'HEAD') return reply.send();
  return reply.send(createReadStream(path));
}

/** The request path below /admin, decoded; null when it cannot name a file safely. */
function relativePath(url: string): string | null {
  const path = url.split('?')[0]!.slice('/admin'.length);
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  return decoded;
}

export function registerPanelStatic(app: FastifyInstance, distDir: string = defaultDistDir()): void {
  const root = resolve(distDir);

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const index = resolve(root, 'index.html');
    const indexStat = statFile(index);
    if (!indexStat) {
      return reply
        .code(503)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .headers({ ...HTML_HEADERS, 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'" })
        .send(NOT_BUILT);
    }
    const rel = relativePath(req.url);
    if (rel === null) throw new GatewayError('not_found');
    if (rel !== '' && rel !== '/') {
      const full = resolve(root, '.' + rel);
      if (full.startsWith(root + sep)) {
        const st = statFile(full);
        if (st) {
          const immutable = full.startsWith(resolve(root, 'assets') + sep);
          return sendFile(req, reply, full, st, immutable ? 'public, max-age=31536000, immutable' : full === index ? 'no-cache' : 'public, max-age=3600');
        }
      }
      // A missing asset is a 404, not the page (a stale fingerprint must not load HTML as JS).
      const last = rel.split('/').pop() ?? '';
      if (rel.startsWith('/assets/') || /\.[A-Za-z0-9]{1,12}$/.test(last)) throw new GatewayError('not_found');
    }
    // Client-side route: the page itself.
    return sendFile(req, reply, index, indexStat, 'no-cache');
  };

  app.get('/admin', handler);
  app.get('/admin/*', handler);
}
