// Masked display values: what admins see instead of a secret, and what must never be
// stored or sent upstream as if it were one (SPEC §6 step 3, §8).

/** A run of two or more `*`, or any `•` or `…`. */
const MASKED = /\*{2,}|[•…]/;

export function looksMasked(value: string): boolean {
  return MASKED.test(value);
}

/** True when any string field of the payload looks like a masked display value. */
export function payloadLooksMasked(payload: unknown): boolean {
  if (typeof payload === 'string') return looksMasked(payload);
  if (typeof payload !== 'object' || payload === null) return false;
  return Object.values(payload).some((v) => payloadLooksMasked(v));
}

/** First 3 and last 4 characters of the payload's `key`, joined by `…`. */
export function maskPayload(payload: unknown): string {
  const key = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>).key : undefined;
  if (typeof key !== 'string') return '…';
  if (key.length < 10) return `…${key.slice(-2)}`;
  return `${key.slice(0, 3)}…${key.slice(-4)}`;
}
