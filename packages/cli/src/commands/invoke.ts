// `portico invoke SERVICE ACTION`: one call through the gateway (SPEC §5). JSON answers are
// pretty-printed; audio, video and streams go to -o FILE, or to stdout when it is not a terminal.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { CONNECTION, JSON_OPTION, oneOf, str, strs, type Command } from '../lib/command.ts';
import { CliError, UsageError } from '../lib/errors.ts';
import { PROXY, api, connection, ensureOk, send, seg } from '../lib/http.ts';
import { pairs, readJsonArg } from '../lib/input.ts';
import { humanBytes, out, printJson } from '../lib/output.ts';

function isJsonType(ct: string | null): boolean {
  return ct !== null && /^application\/([\w.+-]*\+)?json\b/i.test(ct.split(';')[0]!.trim());
}

function isTextType(ct: string | null): boolean {
  return ct !== null && /^text\//i.test(ct);
}

/** Writes a response body to a file or stdout without holding it in memory; returns the byte count. */
async function writeBody(res: Response, target: string): Promise<number> {
  if (!res.body) return 0;
  let bytes = 0;
  const counted = Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>);
  counted.on('data', (c: Buffer) => (bytes += c.length));
  if (target === '-') {
    const stdout = new Writable({
      write(chunk, _enc, cb) {
        process.stdout.write(chunk, cb);
      },
    });
    await pipeline(counted, stdout);
    return bytes;
  }
  try {
    await pipeline(counted, createWriteStream(target));
  } catch (err) {
    await rm(target, { force: true });
    const e = err as NodeJS.ErrnoException;
    throw new CliError(e.code && e.path ? `cannot write ${target}: ${e.code}` : `the response was cut off while writing ${target} (${e.message})`);
  }
  return bytes;
}

export const invokeCommand: Command = {
  name: 'invoke',
  summary: 'Call one action of a service through the gateway.',
  args: ['SERVICE', 'ACTION'],
  description: [
    'JSON answers are pretty-printed on stdout. Binary and streamed answers (audio, video) are',
    'written to -o FILE, or to stdout when stdout is not a terminal. Acts for the organization of',
    'the API key; with the platform admin token, name the organization with --org.',
  ].join('\n'),
  options: {
    path: { type: 'string', multiple: true, value: 'NAME=VALUE', help: 'path parameter (repeatable), e.g. voice_id=JBFqnCBsd6RMkjVDRZzb' },
    query: { type: 'string', multiple: true, value: 'NAME=VALUE', help: 'query parameter (repeatable), e.g. output_format=mp3_44100_128' },
    body: { type: 'string', value: '@FILE|JSON', help: 'request body: @file.json, @- for stdin, or inline JSON' },
    source: { type: 'string', value: 'tenant|platform', help: 'use only this credential source (credential_source)' },
    output: { type: 'string', short: 'o', value: 'FILE', help: 'write the answer to FILE (- for stdout)' },
    org: { type: 'string', value: 'ORG', help: 'act for this organization (platform admin token only)' },
    'idempotency-key': { type: 'string', value: 'KEY', help: 'send Idempotency-Key: a repeat replays the first answer' },
    verbose: { type: 'boolean', short: 'v', help: 'print status, request id and credential source on stderr' },
    ...CONNECTION,
    key: { type: 'string', value: 'TOKEN', help: 'API key (default $PORTICO_API_KEY; else the admin token sources, with --org)' },
    ...JSON_OPTION,
  },
  examples: [
    'portico invoke elevenlabs list-voices',
    `portico invoke elevenlabs text-to-speech --path voice_id=JBFqnCBsd6RMkjVDRZzb --body '{"text":"Hello"}' -o hello.mp3`,
    'portico invoke heygen generate-video --body @video.json --source tenant',
    'portico invoke heygen video-status --path video_id=abc123 --json',
  ],
  async run(p) {
    const cmd = 'invoke';
    const service = p.args.SERVICE!;
    const action = p.args.ACTION!;
    const payload: Record<string, unknown> = {};
    const pathParams = pairs(strs(p, 'path'), 'path', cmd);
    const query = pairs(strs(p, 'query'), 'query', cmd);
    if (Object.keys(pathParams).length) payload.path_params = pathParams;
    if (Object.keys(query).length) payload.query = query;
    const rawBody = str(p, 'body');
    if (rawBody !== undefined) payload.body = await readJsonArg(rawBody, '--body', cmd);
    const source = oneOf(p, 'source', ['tenant', 'platform'] as const, cmd);
    if (source) payload.credential_source = source;
    const output = str(p, 'output');
    if (output === '') throw new UsageError('-o needs a file name', cmd);

    const conn = connection(p, 'api', cmd);
    const org = str(p, 'org');
    const base = `${PROXY}/${seg(service)}/${seg(action)}`;

    // Audio on a terminal is useless: refuse before paying for the call when discovery says so.
    const toTerminal = output === undefined && process.stdout.isTTY;
    if (toTerminal) {
      const ep = await api<{ response_mode?: string; content_type?: string }>(conn, 'GET', `${PROXY}/services/${seg(service)}/endpoints/${seg(action)}`, {
        actAs: org,
      }).catch(() => null);
      if (ep && ep.response_mode && ep.response_mode !== 'json') {
        throw new UsageError(`${service} ${action} answers ${ep.content_type ?? ep.response_mode}: write it with -o FILE or redirect stdout`, cmd);
      }
    }

    const headers: Record<string, string> = {};
    const idem = str(p, 'idempotency-key');
    if (idem !== undefined) headers['idempotency-key'] = idem;
    const res = await ensureOk(await send(conn, 'POST', base, { body: payload, headers, actAs: org }));
    const ct = res.headers.get('content-type');
    const meta = {
      status: res.status,
      content_type: ct,
      request_id: res.headers.get('x-request-id'),
      credential_source: res.headers.get('x-credential-source'),
    };
    if (p.values.verbose) {
      process.stderr.write(`HTTP ${meta.status} ${ct ?? ''} · request ${meta.request_id ?? '-'} · credential ${meta.credential_source ?? '-'}\n`);
    }

    if (output === undefined && isJsonType(ct)) {
      const text = await res.text();
      try {
        printJson(JSON.parse(text));
      } catch {
        out(text);
      }
      return;
    }
    if (output === undefined && isTextType(ct) && process.stdout.isTTY) {
      out(await res.text());
      return;
    }
    if (output === undefined && process.stdout.isTTY) {
      await res.body?.cancel();
      throw new CliError(`the answer is ${ct ?? 'binary'}: write it with -o FILE or redirect stdout`);
    }
    const target = output ?? '-';
    const bytes = await writeBody(res, target);
    if (target === '-') return;
    if (p.values.json) printJson({ ...meta, file: target, bytes });
    else out(`Wrote ${humanBytes(bytes)} (${ct ?? 'unknown type'}) to ${target}.`);
  },
};
