// Media the fakes hand out as URLs (HeyGen video_url, thumbnails, speech audio): served by the
// sandbox itself under /media/<id>.<ext>, without a key, like the providers' pre-signed URLs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sendBytes, type Ctx } from './http.ts';
import type { Route } from './router.ts';

export interface MediaFiles {
  video: Buffer;
  thumbnail: Buffer;
  gif: Buffer;
  mp3: Buffer;
  /** Length of the video fixture, reported as the rendered video's `duration`. */
  videoSeconds: number;
}

export function loadMedia(fixturesDir: string): MediaFiles {
  const read = (name: string): Buffer => readFileSync(join(fixturesDir, name));
  return {
    video: read('video.mp4'),
    thumbnail: read('thumbnail.jpg'),
    gif: read('preview.gif'),
    mp3: read('tone_44100_128.mp3'),
    videoSeconds: 2,
  };
}

/** URL of a self-served file; the fake signature only makes it look like the real thing. */
export function mediaUrl(baseUrl: string, id: string, ext: 'mp4' | 'jpg' | 'gif' | 'mp3'): string {
  const expires = Math.floor(Date.now() / 1000) + 7 * 24 * 3600;
  return `${baseUrl}/media/${encodeURIComponent(id)}.${ext}?Expires=${expires}&Signature=sandbox`;
}

const TYPES: Record<string, [keyof MediaFiles, string]> = {
  mp4: ['video', 'video/mp4'],
  jpg: ['thumbnail', 'image/jpeg'],
  jpeg: ['thumbnail', 'image/jpeg'],
  gif: ['gif', 'image/gif'],
  mp3: ['mp3', 'audio/mpeg'],
};

/** Serves one file with single-range support, so that browsers and players can seek. */
export function serveMedia(ctx: Ctx, body: Buffer, type: string): void {
  const range = ctx.req.headers.range;
  const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range) : null;
  const headers = { 'accept-ranges': 'bytes', 'cache-control': 'private, max-age=604800' };
  if (!m || (m[1] === '' && m[2] === '')) {
    sendBytes(ctx, 200, type, body, headers);
    return;
  }
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, body.length - Number(m[2]));
    end = body.length - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? body.length - 1 : Math.min(Number(m[2]), body.length - 1);
  }
  if (start > end || start >= body.length) {
    sendBytes(ctx, 416, type, Buffer.alloc(0), { 'content-range': `bytes */${body.length}` });
    return;
  }
  sendBytes(ctx, 206, type, body.subarray(start, end + 1), {
    ...headers,
    'content-range': `bytes ${start}-${end}/${body.length}`,
  });
}

export function mediaRoutes(media: MediaFiles): Route[] {
  return [
    {
      method: 'GET',
      path: '/media/{file}',
      public: true,
      handler(ctx) {
        const file = ctx.params.file!;
        const ext = file.slice(file.lastIndexOf('.') + 1).toLowerCase();
        const t = TYPES[ext];
        if (!t || file.indexOf('.') <= 0) {
          sendBytes(ctx, 404, 'text/plain', Buffer.from('Not Found'));
          return;
        }
        serveMedia(ctx, media[t[0]] as Buffer, t[1]);
      },
    },
  ];
}
