// Account and catalog reads: models, user, subscription, character usage.
import { jsonBuffer, sendAnswer, sendJson, truthy, type Ctx } from '../http.ts';
import type { Route } from '../router.ts';
import { missingField, validationError, type ValidationItem } from './errors.ts';
import { MODELS, subscription, user } from './data.ts';
import type { ElevenLabsState } from './state.ts';

const MODELS_JSON = jsonBuffer(MODELS);
const DAY_MS = 86_400_000;

/** `GET /v1/usage/character-stats`: daily buckets between `start_unix` and `end_unix` (ms). */
function characterStats(ctx: Ctx, state: ElevenLabsState): void {
  const errors: ValidationItem[] = [];
  const read = (name: string): number => {
    const raw = ctx.query.get(name);
    if (raw === null) {
      errors.push(missingField('query', name));
      return 0;
    }
    const n = Number(raw);
    if (!Number.isInteger(n))
      errors.push({ type: 'int_parsing', loc: ['query', name], msg: 'Input should be a valid integer, unable to parse string as an integer', input: raw });
    return n;
  };
  const start = read('start_unix');
  const end = read('end_unix');
  if (errors.length) {
    sendAnswer(ctx, validationError(errors));
    return;
  }
  const time: number[] = [];
  for (let t = Math.floor(start / DAY_MS) * DAY_MS; t <= end && time.length < 366; t += DAY_MS) time.push(t);
  // Spread the characters spent so far over the buckets, most of it on the last day.
  const usage = time.map((_, i) => (i === time.length - 1 ? state.charactersUsed : 0));
  const breakdown = ctx.query.get('breakdown_type');
  const key = breakdown && breakdown !== 'none' ? 'sandbox' : 'All';
  const body: Record<string, unknown> = { time, usage: { [key]: usage } };
  if (truthy(ctx.query.get('include_workspace_metrics'))) body.workspace_usage = { [key]: usage };
  sendJson(ctx, 200, body);
}

export function accountRoutes(state: ElevenLabsState): Route[] {
  return [
    { method: 'GET', path: '/v1/models', handler: (ctx) => sendJson(ctx, 200, MODELS_JSON) },
    { method: 'GET', path: '/v1/user', handler: (ctx) => sendJson(ctx, 200, user(state.charactersUsed)) },
    { method: 'GET', path: '/v1/user/subscription', handler: (ctx) => sendJson(ctx, 200, subscription(state.charactersUsed)) },
    { method: 'GET', path: '/v1/usage/character-stats', handler: (ctx) => characterStats(ctx, state) },
  ];
}
