// HeyGen error bodies (CATALOG §2.5). Three API generations, three envelopes:
//   v1  {"code": <int>, "message": "..."}
//   v2  {"error": {"code": "...", "message": "..."}, "data": null}
//   v3  {"error": {"code", "message", "param", "doc_url"}}   (also /v2/videos)
// HeyGen documents no 422: validation problems are 400 `invalid_parameter`.
import type { Answer } from '../http.ts';
import type { ErrorInfo } from '../provider.ts';

export type Family = 'v1' | 'v2' | 'v3';

export function familyOf(path: string): Family {
  if (path.startsWith('/v3/') || path === '/v2/videos' || path.startsWith('/v2/videos/')) return 'v3';
  if (path.startsWith('/v2/')) return 'v2';
  if (path.startsWith('/v1/')) return 'v1';
  return 'v3';
}

interface Kind {
  code: string;
  message: string;
  /** Legacy numeric code of the v1 envelope (HG-DOCS errors table where one exists). */
  v1: number;
  v1Message: string;
  docUrl?: string;
}

const KINDS: Record<number, Kind> = {
  400: { code: 'invalid_parameter', message: 'Invalid request parameters.', v1: 400175, v1Message: 'Invalid parameter' },
  401: {
    code: 'authentication_failed',
    message: 'Invalid or expired API key. Verify your x-api-key header.',
    v1: 400112,
    v1Message: 'Unauthorized',
  },
  402: {
    code: 'insufficient_credit',
    message: 'Your account has 5 credits but this video requires 10 credits.',
    v1: 402,
    v1Message: 'Insufficient credit',
    docUrl: 'https://developers.heygen.com/docs/error-codes#insufficient-credit',
  },
  403: { code: 'forbidden', message: 'You do not have permission to access this resource.', v1: 400562, v1Message: 'forbidden' },
  404: { code: 'not_found', message: 'Resource not found.', v1: 404, v1Message: 'Not found' },
  405: { code: 'method_not_allowed', message: 'Method not allowed.', v1: 405, v1Message: 'Method not allowed' },
  413: { code: 'payload_too_large', message: 'The uploaded file is too large.', v1: 413, v1Message: 'Payload too large' },
  429: {
    code: 'rate_limit_exceeded',
    message: 'Too many requests. Retry after the duration specified in the Retry-After header.',
    v1: 429,
    v1Message: 'Too many requests',
  },
  500: { code: 'internal_error', message: 'An internal error occurred. Please try again later.', v1: 500, v1Message: 'Internal server error' },
  503: { code: 'service_unavailable', message: 'The service is temporarily unavailable. Please try again later.', v1: 503, v1Message: 'Service unavailable' },
};

export interface HeyGenError {
  status: number;
  family: Family;
  code?: string;
  message?: string;
  param?: string | null;
}

export function hgError(e: HeyGenError): Answer {
  const kind = KINDS[e.status] ?? KINDS[500]!;
  if (e.family === 'v1') {
    const code = e.code === undefined ? kind.v1 : /^\d+$/.test(e.code) ? Number(e.code) : e.code;
    return { status: e.status, body: { code, message: e.message ?? kind.v1Message } };
  }
  const code = e.code ?? kind.code;
  const message = e.message ?? kind.message;
  if (e.family === 'v2') return { status: e.status, body: { error: { code, message }, data: null } };
  return {
    status: e.status,
    body: { error: { code, message, param: e.param ?? null, doc_url: e.code === undefined ? (kind.docUrl ?? null) : null } },
  };
}

/** 400 for a bad or missing field, in the route's envelope. */
export function invalidParameter(path: string, param: string, message: string): Answer {
  const family = familyOf(path);
  if (family === 'v1') {
    return hgError({ status: 400, family, code: '40001', message: 'Missing required input parameters' });
  }
  return hgError({ status: 400, family, message, param });
}

/** 404 for an unknown id; legacy video status uses HeyGen's INVALID_VIDEO_ID code. */
export function notFound(path: string, what: string): Answer {
  const family = familyOf(path);
  if (family === 'v1' && what === 'Video') return hgError({ status: 404, family, code: '40031', message: 'Invalid video id' });
  return hgError({ status: 404, family, message: `${what} not found.` });
}

export function hgFault(status: number, info: ErrorInfo): Answer {
  const family = familyOf(info.path);
  // No 422 at HeyGen: an asked-for 422 is its validation answer, 400 invalid_parameter.
  const s = status === 422 ? 400 : status;
  const e: HeyGenError = { status: s, family };
  if (info.code !== undefined) e.code = info.code;
  if (s === 404 && info.params.video_id !== undefined) e.message = 'Video not found.';
  const answer = hgError(e);
  if (s === 429 || s === 503) answer.headers = { 'retry-after': info.retryAfter };
  return answer;
}
