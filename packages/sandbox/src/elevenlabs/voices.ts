// Voices: list, search, one voice, clone, edit, delete, settings, Voice Library.
import { alnumId, isObject, jsonBuffer, sendAnswer, sendJson, truthy, type Ctx } from '../http.ts';
import { field, files } from '../multipart.ts';
import type { Route } from '../router.ts';
import { notFoundFor, validationError, type ValidationItem } from './errors.ts';
import { DEFAULT_VOICE_SETTINGS, SHARED_VOICES, voice, type Voice } from './data.ts';
import type { ElevenLabsState } from './state.ts';
import { formBody, jsonBody, requireString } from './validate.ts';

const OK = jsonBuffer({ status: 'ok' });
const DEFAULT_SETTINGS = jsonBuffer(DEFAULT_VOICE_SETTINGS);
const SHARED = jsonBuffer({ voices: SHARED_VOICES, has_more: false, last_sort_id: null });

/** `/v2/voices` pages: the token is the offset of the next page, opaque to clients. */
function page<T>(items: T[], pageSize: number, token: string | null): { items: T[]; next: string | null } {
  const start = token ? Number(Buffer.from(token, 'base64url').toString()) || 0 : 0;
  const end = start + pageSize;
  return { items: items.slice(start, end), next: end < items.length ? Buffer.from(String(end)).toString('base64url') : null };
}

