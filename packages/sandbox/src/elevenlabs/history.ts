// Generation history: list, one item, its audio, delete, download (one file or a ZIP).
import { jsonBuffer, sendAnswer, sendBytes, sendJson, type Ctx } from '../http.ts';
import { outputFormat } from '../audio/formats.ts';
import type { ProviderEnv } from '../provider.ts';
import type { Route } from '../router.ts';
import { parseSize, streamPattern } from '../sandbox-routes.ts';
import { zipStore } from '../zip.ts';
import { elError, notFoundFor, validationError } from './errors.ts';
import { HISTORY_ITEM_ID, type HistoryItem } from './data.ts';
import { SECONDS_PER_CHAR, characterCount } from './audio-common.ts';
import type { ElevenLabsState } from './state.ts';
import { jsonBody } from './validate.ts';

const OK = jsonBuffer({ status: 'ok' });

/** `GET /v1/history/sandbox_bytes_<N>/audio` answers exactly N bytes: a relay test through a catalog endpoint. */
const BYTES_ID = /^sandbox_bytes_(\d{1,12})$/;

function publicItem(h: HistoryItem): Omit<HistoryItem, 'output_format'> {
  const { output_format: _, ...rest } = h;
  return rest;
}

export function historyRoutes(env: ProviderEnv, state: ElevenLabsState): Route[] {
  const audioOf = (h: HistoryItem): { body: Buffer; type: string } => {
    const format = outputFormat(h.output_format) ?? outputFormat(null)!;
    return { body: env.audio.render(format, characterCount(h.text) * SECONDS_PER_CHAR), type: format.contentType };
  };

  const item = (ctx: Ctx): HistoryItem | null => {
    const h = state.history.get(ctx.params.history_item_id!);
    if (!h) sendAnswer(ctx, notFoundFor(ctx.params, ctx.requestId));
    return h ?? null;
  };

  function list(ctx: Ctx): void {
    const q = ctx.query;
    const size = Math.min(1000, Math.max(1, Number(q.get('page_size') ?? 100) || 100));
    let all = [...state.history.values()].reverse();
    const voiceId = q.get('voice_id');
    const modelId = q.get('model_id');
    const search = q.get('search')?.toLowerCase();
    const source = q.get('source');
    if (voiceId) all = all.filter((h) => h.voice_id === voiceId);
    if (modelId) all = all.filter((h) => h.model_id === modelId);
    if (source) all = all.filter((h) => h.source === source);
    if (search) all = all.filter((h) => h.text.toLowerCase().includes(search));
    if (q.get('sort_direction') === 'asc') all.reverse();
    const after = q.get('start_after_history_item_id');
    const start = after ? all.findIndex((h) => h.history_item_id === after) + 1 : 0;
    const pageItems = all.slice(start, start + size);
    sendJson(ctx, 200, {
      history: pageItems.map(publicItem),
      has_more: start + size < all.length,
      last_history_item_id: pageItems.at(-1)?.history_item_id ?? null,
      scanned_until: pageItems.at(-1)?.date_unix ?? null,
    });
  }

  async function download(ctx: Ctx): Promise<void> {
    const body = await jsonBody(ctx);
    if (!body) return;
    const ids = body.history_item_ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => typeof x === 'string')) {
      sendAnswer(
        ctx,
        validationError([
          ids === undefined
            ? { type: 'missing', loc: ['body', 'history_item_ids'], msg: 'Field required', input: null }
            : { type: 'list_type', loc: ['body', 'history_item_ids'], msg: 'Input should be a non-empty list of strings', input: ids },
        ]),
      );
      return;
    }
    const items: HistoryItem[] = [];
    for (const id of ids as string[]) {
      const h = state.history.get(id);
      if (!h) {
        sendAnswer(ctx, elError(404, 'history_item_not_found', ctx.requestId, `History item ${id} was not found.`));
        return;
      }
      items.push(h);
    }
    if (items.length === 1) {
      const a = audioOf(items[0]!);
      sendBytes(ctx, 200, a.type, a.body);
      return;
    }
    const zip = zipStore(items.map((h) => ({ name: `${h.history_item_id}.mp3`, data: audioOf(h).body })));
    sendBytes(ctx, 200, 'application/zip', zip, { 'content-disposition': 'attachment; filename="history.zip"' });
  }

  return [
    { method: 'GET', path: '/v1/history', handler: list },
    {
      method: 'GET',
      path: '/v1/history/{history_item_id}',
      handler(ctx) {
        const h = item(ctx);
        if (h) sendJson(ctx, 200, publicItem(h));
      },
    },
    {
      method: 'GET',
      path: '/v1/history/{history_item_id}/audio',
      async handler(ctx) {
        const m = BYTES_ID.exec(ctx.params.history_item_id!);
        const size = m ? parseSize(m[1]) : null;
        if (size !== null) return streamPattern(ctx, size, 'audio/mpeg');
        const h = item(ctx);
        if (!h) return;
        const a = audioOf(h);
        sendBytes(ctx, 200, a.type, a.body);
      },
    },
    {
      method: 'DELETE',
      path: '/v1/history/{history_item_id}',
      handler(ctx) {
        const h = item(ctx);
        if (!h) return;
        // The seeded item stays so that its fixture id keeps working.
        if (h.history_item_id !== HISTORY_ITEM_ID) state.history.delete(h.history_item_id);
        sendJson(ctx, 200, OK);
      },
    },
    { method: 'POST', path: '/v1/history/download', handler: download },
  ];
}
