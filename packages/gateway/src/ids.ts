// Identifiers: time-sortable ids (ULID layout: 48-bit ms time + 80 random bits, Crockford
// base32), so "newest first" is ORDER BY id DESC and ids work as pagination cursors.
import { randomFillSync } from 'node:crypto';

const ALPHABET = Array.from('0123456789ABCDEFGHJKMNPQRSTVWXYZ', (c) => c.charCodeAt(0));
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;
let lastTime = -1;
const random = new Uint8Array(10);
// The id is assembled as 26 character codes and turned into a string by one builtin call (a
// Buffer's toString goes through a C++ binding): every request gets one.
const out: number[] = new Array<number>(26).fill(48);

/** 5 bytes of `random` from `at` → 8 base32 characters at `pos` of `out`. */
function encode40(at: number, pos: number): void {
  const b0 = random[at]!,
    b1 = random[at + 1]!,
    b2 = random[at + 2]!,
    b3 = random[at + 3]!,
    b4 = random[at + 4]!;
  out[pos] = ALPHABET[b0 >> 3]!;
  out[pos + 1] = ALPHABET[((b0 & 7) << 2) | (b1 >> 6)]!;
  out[pos + 2] = ALPHABET[(b1 >> 1) & 31]!;
  out[pos + 3] = ALPHABET[((b1 & 1) << 4) | (b2 >> 4)]!;
  out[pos + 4] = ALPHABET[((b2 & 15) << 1) | (b3 >> 7)]!;
  out[pos + 5] = ALPHABET[(b3 >> 2) & 31]!;
  out[pos + 6] = ALPHABET[((b3 & 3) << 3) | (b4 >> 5)]!;
  out[pos + 7] = ALPHABET[b4 & 31]!;
}

export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    // Same millisecond (or a clock step back): increment the previous random part so ids stay
    // strictly increasing; the time characters stay as they are.
    for (let i = 9; i >= 0; i--) {
      if (random[i]! < 255) {
        random[i]!++;
        break;
      }
      random[i] = 0;
    }
  } else {
    lastTime = now;
    if (poolOffset + 10 > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    // Byte by byte: `set(pool.subarray(…))` makes a typed array per millisecond.
    for (let i = 0; i < 10; i++) random[i] = pool[poolOffset + i]!;
    poolOffset += 10;
    // 48-bit milliseconds → 10 base32 characters.
    let t = now;
    for (let i = 9; i >= 0; i--) {
      out[i] = ALPHABET[t % 32]!;
      t = Math.floor(t / 32);
    }
  }
  // 80 random bits → 16 base32 characters.
  encode40(0, 10);
  encode40(5, 18);
  // prettier-ignore
  return String.fromCharCode(
    out[0]!, out[1]!, out[2]!, out[3]!, out[4]!, out[5]!, out[6]!, out[7]!, out[8]!, out[9]!, out[10]!, out[11]!, out[12]!,
    out[13]!, out[14]!, out[15]!, out[16]!, out[17]!, out[18]!, out[19]!, out[20]!, out[21]!, out[22]!, out[23]!, out[24]!, out[25]!,
  );
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** Strict RFC 3339 date-time (with timezone). */
export function parseRfc3339(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  if (!/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}
