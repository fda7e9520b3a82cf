// Human and machine output: aligned tables, key/value blocks, JSON.

/** Writes to stdout; a closed pipe (`portico orgs list | head -1`) is not an error. */
export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

export type Cell = string | number | boolean | null | undefined;

function cellText(c: Cell): string {
  if (c === null || c === undefined || c === '') return '-';
  if (typeof c === 'boolean') return c ? 'yes' : 'no';
  return String(c).replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table(headers: string[], rows: Cell[][]): string {
  const text = [headers, ...rows.map((r) => r.map(cellText))];
  const widths = headers.map((_, i) => Math.max(...text.map((r) => [...(r[i] ?? '')].length)));
  return text
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** `label  value` lines with the labels aligned. */
export function fields(pairs: [string, Cell][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${cellText(v)}`).join('\n');
}

/** `2025-01-02T03:04:05.678Z` → `2025-01-02 03:04Z` (UTC), for tables. */
export function shortTime(iso: unknown): string | null {
  if (typeof iso !== 'string' || iso === '') return null;
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso;
}

export function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
