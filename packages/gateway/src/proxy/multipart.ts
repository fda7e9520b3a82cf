// Multipart invokes (SPEC §5): the invoke's own JSON travels in a first field named
// `payload`; every other field and file is streamed upstream byte for byte. Only that first
// part is read into memory; the rest flows through with back-pressure and a size limit.
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { GatewayError, invalidRequest } from '../errors.ts';

const PAYLOAD_MAX = 1024 * 1024;

export interface MultipartInvoke {
  /** Parsed `payload` field, or undefined when the first part is something else. */
  payload: unknown;
  /** The multipart body to send upstream (same boundary, without the payload part). */
  body: Readable;
  /** Upstream Content-Length when the client sent one. */
  contentLength: number | undefined;
}

export function isMultipart(contentType: string | undefined): boolean {
  // The first letter first: a JSON invoke's Content-Type is not lower-cased on every request.
  return contentType !== undefined && (contentType.charCodeAt(0) | 32) === 109 /* 'm' */ && contentType.slice(0, 19).toLowerCase() === 'multipart/form-data';
}

function boundaryOf(contentType: string): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m?.[1] ?? m?.[2];
  if (!b) throw invalidRequest('multipart/form-data needs a boundary parameter.');
  return b;
}

/** Counts bytes through; fails the stream once the upload limit is passed. */
class LimitStream extends Transform {
  private seen = 0;
  private readonly limit: number;

  constructor(limit: number, alreadySeen: number) {
    super();
    this.limit = limit;
    this.seen = alreadySeen;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) return cb(new GatewayError('payload_too_large'));
    cb(null, chunk);
  }
}

export async function openMultipart(req: IncomingMessage, uploadLimit: number): Promise<MultipartInvoke> {
  const contentType = req.headers['content-type'] ?? '';
  const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
  if (declared !== undefined && declared > uploadLimit) throw new GatewayError('payload_too_large');
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundaryOf(contentType)}`);

  // Read until the end of the first part (or a bound), without consuming more than needed.
  let head: Buffer = Buffer.alloc(0);
  let firstEnd = -1;
  let start = -1;
  let headersEnd = -1;
  for (;;) {
    if (start < 0) start = head.indexOf(delimiter);
    if (start >= 0 && headersEnd < 0) {
      const h = head.indexOf('\r\n\r\n', start);
      if (h >= 0) headersEnd = h + 4;
    }
    if (headersEnd >= 0) {
      firstEnd = head.indexOf(nextDelimiter, headersEnd);
      if (firstEnd >= 0) break;
    }
    if (head.length > PAYLOAD_MAX + 16 * 1024) break;
    const chunk: Buffer | null = await readChunk(req);
    if (chunk === null) break;
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
  }
  if (start < 0 || headersEnd < 0) throw invalidRequest('Malformed multipart/form-data body.');

  const partHeaders = head.subarray(start + delimiter.length, headersEnd).toString('latin1');
  const isPayload = /content-disposition:[^\r\n]*\bname="payload"/i.test(partHeaders);
  let payload: unknown = undefined;
  let forwardFrom = start;
  if (isPayload) {
    if (firstEnd < 0) throw invalidRequest("Multipart field 'payload' is too large or unterminated.");
    try {
      payload = JSON.parse(head.subarray(headersEnd, firstEnd).toString('utf8'));
    } catch {
      throw invalidRequest("Multipart field 'payload' must be valid JSON.");
    }
    forwardFrom = firstEnd + 2; // keep the next part's `--boundary`, drop the CRLF before it
  }
  const limiter = new LimitStream(uploadLimit, head.length);
  limiter.write(head.subarray(forwardFrom));
  req.pipe(limiter);
  req.on('error', (err) => limiter.destroy(err));
  return { payload, body: limiter, contentLength: declared !== undefined ? declared - forwardFrom : undefined };
}

function readChunk(stream: Readable): Promise<Buffer | null> {
  const chunk = stream.read() as Buffer | null;
  if (chunk !== null) return Promise.resolve(chunk);
  if (stream.readableEnded) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onReadable = () => {
      const c = stream.read() as Buffer | null;
      if (c === null) return;
      cleanup();
      resolve(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}
