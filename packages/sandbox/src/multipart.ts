// Just enough multipart/form-data parsing for the fakes to check required fields and see file
// sizes (voice clone, speech-to-text, dubbing, v3 asset upload). Not a general parser.
import type { IncomingMessage } from 'node:http';
import { readBody } from './http.ts';

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Buffer;
}

export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data/i.test(contentType)) return null;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    let start = pos + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing "--boundary--"
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const headEnd = body.indexOf('\r\n\r\n', start);
    if (headEnd < 0 || headEnd > next) break;
    const head = body.subarray(start, headEnd).toString('utf8');
    // The part's data ends before the CRLF that precedes the next delimiter.
    const dataEnd = body[next - 2] === 0x0d && body[next - 1] === 0x0a ? next - 2 : next;
    const disposition = /content-disposition:([^\r\n]*)/i.exec(head)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name !== undefined) {
      const part: Part = { name, data: body.subarray(headEnd + 4, dataEnd) };
      const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
      if (filename !== undefined) part.filename = filename;
      const type = /content-type:\s*([^\r\n]*)/i.exec(head)?.[1];
      if (type) part.contentType = type.trim();
      parts.push(part);
    }
    pos = next;
  }
  return parts;
}

/** Text value of the first field called `name`. */
export function field(parts: Part[], name: string): string | undefined {
  const p = parts.find((x) => x.name === name && x.filename === undefined);
  return p?.data.toString('utf8');
}

/** Files sent under `name` (or `name[]`, which some clients use for lists). */
export function files(parts: Part[], name: string): Part[] {
  return parts.filter((x) => (x.name === name || x.name === `${name}[]`) && x.filename !== undefined);
}

/** Reads a multipart body; null when the request is not multipart/form-data. */
export async function readForm(req: IncomingMessage): Promise<Part[] | null> {
  const boundary = boundaryOf(req.headers['content-type']);
  const body = await readBody(req);
  return boundary ? parseMultipart(body, boundary) : null;
}
