// The history section of the run page: counts by operation × outcome over the whole history,
// every `info` operation (outcome unknown: the checker treats it as possibly applied), and the
// first and last operations verbatim. Bounded, so a load run's history does not bloat the page.
import type { HistoryOp } from '../run/history.ts';
import { esc, formatNumber, show } from './html.ts';

const types = ['invoke', 'ok', 'fail', 'info'] as const;

export interface HistorySummary {
  readonly total: number;
  /** op -> type -> count. */
  readonly counts: ReadonlyMap<string, Readonly<Record<string, number>>>;
  readonly info: readonly HistoryOp[];
  readonly head: readonly HistoryOp[];
  readonly tail: readonly HistoryOp[];
}

/** How many operations the page shows verbatim at each end of the history. */
export const historyEdge = 200;

export function summarizeHistory(history: readonly HistoryOp[], edge = historyEdge): HistorySummary {
  const counts = new Map<string, Record<string, number>>();
  for (const o of history) {
    const c = counts.get(o.op) ?? { invoke: 0, ok: 0, fail: 0, info: 0 };
    c[o.type] = (c[o.type] ?? 0) + 1;
    counts.set(o.op, c);
  }
  const head = history.slice(0, edge);
  const tail = history.length > edge ? history.slice(Math.max(edge, history.length - edge)) : [];
  return { total: history.length, counts, info: history.filter((o) => o.type === 'info'), head, tail };
}

export function historySection(history: readonly HistoryOp[] | null, maxInfo = 200): string {
  if (!history) return '<p class="muted">No history.jsonl in this run folder.</p>';
  if (history.length === 0) return '<p class="muted">history.jsonl is empty.</p>';
  const s = summarizeHistory(history);
  const t0 = history.reduce((m, o) => Math.min(m, o.timeNs), Number.POSITIVE_INFINITY);
  const ops = [...s.counts.keys()].sort();
  const countRows = ops
    .map((op) => {
      const c = s.counts.get(op)!;
      return `<tr><td><code>${esc(op)}</code></td>${types.map((t) => `<td class="num${t !== 'invoke' && t !== 'ok' && c[t] ? ` t-${t}` : ''}">${formatNumber(c[t] ?? 0)}</td>`).join('')}</tr>`;
    })
    .join('');
  const infoList =
    s.info.length === 0
      ? '<p class="muted">No operation ended as <code>info</code>: every outcome is known.</p>'
      : `<p>${formatNumber(s.info.length)} operation(s) ended as <code>info</code> (outcome unknown; the checker counts them as possibly applied)${s.info.length > maxInfo ? `, first ${maxInfo} shown` : ''}:</p>${opsTable(s.info.slice(0, maxInfo), t0)}`;
  const tail =
    s.tail.length > 0
      ? `<h4>Last ${s.tail.length} operations</h4>${history.length > s.head.length + s.tail.length ? `<p class="muted">${formatNumber(history.length - s.head.length - s.tail.length)} operations in between not shown.</p>` : ''}${opsTable(s.tail, t0)}`
      : '';
  return `<p>${formatNumber(s.total)} operations recorded.</p>
<table class="data compact counts"><thead><tr><th>op</th>${types.map((t) => `<th class="num">${t}</th>`).join('')}</tr></thead><tbody>${countRows}</tbody></table>
<h4>Operations with unknown outcome</h4>${infoList}
<h4>First ${s.head.length} operations</h4>${opsTable(s.head, t0)}${tail}`;
}

function opsTable(ops: readonly HistoryOp[], t0: number): string {
  const rows = ops
    .map(
      (o) =>
        `<tr><td class="num">${esc(o.index)}</td><td class="num">${((o.timeNs - t0) / 1e9).toFixed(3)}</td><td><code>${esc(o.op)}</code></td><td><span class="t t-${esc(o.type)}">${esc(o.type)}</span></td><td>${esc(o.process)}</td><td class="ids">${
          o.ids
            ? Object.entries(o.ids)
                .map(([k, v]) => idPair(k, v))
                .join(' ')
            : ''
        }</td><td>${esc([o.status, o.error].filter((x) => x !== undefined && x !== null).join(' '))}${o.value !== undefined ? ` <code>${esc(clip(show(o.value), 120))}</code>` : ''}</td></tr>`,
    )
    .join('');
  return `<table class="data compact ops"><thead><tr><th class="num">#</th><th class="num">t (s)</th><th>op</th><th>type</th><th>process</th><th>ids</th><th>status / error / value</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID shortened to its first 8 digits (the full id in the tooltip): one op, one line. */
function idPair(k: string, v: unknown): string {
  const s = String(v);
  const shown = uuid.test(s) ? `${s.slice(0, 8)}…` : s;
  return `<span class="id">${esc(k)}=<code title="${esc(s)}">${esc(shown)}</code></span>`;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
