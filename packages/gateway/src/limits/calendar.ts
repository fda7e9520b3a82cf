// Calendar months (UTC) for the monthly quotas (SPEC §13).

export interface Month {
  /** `YYYYMM` */
  key: string;
  startIso: string;
  endMs: number;
  /** How long counters of this month must live: to its end plus a week. */
  ttlS: number;
}

let current: { start: number; end: number; key: string; startIso: string } | null = null;

export function monthOf(now: number): Month {
  // Every limited invoke asks; the month only changes once a month.
  let c = current;
  if (c === null || now < c.start || now >= c.end) {
    const d = new Date(now);
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth();
    const start = Date.UTC(y, m, 1);
    c = { start, end: Date.UTC(y, m + 1, 1), key: `${y}${String(m + 1).padStart(2, '0')}`, startIso: new Date(start).toISOString() };
    current = c;
  }
  return { key: c.key, startIso: c.startIso, endMs: c.end, ttlS: Math.ceil((c.end - now) / 1000) + 7 * 86400 };
}
