// Escaping and number formatting shared by the run page, the index and the charts. Every string
// that comes from a run folder goes through `esc` before it reaches HTML or SVG: the data is
// written by the system under test and by people, and a report must never execute any of it.

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for element content and quoted attribute values alike. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => entities[c]!);
}

/** A value from the data as a short readable string (objects as compact JSON). */
export function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Up to 4 significant digits for small values, thousands separators for large ones. */
export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  if (!Number.isFinite(n)) return n > 0 ? '∞' : '-∞';
  const abs = Math.abs(n);
  if (Number.isInteger(n) || abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(1);
  if (abs >= 1) return trimZeros(n.toFixed(2));
  if (abs === 0) return '0';
  // Ratios such as 0.9987 must not round to 1.
  return trimZeros(n.toPrecision(4));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** `83.2 ms`, `0.9987`, `12 rows`: a measured value with its unit, if any. */
export function withUnit(n: number | null | undefined, unit?: string): string {
  const v = formatNumber(n);
  if (n === null || n === undefined || !unit || unit === 'ratio') return v;
  return `${v} ${unit}`;
}

/** `1 h 02 min`, `4 min 05 s`, `12.3 s`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${trimZeros(seconds.toFixed(seconds < 10 ? 1 : 0))} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  return `${m} min ${String(r).padStart(2, '0')} s`;
}

/** `paymentsConfirmed` -> `payments confirmed`, `dlq_total` -> `dlq total`. */
export function humanize(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_]+/g, ' ')
    .toLowerCase();
}

/** ISO time as `2026-11-26 14:03:12 UTC`; anything unparsable is shown as given. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
