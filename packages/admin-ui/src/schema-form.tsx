// Form fields generated from a service's `credential_schema` (see schema-fields.ts): one input per
// property, typed, with the schema's required list, limits and descriptions. Values live only in
// the form's state and are cleared once saved.
import { useState } from 'preact/hooks';
import type { FieldSpec, FormValues } from './schema-fields.ts';

export function SchemaFields({
  fields,
  values,
  onChange,
  idPrefix,
}: {
  fields: FieldSpec[];
  values: FormValues;
  onChange: (v: FormValues) => void;
  idPrefix: string;
}) {
  return (
    <>
      {fields.map((f) => (
        <SchemaField key={f.name} field={f} value={values[f.name]} id={`${idPrefix}-${f.name}`} onChange={(v) => onChange({ ...values, [f.name]: v })} />
      ))}
    </>
  );
}

function SchemaField({
  field: f,
  value,
  id,
  onChange,
}: {
  field: FieldSpec;
  value: string | boolean | undefined;
  id: string;
  onChange: (v: string | boolean) => void;
}) {
  const [shown, setShown] = useState(false);
  const hintId = f.description ? `${id}-hint` : undefined;
  const label = (
    <label for={id}>
      {f.label}
      {f.required ? <span aria-hidden="true"> *</span> : <span class="muted"> (optional)</span>}
    </label>
  );
  const hint = f.description ? (
    <small id={hintId} class="hint">
      {f.description}
    </small>
  ) : null;
  const text = typeof value === 'string' ? value : '';
  if (f.kind === 'boolean') {
    return (
      <div class="field switch-row">
        <input id={id} type="checkbox" checked={value === true} aria-describedby={hintId} onChange={(e) => onChange(e.currentTarget.checked)} />
        {label}
        {hint}
      </div>
    );
  }
  if (f.kind === 'enum') {
    return (
      <div class="field">
        {label}
        <select id={id} required={f.required} value={text} aria-describedby={hintId} onChange={(e) => onChange(e.currentTarget.value)}>
          <option value="">Choose…</option>
          {f.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
        {hint}
      </div>
    );
  }
  const numeric = f.kind === 'number' || f.kind === 'integer';
  const common = {
    id,
    name: f.name,
    class: f.kind === 'secret' ? 'secret' : undefined,
    autocomplete: 'off',
    spellcheck: false,
    required: f.required,
    minLength: f.schema.minLength,
    maxLength: f.schema.maxLength,
    min: f.schema.minimum,
    max: f.schema.maximum,
    step: f.kind === 'integer' ? 1 : numeric ? 'any' : undefined,
    'aria-describedby': hintId,
    'data-secret': f.kind === 'secret' ? 'true' : undefined,
    value: text,
    onInput: (e: Event) => onChange((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class={`field ${f.kind === 'secret' ? 'field-wide' : ''}`}>
      {label}
      <div class={f.kind === 'secret' ? 'secret-row' : undefined}>
        {f.kind === 'secret' && !shown ? (
          <input type="password" {...common} />
        ) : numeric ? (
          <input type="number" {...common} />
        ) : (
          <input type="text" {...common} />
        )}
        {f.kind === 'secret' ? (
          <button type="button" class="button button-small" aria-pressed={shown} aria-controls={id} onClick={() => setShown(!shown)}>
            {shown ? 'Hide' : 'Show'}
            <span class="sr-only"> {f.label}</span>
          </button>
        ) : null}
      </div>
      {hint}
    </div>
  );
}
