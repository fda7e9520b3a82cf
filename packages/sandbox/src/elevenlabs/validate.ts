// Request checks that ElevenLabs (FastAPI + pydantic) answers with 422 validation lists.
import { isObject, readJson, sendAnswer, type Ctx } from '../http.ts';
import { OUTPUT_FORMAT_NAMES, outputFormat, type OutputFormat } from '../audio/formats.ts';
import { readForm, type Part } from '../multipart.ts';
import { missingField, validationError, type ValidationItem } from './errors.ts';

/** The JSON body as an object, or null after answering 422 (invalid JSON, not an object). */
export async function jsonBody(ctx: Ctx): Promise<Record<string, unknown> | null> {
  const read = await readJson(ctx.req);
  if (!read.ok) {
    const item: ValidationItem =
      read.error === 'empty'
        ? missingField('body', 'body')
        : { type: 'json_invalid', loc: ['body', 0], msg: 'JSON decode error', input: {}, ctx: { error: read.error } };
    if (read.error === 'empty') item.loc = ['body'];
    sendAnswer(ctx, validationError([item]));
    return null;
  }
  if (!isObject(read.value)) {
    sendAnswer(
      ctx,
      validationError([
        { type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: read.value },
      ]),
    );
    return null;
  }
  return read.value;
}

/** A required non-empty string field; collects a 422 item when it is missing or not a string. */
export function requireString(body: Record<string, unknown>, name: string, errors: ValidationItem[], loc: (string | number)[] = ['body']): string {
  const v = body[name];
  if (v === undefined || v === null) {
    errors.push({ ...missingField('body', name), loc: [...loc, name] });
    return '';
  }
  if (typeof v !== 'string') {
    errors.push({ type: 'string_type', loc: [...loc, name], msg: 'Input should be a valid string', input: v });
    return '';
  }
  return v;
}

/** `output_format` from the query (default mp3_44100_128), or null after answering 422. */
export function formatOf(ctx: Ctx): OutputFormat | null {
  const name = ctx.query.get('output_format');
  const f = outputFormat(name);
  if (f) return f;
  const expected = OUTPUT_FORMAT_NAMES.map((n) => `'${n}'`).join(', ');
  sendAnswer(ctx, validationError([{ type: 'enum', loc: ['query', 'output_format'], msg: `Input should be ${expected}`, input: name, ctx: { expected } }]));
  return null;
}

/** The multipart parts, or null after answering 422 for a body that is not a form. */
export async function formBody(ctx: Ctx, required: string[]): Promise<Part[] | null> {
  const parts = await readForm(ctx.req);
  const present = new Set((parts ?? []).map((p) => p.name.replace(/\[\]$/, '')));
  const missing = required.filter((name) => !present.has(name));
  if (parts === null || missing.length) {
    sendAnswer(ctx, validationError((parts === null ? required : missing).map((n) => missingField('body', n))));
    return null;
  }
  return parts;
}
