// Reading a JSON request body on the raw invoke path, with the same rules Fastify applies to
// every other route (server.ts): a size limit, JSON only, an empty body counts as none, and
// prototype poisoning refused.
import type { IncomingMessage } from 'node:http';
import sjson from 'secure-json-parse';
import { GatewayError, invalidRequest } from '../errors.ts';
import { Sweeper, type Swept } from './sweep.ts';

const PARSE = { protoAction: 'error', constructorAction: 'error' } as const;

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | undefined): string | undefined {
  if (contentType === undefined || contentType === 'application/json') return contentType;
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** '' is no body; anything else must be JSON. */
function parse(text: string): unknown {
  if (text === '') return undefined;
  try {
    return sjson.parse(text, undefined, PARSE);
  } catch {
    throw invalidRequest('Request body is not valid JSON.');
  }
}

/** Whether the request has a body at all (RFC 9112 §6.3: Transfer-Encoding or a non-zero Content-Length). */
function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/**
 * The parsed JSON body, or undefined for none; at once when the whole body is already here, else
 * a promise. Throws or rejects with a GatewayError (400/413).
 *
 * "Already here": node:http hands a request over from the parser's headers callback, then pushes
 * a body that came in the same packet, and marks the request complete only later. So a caller
 * that lets one microtask pass first (see `bodyArrived`) usually finds the whole body in the
 * stream's buffer: all of Content-Length (the parser never hands over more). It is taken at once,
 * with no 'readable' events to wait for; anything else is read as it arrives.
 */
export function readJsonBody(req: IncomingMessage, limit: number): unknown {
  const type = mediaType(req.headers['content-type']);
  if (type !== 'application/json') {
    if (type === undefined && !hasBody(req)) return undefined;
    throw invalidRequest('Unsupported Content-Type; send application/json.');
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new GatewayError('payload_too_large');
  if (!req.readableFlowing && (req.complete || (declared > 0 && req.readableLength === declared))) return takeBuffered(req, limit);
  return readArriving(req, limit);
}

/**
 * Resolves one microtask on, once node:http has pushed the part of the body that came with the
 * headers (for a caller still inside the request callback, which runs before the parser reads on).
 */
export function bodyArrived(): Promise<void> {
  return ARRIVED;
}
const ARRIVED = Promise.resolve();

/** The body, whole in the stream's buffer: taken at once rather than through the stream's events. */
function takeBuffered(req: IncomingMessage, limit: number): unknown {
  const all = req.read() as Buffer | null;
  if (all !== null && all.length > limit) throw new GatewayError('payload_too_large');
  return parse(all === null ? '' : all.toString('utf8'));
}

function readArriving(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let first: Buffer | null = null;
    let rest: Buffer[] | null = null;
    let size = 0;
    // Paused mode: each 'readable' takes what has arrived, and the body is whole once the parser
    // has seen its end (`complete`), without waiting for the stream's 'end'.
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = req.read() as Buffer | null) !== null) {
        size += chunk.length;
        if (size > limit) {
          cleanup();
          reject(new GatewayError('payload_too_large'));
          return;
        }
        if (first === null) first = chunk;
        else (rest ??= [first]).push(chunk);
      }
      if (!req.complete) return;
      cleanup();
      const text = rest ? Buffer.concat(rest).toString('utf8') : first ? first.toString('utf8') : '';
      try {
        resolve(parse(text));
      } catch (err) {
        reject(err as Error);
      }
    };
    // Closed before its end: the client went away mid-body, and nobody is left to answer. (node:http
    // emits 'error' on a request only when it has listeners, so 'close' alone is enough.)
    const onClose = (): void => {
      cleanup();
      reject(invalidRequest('Request body was not received in full.'));
    };
    const cleanup = (): void => {
      req.off('readable', onReadable);
      req.off('close', onClose);
    };
    req.on('readable', onReadable);
    req.on('close', onClose);
  });
}

/** A request whose body is being read, with where it stood when last seen moving. */
export interface BodyReader extends Swept {
  readonly req: IncomingMessage;
  /** Socket bytes read when last seen to move (-1: not looked at yet), and when. */
  bodyBytes: number;
  bodySince: number;
}

/**
 * Requests whose body is still arriving, checked a few times per timeout for a client that has
 * stopped sending (its socket has read nothing new for `timeoutMs`), with one timer for all
 * (see Sweeper).
 */
export class StalledBodies<T extends BodyReader> {
  private readonly sweeper: Sweeper<T>;

  constructor(timeoutMs: number, onStall: (r: T) => void) {
    this.sweeper = new Sweeper<T>(Math.min(1000, Math.max(25, Math.floor(timeoutMs / 4))), (r, now) => {
      const { req } = r;
      if (req.complete || req.destroyed) return true;
      const bytes = req.socket?.bytesRead ?? 0;
      if (bytes !== r.bodyBytes) {
        r.bodyBytes = bytes;
        r.bodySince = now;
        return false;
      }
      if (now - r.bodySince < timeoutMs) return false;
      onStall(r);
      return true;
    });
  }

  add(r: T): void {
    r.bodyBytes = -1;
    this.sweeper.add(r);
  }

  /** Idempotent. */
  delete(r: T): void {
    this.sweeper.delete(r);
  }
}
