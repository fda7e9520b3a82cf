// Reading secrets and bodies: secrets come from piped stdin or a hidden prompt, never argv.
import { readFileSync } from 'node:fs';
import { CliError, UsageError } from './errors.ts';

export async function readStdin(limit = 64 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > limit) throw new CliError(`standard input is larger than ${limit} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks on the terminal without echoing what is typed. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let value = '';
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish();
          resolve(value);
          return;
        }
        if (ch === '\u0003') {
          finish();
          reject(new CliError('cancelled', 130));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Asks a yes/no question on the terminal; false unless the answer starts with y. */
export function confirm(question: string): Promise<boolean> {
  const stdin = process.stdin;
  return new Promise((resolve) => {
    process.stderr.write(`${question} [y/N] `);
    stdin.setEncoding('utf8');
    stdin.resume();
    stdin.once('data', (d: string) => {
      stdin.pause();
      resolve(/^\s*y/i.test(d));
    });
  });
}

/**
 * A credential secret: all of piped stdin (one trailing newline removed), or a hidden prompt on a
 * terminal. A JSON object is sent as the credential payload; anything else as the `key` string.
 */
export async function readSecret(what: string): Promise<string | Record<string, unknown>> {
  let raw: string;
  if (process.stdin.isTTY) {
    raw = await promptHidden(`${what} (input hidden): `);
  } else {
    raw = await readStdin(1024 * 1024);
  }
  const value = raw.replace(/\r?\n$/, '').trim();
  if (value === '')
    throw new CliError('no secret given: pipe it on standard input (e.g. `printenv ELEVENLABS_API_KEY | portico credentials add …`) or type it at the prompt');
  if (value.startsWith('{')) {
    try {
      const parsed = JSON.parse(value) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      /* not JSON: a plain key that happens to start with `{` */
    }
  }
  return value;
}

/** `--body`: `@file.json`, `@-` (stdin) or inline JSON. */
export async function readJsonArg(raw: string, option: string, cmd: string): Promise<unknown> {
  let text: string;
  let from: string;
  if (raw === '@-') {
    text = await readStdin();
    from = 'standard input';
  } else if (raw.startsWith('@')) {
    const file = raw.slice(1);
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    from = file;
  } else {
    text = raw;
    from = option;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = `${from} is not valid JSON (${(err as Error).message.split('\n')[0]})`;
    if (from === option) throw new UsageError(msg, cmd);
    throw new CliError(msg);
  }
}

/** `k=v` pairs (`--path voice_id=abc`) into an object; the value may contain `=`. */
export function pairs(list: string[], option: string, cmd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) throw new UsageError(`--${option} takes NAME=VALUE (got '${item}')`, cmd);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}
