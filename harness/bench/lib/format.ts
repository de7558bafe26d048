// Plain-text tables and number formats for the benchmark scripts' output.

export function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  indent = '  ',
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `${indent}${cells
      .map((c, i) => (i === 0 ? (c ?? '').padEnd(widths[i]!) : (c ?? '').padStart(widths[i]!)))
      .join('  ')}`.trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** A number with a sensible number of decimals, or '-' when missing. */
export function n(x: number | null | undefined, digits?: number): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  if (digits !== undefined) return x.toFixed(digits);
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export const ms = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${n(x)} ms`);
export const perS = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${n(x, 0)}/s`);
export const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
export const pct = (x: number) => `${x.toFixed(0)}%`;

/** "PASS" / "FAIL" / "n/a" for a goal. */
export function verdict(ok: boolean | null | undefined): string {
  return ok === null || ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL';
}

/** Rounds every number in a JSON-able value to 3 decimals (figures files stay readable). */
export function rounded<T>(v: T): T {
  return JSON.parse(
    JSON.stringify(v, (_k, x) =>
      typeof x === 'number' && !Number.isInteger(x) ? Math.round(x * 1000) / 1000 : x,
    ),
  ) as T;
}
