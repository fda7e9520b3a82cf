// Webhook endpoints: legacy v1 (`/v1/webhook/...`) and v3 (`/v3/webhooks/...`). The sandbox
// stores them but never calls them.
import { hexId, jsonBuffer, sendAnswer, sendJson, type Ctx } from '../http.ts';
import type { Route } from '../router.ts';
import { SEED, WEBHOOK_EVENTS } from './data.ts';
import { paged, v1Msg, v3 } from './envelope.ts';
import { invalidParameter, notFound } from './errors.ts';
import type { HeyGenState, WebhookEndpoint } from './state.ts';
import { objectBody } from './videos.ts';

const EVENTS_V1 = jsonBuffer(v1Msg(WEBHOOK_EVENTS));
const EVENT_TYPES = WEBHOOK_EVENTS.map((e) => ({ event_type: e, description: `Sent on ${e.replace(/[._]/g, ' ')}.` }));

function eventsOf(v: unknown): string[] | null {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : null;
}

export function webhookRoutes(state: HeyGenState): Route[] {
  // The seeded endpoint survives deletes so that its fixture id keeps working.
  const remove = (e: WebhookEndpoint): void => {
    if (e.endpoint_id !== SEED.webhookEndpoint) state.webhooks.delete(e.endpoint_id);
  };

  const endpoint = (ctx: Ctx, id: string | null): WebhookEndpoint | null => {
    if (!id) {
      sendAnswer(ctx, invalidParameter(ctx.path, 'endpoint_id', 'endpoint_id is required.'));
      return null;
    }
    const e = state.webhooks.get(id);
    if (!e) sendAnswer(ctx, notFound(ctx.path, 'Webhook endpoint'));
    return e ?? null;
  };

  async function add(ctx: Ctx, wrap: (d: unknown) => unknown): Promise<void> {
    const body = await objectBody(ctx);
    if (!body) return;
    const events = eventsOf(body.events);
    if (typeof body.url !== 'string' || !/^https?:\/\//.test(body.url))
      return sendAnswer(ctx, invalidParameter(ctx.path, 'url', 'url must be an http(s) URL.'));
    if (events === null) return sendAnswer(ctx, invalidParameter(ctx.path, 'events', 'events must be a list of event names.'));
    sendJson(ctx, 200, wrap(state.addWebhook(body.url, events)));
  }

  return [
    { method: 'GET', path: '/v1/webhook/webhook.list', handler: (ctx) => sendJson(ctx, 200, EVENTS_V1) },
    { method: 'GET', path: '/v1/webhook/endpoint.list', handler: (ctx) => sendJson(ctx, 200, v1Msg([...state.webhooks.values()])) },
    { method: 'POST', path: '/v1/webhook/endpoint.add', handler: (ctx) => add(ctx, v1Msg) },
    {
      method: 'DELETE',
      path: '/v1/webhook/endpoint.delete',
      handler(ctx) {
        const e = endpoint(ctx, ctx.query.get('endpoint_id'));
        if (!e) return;
        remove(e);
        sendJson(ctx, 200, v1Msg(null));
      },
    },
    { method: 'GET', path: '/v3/webhooks/event-types', handler: (ctx) => sendJson(ctx, 200, paged(ctx, EVENT_TYPES, 100)) },
    { method: 'GET', path: '/v3/webhooks/endpoints', handler: (ctx) => sendJson(ctx, 200, paged(ctx, [...state.webhooks.values()])) },
    { method: 'POST', path: '/v3/webhooks/endpoints', handler: (ctx) => add(ctx, v3) },
    {
      method: 'PATCH',
      path: '/v3/webhooks/endpoints/{endpoint_id}',
      async handler(ctx) {
        const e = endpoint(ctx, ctx.params.endpoint_id!);
        if (!e) return;
        const body = await objectBody(ctx);
        if (!body) return;
        if (typeof body.url === 'string') e.url = body.url;
        const events = eventsOf(body.events);
        if (events && body.events !== undefined) e.events = events;
        if (typeof body.status === 'string') e.status = body.status;
        sendJson(ctx, 200, v3(e));
      },
    },
    {
      method: 'DELETE',
      path: '/v3/webhooks/endpoints/{endpoint_id}',
      handler(ctx) {
        const e = endpoint(ctx, ctx.params.endpoint_id!);
        if (!e) return;
        remove(e);
        sendJson(ctx, 200, { error: null, data: {} });
      },
    },
    {
      method: 'POST',
      path: '/v3/webhooks/endpoints/{endpoint_id}/rotate-secret',
      handler(ctx) {
        const e = endpoint(ctx, ctx.params.endpoint_id!);
        if (!e) return;
        e.secret = `whsec_${hexId(16)}`;
        sendJson(ctx, 200, v3({ endpoint_id: e.endpoint_id, secret: e.secret }));
      },
    },
  ];
}
