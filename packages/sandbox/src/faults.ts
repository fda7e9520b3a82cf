// Faults on demand (SPEC §10): which one a request asks for, and how long to wait first.
import type { IncomingMessage } from 'node:http';

/** HTTP statuses a fault can ask for; each provider answers them in its own error shape. */
export const FAULT_STATUSES: readonly number[] = [400, 401, 402, 403, 404, 422, 429, 500, 503];

export type Fault =
  | { kind: 'status'; status: number; code?: string }
  | { kind: 'reset' } // TCP reset, no answer
  | { kind: 'hang' } // never answers (until the sandbox closes)
  | { kind: 'slow' } // normal answer, first byte 2 s late
  | { kind: 'cut' }; // headers and part of the body, then a reset

export const SLOW_MS = 2000;

/** `429`, `401:quota_exceeded` (status plus a provider error code), `reset`, `hang`, `slow`, `cut`. */
export function parseFault(value: string): Fault | null {
  const v = value.trim().toLowerCase();
  if (v === 'reset' || v === 'hang' || v === 'slow' || v === 'cut') return { kind: v };
  const m = /^(\d{3})(?::([a-z0-9_+.-]{1,64}))?$/.exec(v);
  if (!m) return null;
  const status = Number(m[1]);
  if (!FAULT_STATUSES.includes(status)) return null;
  return m[2] ? { kind: 'status', status, code: m[2] } : { kind: 'status', status };
}

const SEGMENT_PREFIX = 'sandbox_fault_';

export type FaultRequest = { fault: Fault | null } | { invalid: string };

/**
 * Where a fault can be asked for: the `X-Sandbox-Fault` header, the `sandbox_fault` query
 * parameter, or a path segment `sandbox_fault_<what>` (e.g. a voice id), which survives a
 * gateway that forwards neither unknown headers nor unknown query parameters.
 */
export function requestedFault(req: IncomingMessage, query: URLSearchParams | null, path: string): FaultRequest {
  let raw = req.headers['x-sandbox-fault'];
  let value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined && query) value = query.get('sandbox_fault') ?? undefined;
  if (value === undefined) {
    const at = path.indexOf(SEGMENT_PREFIX);
    if (at > 0 && path[at - 1] === '/') {
      const end = path.indexOf('/', at);
      value = path.slice(at + SEGMENT_PREFIX.length, end < 0 ? undefined : end);
    }
  }
  if (value === undefined || value === '') return { fault: null };
  const fault = parseFault(value);
  return fault ? { fault } : { invalid: value };
}

/** `X-Sandbox-Delay-Ms: N`: wait before the headers (tests, latency in benchmarks). */
export function requestedDelayMs(req: IncomingMessage): number {
  const raw = req.headers['x-sandbox-delay-ms'];
  if (raw === undefined) return 0;
  const n = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isFinite(n) && n > 0 ? Math.min(n, 600_000) : 0;
}

/** `X-Sandbox-Retry-After: N` overrides the `Retry-After` of 429/503 faults (default 1 s). */
export function requestedRetryAfter(req: IncomingMessage): string {
  const raw = req.headers['x-sandbox-retry-after'];
  const v = Array.isArray(raw) ? raw[0] : raw;
  return v !== undefined && /^\d{1,6}$/.test(v) ? v : '1';
}

/** `X-Sandbox-Pace-Ms: N` overrides the pause between streamed chunks for one request. */
export function requestedPaceMs(req: IncomingMessage, fallback: number): number {
  const raw = req.headers['x-sandbox-pace-ms'];
  if (raw === undefined) return fallback;
  const n = Number(Array.isArray(raw) ? raw[0] : raw);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 10_000) : fallback;
}

export const FAULT_HELP = `${FAULT_STATUSES.join(', ')}, <status>:<provider code>, reset, hang, slow, cut`;
