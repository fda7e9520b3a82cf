// SPEC §1: keep the client's X-Request-Id when it is 1–128 visible ASCII characters.
import { ulid } from '../ids.ts';

const VALID = /^[\x21-\x7e]{1,128}$/;

/** The client's id if usable, else a new ULID (of `now`, Date.now() by default). */
export function requestIdFrom(header: string | string[] | undefined, now?: number): string {
  if (typeof header === 'string' && VALID.test(header)) return header;
  return ulid(now);
}
