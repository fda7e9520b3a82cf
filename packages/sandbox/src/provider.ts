// What a faked provider gives the server: its routes, its key header and its error shapes.
import type { Answer, Headers } from './http.ts';
import type { Route } from './router.ts';
import type { AudioLibrary } from './audio/library.ts';
import type { MediaFiles } from './media.ts';

/** Facts an error body may mention (the route family, the id that was not found...). */
export interface ErrorInfo {
  path: string;
  params: Record<string, string>;
  requestId: string;
  /** `Retry-After` value for 429/503 answers. */
  retryAfter: string;
  /** A provider error code asked for with `X-Sandbox-Fault: <status>:<code>`. */
  code?: string;
}

export interface Provider {
  slug: string;
  /** Lower-case name of the header that carries the API key. */
  authHeader: string;
  routes: Route[];
  /** Headers every answer carries; `requestId` is fresh per request. */
  baseHeaders(requestId: string): Headers;
  unauthorized(info: ErrorInfo): Answer;
  /** The provider's answer to an `X-Sandbox-Fault: <status>` request. */
  fault(status: number, info: ErrorInfo): Answer;
  notFound(info: ErrorInfo): Answer;
  methodNotAllowed(info: ErrorInfo, allowed: string[]): Answer;
}

/** Shared by every provider of one sandbox. */
export interface ProviderEnv {
  /** How long a video (or dubbing, translation) job takes from creation to completion. */
  videoJobMs: number;
  audio: AudioLibrary;
  media: MediaFiles;
}

/** A key is valid when it starts with `sandbox_` (SPEC §10). */
export function validKey(value: string | string[] | undefined): boolean {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' && v.startsWith('sandbox_');
}
