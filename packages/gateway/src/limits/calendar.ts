// Calendar months (UTC) for the monthly quotas (SPEC §13).

export interface Month {
  /** `YYYYMM` */
  key: string;
  startIso: string;
  endMs: number;
  /** How long counters of this month must live: to its end plus a week. */
  ttlS: number;
}

export function monthOf(now: number): Month {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const start = Date.UTC(y, m, 1);
  const end = Date.UTC(y, m + 1, 1);
  return {
    key: `${y}${String(m + 1).padStart(2, '0')}`,
    startIso: new Date(start).toISOString(),
    endMs: end,
    ttlS: Math.ceil((end - now) / 1000) + 7 * 86400,
  };
}
