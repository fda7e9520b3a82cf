// ElevenLabs error bodies (CATALOG §1.5). The sandbox emits the current shape, which keeps the
// legacy `status` equal to `code`, so that clients of either shape read it.
import type { Answer, Headers } from '../http.ts';
import type { ErrorInfo } from '../provider.ts';

// `type` per status: only the 400 and 402 values are observed; the rest follow the docs' naming (❓).
const TYPES: Record<number, string> = {
  400: 'validation_error',
  401: 'authentication_error',
  402: 'payment_required',
  403: 'authorization_error',
  404: 'not_found',
  425: 'too_early',
  429: 'rate_limit_error',
  500: 'internal_error',
  503: 'service_unavailable',
};

/** Messages of the provider codes that CATALOG §1.5 quotes; any other code gets a generic one. */
const MESSAGES: Record<string, string> = {
  invalid_api_key: 'Invalid API key',
  missing_permissions: 'The API key you used is missing the permission user_read to execute this operation.',
  quota_exceeded: 'This request exceeds your quota of 10000. You have 0 credits remaining, while 91 credits are required for this request.',
  detected_unusual_activity:
    'Unusual activity detected. Free Tier usage disabled. If you are using a proxy/VPN you might need to purchase a Paid Plan to not trigger our abuse detectors.',
  paid_plan_required: 'Free users cannot use library voices via the API. Please upgrade your subscription to use this voice.',
  output_format_not_allowed: 'Requested output format pcm_44100 (PCM at 44100hz) is only allowed for Pro tier and above.',
  invalid_parameters: 'The request contains invalid parameters.',
  invalid_uid: "An invalid ID has been received: 'your-voice-id-1'. Make sure to provide a correct one.",
  max_character_limit_exceeded: "This request's text has 10001 characters and exceeds the character limit of 10000 characters for non signed in accounts.",
  not_found: 'The requested resource was not found.',
  concurrent_limit_exceeded:
    'Too many concurrent requests. Your current subscription is associated with a maximum of 2 concurrent requests (running in parallel). Please upgrade your subscription or contact sales if you want to increase this limit.',
  too_many_concurrent_requests:
    'Too many concurrent requests. Your current subscription is associated with a maximum of 2 concurrent requests (running in parallel). This is done such that a single user does not overwhelm our systems and affect other users negatively. Please upgrade your subscription or contact sales if you want to increase this limit.',
  system_busy: 'We are sorry, the system is experiencing heavy traffic, please try again. Higher subscriptions have higher priority.',
  rate_limit_exceeded: 'You have exceeded the rate limit. Please slow down your requests.',
  something_went_wrong: 'We are sorry, something went wrong. You are not charged for this request.',
  service_unavailable: 'The service is temporarily unavailable. Please try again later.',
  dubbing_not_ready: 'Dubbing is not yet complete. Please try again later.',
};

/** The default provider code a fault of each status answers with. */
const DEFAULT_CODES: Record<number, string> = {
  400: 'invalid_parameters',
  401: 'invalid_api_key',
  402: 'paid_plan_required',
  403: 'output_format_not_allowed',
  404: 'not_found',
  429: 'concurrent_limit_exceeded',
  500: 'something_went_wrong',
  503: 'service_unavailable',
};

export const MAX_CONCURRENCY = 10;

export function elError(status: number, code: string, requestId: string, message?: string, extra?: Record<string, unknown>): Answer {
  return {
    status,
    body: {
      detail: {
        type: TYPES[status] ?? 'error',
        code,
        message: message ?? MESSAGES[code] ?? `Sandbox error ${code}.`,
        status: code,
        request_id: requestId,
        ...extra,
      },
    },
  };
}

/** One item of FastAPI's 422 list. */
export interface ValidationItem {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

export function validationError(items: ValidationItem[]): Answer {
  return { status: 422, body: { detail: items } };
}

export function missingField(where: 'body' | 'query', name: string): ValidationItem {
  return { type: 'missing', loc: [where, name], msg: 'Field required', input: null };
}

/** What `voice_not_found` & co. look like for an unknown id in the path. */
export function notFoundFor(params: Record<string, string>, requestId: string): Answer {
  if (params.voice_id !== undefined) {
    return elError(404, 'voice_not_found', requestId, `A voice with the voice_id ${params.voice_id} was not found.`);
  }
  if (params.history_item_id !== undefined) {
    return elError(404, 'history_item_not_found', requestId, `History item ${params.history_item_id} was not found.`);
  }
  if (params.dubbing_id !== undefined) {
    return elError(404, 'dubbing_not_found', requestId, `Dubbing ${params.dubbing_id} was not found.`);
  }
  if (params.transcription_id !== undefined) {
    return elError(404, 'transcript_not_found', requestId, `Transcript ${params.transcription_id} was not found.`);
  }
  return elError(404, 'not_found', requestId);
}

export function concurrencyHeaders(current: number): Headers {
  return { 'current-concurrent-requests': String(current), 'maximum-concurrent-requests': String(MAX_CONCURRENCY) };
}

export function elFault(status: number, info: ErrorInfo): Answer {
  if (status === 422) return validationError([missingField('body', 'text')]);
  if (status === 404 && !info.code) return notFoundFor(info.params, info.requestId);
  const answer = elError(status, info.code ?? DEFAULT_CODES[status] ?? 'error', info.requestId);
  if (status === 429) {
    answer.headers = { 'retry-after': info.retryAfter, ...concurrencyHeaders(MAX_CONCURRENCY) };
  } else if (status === 503) {
    answer.headers = { 'retry-after': info.retryAfter };
  }
  return answer;
}
