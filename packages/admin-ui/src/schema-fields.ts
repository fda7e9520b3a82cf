// The fields of a form generated from a service's `credential_schema` (a JSON Schema object),
// and the payload they produce. No JSX here, so the tests can load it directly.
import type { JsonSchema } from './types.ts';

export interface FieldSpec {
  name: string;
  label: string;
  kind: 'secret' | 'text' | 'number' | 'integer' | 'boolean' | 'enum';
  required: boolean;
  description: string | null;
  options: string[];
  schema: JsonSchema;
}

const SECRET_NAME = /key|secret|token|password|passphrase|credential/i;

function typeOf(s: JsonSchema): string | undefined {
  return Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
}

function humanize(name: string): string {
  const words = name
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .trim();
  const label = words.charAt(0).toUpperCase() + words.slice(1);
  return label.replace(/\b(api|id|url)\b/gi, (w) => w.toUpperCase());
}

/** The fields of a schema; a schema without properties gets one secret field `key` (SPEC §8 shorthand). */
export function schemaFields(schema: JsonSchema | undefined): FieldSpec[] {
  const props = schema?.properties;
  if (!props || Object.keys(props).length === 0) {
    return [{ name: 'key', label: 'API key', kind: 'secret', required: true, description: null, options: [], schema: { type: 'string' } }];
  }
  const required = new Set(schema?.required ?? []);
  return Object.entries(props).map(([name, s]) => {
    const t = typeOf(s);
    let kind: FieldSpec['kind'] = 'text';
    if (Array.isArray(s.enum)) kind = 'enum';
    else if (t === 'boolean') kind = 'boolean';
    else if (t === 'integer') kind = 'integer';
    else if (t === 'number') kind = 'number';
    else if (s.format === 'password' || s.writeOnly || SECRET_NAME.test(name)) kind = 'secret';
    return {
      name,
      label: s.title ?? (name === 'key' ? 'API key' : humanize(name)),
      kind,
      required: required.has(name),
      description: s.description ?? null,
      options: Array.isArray(s.enum) ? s.enum.map(String) : [],
      schema: s,
    };
  });
}

export type FormValues = Record<string, string | boolean>;

/** The payload to send: typed values, empty optional fields left out. */
export function payloadFrom(fields: FieldSpec[], values: FormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = values[f.name];
    if (f.kind === 'boolean') {
      if (v !== undefined) out[f.name] = v === true;
      continue;
    }
    const text = typeof v === 'string' ? v : '';
    if (text === '' && !f.required) continue;
    if (f.kind === 'number' || f.kind === 'integer') out[f.name] = text === '' ? text : Number(text);
    else if (f.kind === 'enum') {
      const original = f.schema.enum?.find((e) => String(e) === text);
      out[f.name] = original ?? text;
    } else out[f.name] = f.kind === 'secret' ? text.trim() : text;
  }
  return out;
}
