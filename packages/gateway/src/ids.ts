// Identifiers: time-sortable ids (ULID layout: 48-bit ms time + 80 random bits, Crockford
// base32), so "newest first" is ORDER BY id DESC and ids work as pagination cursors.
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;
let lastTime = 0;
let lastRandom: Uint8Array = new Uint8Array(10);

function randomBytes10(): Uint8Array {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = pool.subarray(poolOffset, poolOffset + 10);
  poolOffset += 10;
  return new Uint8Array(out);
}

export function ulid(now: number = Date.now()): string {
  let random: Uint8Array;
  if (now <= lastTime) {
    // Same millisecond: increment the previous random part so ids stay strictly increasing.
    now = lastTime;
    random = lastRandom;
    for (let i = 9; i >= 0; i--) {
      if (random[i]! < 255) {
        random[i]!++;
        break;
      }
      random[i] = 0;
    }
  } else {
    random = randomBytes10();
  }
  lastTime = now;
  lastRandom = random;
  let out = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  // 80 random bits → 16 base32 characters.
  let acc = 0;
  let bits = 0;
  for (const byte of random) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  return out;
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