export function voiceRoutes(state: ElevenLabsState): Route[] {
  const settings = new Map<string, Record<string, unknown>>();

  /** The voice of the path, or null after answering 404 voice_not_found. */
  const known = (ctx: Ctx): Voice | null => {
    const v = state.voices.get(ctx.params.voice_id!);
    if (!v) sendAnswer(ctx, notFoundFor(ctx.params, ctx.requestId));
    return v ?? null;
  };

  function search(ctx: Ctx): void {
    const q = ctx.query;
    const size = Math.min(100, Math.max(1, Number(q.get('page_size') ?? 10) || 10));
    const text = q.get('search')?.toLowerCase();
    const category = q.get('category');
    const type = q.get('voice_type');
    const ids = q.getAll('voice_ids');
    let all = [...state.voices.values()];
    if (text)
      all = all.filter(
        (v) =>
          v.name.toLowerCase().includes(text) ||
          String(v.description ?? '')
            .toLowerCase()
            .includes(text),
      );
    if (category) all = all.filter((v) => v.category === category);
    if (type === 'personal') all = all.filter((v) => v.category !== 'premade');
    if (type === 'default') all = all.filter((v) => v.category === 'premade');
    if (ids.length) all = all.filter((v) => ids.includes(v.voice_id));
    if (q.get('sort') === 'name') all.sort((a, b) => a.name.localeCompare(b.name));
    if (q.get('sort_direction') === 'desc') all.reverse();
    const p = page(all, size, q.get('next_page_token'));
    sendJson(ctx, 200, { voices: p.items, has_more: p.next !== null, total_count: all.length, next_page_token: p.next });
  }

  async function add(ctx: Ctx): Promise<void> {
    const parts = await formBody(ctx, ['name', 'files']);
    if (!parts) return;
    const id = alnumId();
    const labels = parseLabels(field(parts, 'labels'));
    const v = voice(id, field(parts, 'name')!, 'cloned', labels, field(parts, 'description') ?? null);
    v.samples = files(parts, 'files').map((f) => ({
      sample_id: alnumId(),
      file_name: f.filename,
      mime_type: f.contentType ?? 'audio/mpeg',
      size_bytes: f.data.length,
      hash: alnumId(32),
    }));
    state.voices.set(id, v);
    state.voicesChanged();
    sendJson(ctx, 200, { voice_id: id, requires_verification: false });
  }

  async function edit(ctx: Ctx): Promise<void> {
    const v = known(ctx);
    if (!v) return;
    const parts = await formBody(ctx, ['name']);
    if (!parts) return;
    if (!state.premade.has(v.voice_id)) {
      v.name = field(parts, 'name')!;
      const description = field(parts, 'description');
      if (description !== undefined) v.description = description;
      const labels = field(parts, 'labels');
      if (labels !== undefined) v.labels = parseLabels(labels);
      state.voicesChanged();
    }
    sendJson(ctx, 200, OK);
  }

  async function editSettings(ctx: Ctx): Promise<void> {
    if (!known(ctx)) return;
    const body = await jsonBody(ctx);
    if (!body) return;
    const errors: ValidationItem[] = [];
    for (const k of ['stability', 'similarity_boost', 'style', 'speed']) {
      const x = body[k];
      if (x !== undefined && x !== null && typeof x !== 'number') {
        errors.push({ type: 'float_type', loc: ['body', k], msg: 'Input should be a valid number', input: x });
      }
    }
    if (errors.length) {
      sendAnswer(ctx, validationError(errors));
      return;
    }
    settings.set(ctx.params.voice_id!, { ...DEFAULT_VOICE_SETTINGS, ...body });
    sendJson(ctx, 200, OK);
  }

  async function addShared(ctx: Ctx): Promise<void> {
    const body = await jsonBody(ctx);
    if (!body) return;
    const errors: ValidationItem[] = [];
    const name = requireString(body, 'new_name', errors);
    if (errors.length) {
      sendAnswer(ctx, validationError(errors));
      return;
    }
    const id = alnumId();
    state.voices.set(id, voice(id, name, 'professional', { accent: 'american', gender: 'female' }, 'Added from the Voice Library.'));
    state.voicesChanged();
    sendJson(ctx, 200, { voice_id: id });
  }

  return [
    { method: 'GET', path: '/v1/voices', handler: (ctx) => sendJson(ctx, 200, state.voicesJson()) },
    { method: 'GET', path: '/v2/voices', handler: search },
    // No key needed for the defaults (the provider's OpenAPI marks the header optional here).
    { method: 'GET', path: '/v1/voices/settings/default', public: true, handler: (ctx) => sendJson(ctx, 200, DEFAULT_SETTINGS) },
    {
      method: 'GET',
      path: '/v1/voices/{voice_id}',
      handler(ctx) {
        const v = known(ctx);
        if (!v) return;
        if (!truthy(ctx.query.get('with_settings'))) return sendJson(ctx, 200, v);
        sendJson(ctx, 200, { ...v, settings: settings.get(v.voice_id) ?? DEFAULT_VOICE_SETTINGS });
      },
    },
    { method: 'POST', path: '/v1/voices/add', handler: add },
    { method: 'POST', path: '/v1/voices/{voice_id}/edit', handler: edit },
    {
      method: 'DELETE',
      path: '/v1/voices/{voice_id}',
      handler(ctx) {
        const v = known(ctx);
        if (!v) return;
        // Premade voices stay, so that a long-running sandbox keeps its fixture ids.
        if (!state.premade.has(v.voice_id)) {
          state.voices.delete(v.voice_id);
          state.voicesChanged();
        }
        sendJson(ctx, 200, OK);
      },
    },
    {
      method: 'GET',
      path: '/v1/voices/{voice_id}/settings',
      handler(ctx) {
        if (known(ctx)) sendJson(ctx, 200, settings.get(ctx.params.voice_id!) ?? DEFAULT_SETTINGS);
      },
    },
    { method: 'POST', path: '/v1/voices/{voice_id}/settings/edit', handler: editSettings },
    { method: 'GET', path: '/v1/shared-voices', handler: (ctx) => sendJson(ctx, 200, SHARED) },
    { method: 'POST', path: '/v1/voices/add/{public_user_id}/{voice_id}', handler: addShared },
  ];
}

function parseLabels(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  try {
    const v: unknown = JSON.parse(raw);
    return isObject(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}
