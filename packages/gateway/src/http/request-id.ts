// SPEC §1: keep the client's X-Request-Id when it is 1–128 visible ASCII characters.
import { ulid } from '../ids.ts';

const VALID = /^[\x21-\x7e]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === 'string' && VALID.test(header)) return header;
  return ulid();
}
