// Time-series charts as static SVG, generated when the report is built: no charting library,
// no script, nothing fetched. Every chart of a page gets the same x domain and the same plot
// margins, so charts stacked vertically share one time axis and a fault band lines up across
// all of them (the Jepsen latency plot, with its nemesis intervals shaded). Inline SVG in HTML
// needs no xmlns, and the page must not contain a single URL.
import type { FaultInterval } from '../run/result.ts';
import { esc, formatNumber } from './html.ts';

/** Geometry in SVG user units; the SVG scales to the page width. */
const W = 960;
const M = { left: 60, right: 14, top: 20, bottom: 22 };
const plotW = W - M.left - M.right;

export interface Series {
  readonly key: string;
  readonly label: string;
  readonly color: string;
  /** [seconds since start, value], sorted by time. */
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
}

export interface ChartSpec {
  readonly id: string;
  readonly series: readonly Series[];
  /** Shared by every chart of the page. */
  readonly xDomain: readonly [number, number];
  readonly faults: readonly FaultInterval[];
  /** Height of the plot area in SVG units. */
  readonly plotHeight?: number;
  /** Drawn under the x axis of the last chart only. */
  readonly xTitle?: string;
  /** Accessible name of the chart. */
  readonly title: string;
}

/** Fault band tints, cycled; chosen to stay distinguishable from the series colours. */
export const faultTints = ['#f5a524', '#a475f9', '#2bb3a0', '#e8618c', '#8a9bb0'];

export function timeChart(spec: ChartSpec): string {
  const plotH = spec.plotHeight ?? 130;
  const H = M.top + plotH + M.bottom + (spec.xTitle ? 16 : 0);
  const [x0, x1] = spec.xDomain;
  const sx = (t: number) => M.left + ((t - x0) / (x1 - x0 || 1)) * plotW;
  // Loops, not Math.max(...values): a long run has more points than a call has arguments.
  let yMaxRaw = 0;
  let yMinRaw = 0;
  for (const s of spec.series)
    for (const p of s.points) {
      if (p[1] > yMaxRaw) yMaxRaw = p[1];
      if (p[1] < yMinRaw) yMinRaw = p[1];
    }
  const yTicks = niceTicks(yMinRaw, yMaxRaw > yMinRaw ? yMaxRaw : yMinRaw + 1, 4);
  const y0 = yTicks[0]!;
  const y1 = yTicks[yTicks.length - 1]!;
  const sy = (v: number) => M.top + plotH - ((v - y0) / (y1 - y0 || 1)) * plotH;
  const clipId = `clip-${spec.id}`;

  const parts: string[] = [];
  parts.push(
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(spec.title)}" data-chart="${esc(spec.id)}">`,
    // The clip reaches 3 units past the plot so a line at the top tick is not cut in half.
    `<defs><clipPath id="${esc(clipId)}"><rect x="${M.left}" y="${M.top - 3}" width="${plotW + 3}" height="${plotH + 6}"/></clipPath></defs>`,
  );

  // Fault bands first, so that gridlines and data stay readable on top of them.
  const labels = placeLabels(spec.faults, sx, x0, x1);
  spec.faults.forEach((f, i) => {
    const start = Math.max(x0, Math.min(x1, f.startS));
    const end = Math.max(start, Math.min(x1, f.endS ?? x1));
    const bx = sx(start);
    const bw = Math.max(1.5, sx(end) - bx);
    const tint = faultTints[i % faultTints.length]!;
    const tip = `${faultName(f, i)}: ${f.kind} on ${f.target}, ${formatNumber(f.startS)} s to ${f.endS === null ? 'end (never healed)' : `${formatNumber(f.endS)} s`}`;
    const label = labels[i]!;
    parts.push(
      `<g class="fault" data-fault="${i}"><title>${esc(tip)}</title>`,
      `<rect class="fault-band" x="${r(bx)}" y="${M.top}" width="${r(bw)}" height="${plotH}" fill="${tint}" fill-opacity="0.14"/>`,
      `<line x1="${r(bx)}" x2="${r(bx)}" y1="${M.top - 4}" y2="${M.top + plotH}" stroke="${tint}" stroke-width="1.2"/>`,
      f.endS === null
        ? ''
        : `<line x1="${r(bx + bw)}" x2="${r(bx + bw)}" y1="${M.top}" y2="${M.top + plotH}" stroke="${tint}" stroke-width="1" stroke-dasharray="3 3"/>`,
      `<text class="fault-label" x="${r(label.x)}" y="${M.top - 6}"${label.anchorEnd ? ' text-anchor="end"' : ''} fill="${shade(tint)}">${esc(label.text)}</text>`,
      '</g>',
    );
  });

  // Y grid and ticks.
  for (const v of yTicks) {
    const y = r(sy(v));
    parts.push(
      `<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}"/>`,
      `<text class="tick" x="${M.left - 8}" y="${y}" dy="0.32em" text-anchor="end">${esc(formatNumber(v))}</text>`,
    );
  }
  // X ticks (time).
  const xTicks = timeTicks(x0, x1);
  for (const t of xTicks) {
    const x = r(sx(t));
    parts.push(
      `<line class="grid grid-x" x1="${x}" x2="${x}" y1="${M.top}" y2="${M.top + plotH}"/>`,
      `<line class="axis" x1="${x}" x2="${x}" y1="${M.top + plotH}" y2="${M.top + plotH + 4}"/>`,
      `<text class="tick" x="${x}" y="${M.top + plotH + 16}" text-anchor="middle">${esc(formatClock(t, x1 - x0))}</text>`,
    );
  }
  parts.push(
    `<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${M.top + plotH}" y2="${M.top + plotH}"/>`,
    `<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}"/>`,
  );
  if (spec.xTitle)
    parts.push(
      `<text class="axis-title" x="${M.left + plotW / 2}" y="${H - 3}" text-anchor="middle">${esc(spec.xTitle)}</text>`,
    );

  // Data.
  parts.push(`<g clip-path="url(#${esc(clipId)})">`);
  for (const s of spec.series) {
    const pts = decimate(s.points, plotW * 2);
    const segs = splitAtGaps(pts);
    const d = segs
      .map((seg) => seg.map((p, j) => `${j === 0 ? 'M' : 'L'}${r(sx(p[0]))},${r(sy(p[1]))}`).join(''))
      .join('');
    parts.push(
      `<path class="series" data-series="${esc(s.key)}" data-points="${pts.length}" d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round"${s.dashed ? ' stroke-dasharray="5 3"' : ''}><title>${esc(s.label)}</title></path>`,
    );
    // A segment of one point draws nothing as a path: mark it.
    for (const seg of segs)
      if (seg.length === 1)
        parts.push(`<circle cx="${r(sx(seg[0]![0]))}" cy="${r(sy(seg[0]![1]))}" r="2" fill="${s.color}"/>`);
  }
  parts.push('</g></svg>');
  return parts.join('');
}

/** Rough width of label text in SVG units (11 px system font: ~6.3 units a character). */
const textWidth = (s: string) => s.length * 6.3 + 4;

/**
 * Labels above the plot, left to right without overlapping: the full `① label` where it fits,
 * else the mark `①` alone (the fault table above the charts and the band's tooltip name it).
 * A label that would run off the right edge is right-aligned to its band's start instead.
 */
function placeLabels(
  faults: readonly FaultInterval[],
  sx: (t: number) => number,
  x0: number,
  x1: number,
): { x: number; text: string; anchorEnd: boolean }[] {
  const out = faults.map(() => ({ x: 0, text: '', anchorEnd: false }));
  const order = faults
    .map((f, i) => ({ i, x: sx(Math.max(x0, Math.min(x1, f.startS))) }))
    .sort((a, b) => a.x - b.x);
  let free = Number.NEGATIVE_INFINITY;
  const right = W - M.right;
  order.forEach(({ i, x }, k) => {
    const next = order[k + 1]?.x ?? Number.POSITIVE_INFINITY;
    const full = faultName(faults[i]!, i);
    const short = faultMark(i);
    const start = Math.max(x + 4, free + 6);
    // The full label must neither hit the previous label nor reach past the next band's start.
    for (const text of [full, short]) {
      const w = textWidth(text);
      const limit = text === full ? Math.min(right, next) : right;
      if (start + w <= limit || text === short) {
        if (start + w > right) {
          out[i] = { x: x - 4, text, anchorEnd: true };
          free = x;
        } else {
          out[i] = { x: start, text, anchorEnd: false };
          free = start + w;
        }
        return;
      }
    }
  });
  return out;
}

/** `①` … `⑳`, then `(21)`: a short, stable handle for a fault on every chart. */
export function faultMark(i: number): string {
  return i < 20 ? String.fromCodePoint(0x2460 + i) : `(${i + 1})`;
}

export function faultName(f: FaultInterval, i: number): string {
  return `${faultMark(i)} ${f.label}`;
}

/** Ticks at 1, 2 or 5 × 10^k covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  for (let v = start; v < hi + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks.length < 2) ticks.push(start + step);
  return ticks;
}

const timeSteps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

function timeTicks(x0: number, x1: number): number[] {
  const step = timeSteps.find((s) => (x1 - x0) / s <= 12) ?? 3600;
  const ticks: number[] = [];
  for (let t = Math.ceil(x0 / step) * step; t <= x1 + 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Seconds for short runs, m:ss beyond three minutes. */
function formatClock(t: number, span: number): string {
  if (span <= 180) return `${formatNumber(t)} s`;
  const m = Math.floor(t / 60);
  const s = Math.round(t % 60);
  return `${m}:${String(s).padStart(2, '0')}`;
}

/**
 * Breaks a line where samples are missing: a scrape gap over 5× the median interval (a paused
 * process, a stalled scraper) must show as a gap, not as a straight line inventing data.
 */
function splitAtGaps(pts: readonly (readonly [number, number])[]): (readonly [number, number])[][] {
  if (pts.length < 3) return pts.length ? [[...pts]] : [];
  const dts = pts
    .slice(1)
    .map((p, i) => p[0] - pts[i]![0])
    .sort((a, b) => a - b);
  const limit = 5 * (dts[Math.floor(dts.length / 2)] || 1);
  const segs: (readonly [number, number])[][] = [[pts[0]!]];
  for (let i = 1; i < pts.length; i++) {
    if (pts[i]![0] - pts[i - 1]![0] > limit) segs.push([]);
    segs[segs.length - 1]!.push(pts[i]!);
  }
  return segs;
}

/** Keeps the min and max of each of `buckets` time buckets: peaks survive, file size stays bounded. */
function decimate(
  pts: readonly (readonly [number, number])[],
  buckets: number,
): readonly (readonly [number, number])[] {
  if (pts.length <= buckets) return pts;
  const t0 = pts[0]![0];
  const span = pts[pts.length - 1]![0] - t0 || 1;
  const out: (readonly [number, number])[] = [];
  let bucket = -1;
  let lo: readonly [number, number] | undefined;
  let hi: readonly [number, number] | undefined;
  const flush = () => {
    if (!lo || !hi) return;
    if (lo === hi) out.push(lo);
    else out.push(...(lo[0] < hi[0] ? [lo, hi] : [hi, lo]));
  };
  for (const p of pts) {
    const b = Math.floor(((p[0] - t0) / span) * (buckets / 2 - 1));
    if (b !== bucket) {
      flush();
      bucket = b;
      lo = hi = p;
    } else {
      if (p[1] < lo![1]) lo = p;
      if (p[1] > hi![1]) hi = p;
    }
  }
  flush();
  return out;
}

/** A darker version of a tint, for text that must stay readable on white. */
function shade(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const f = (v: number) => Math.round(v * 0.62);
  const [rr, gg, bb] = [f((n >> 16) & 255), f((n >> 8) & 255), f(n & 255)];
  return `#${((rr << 16) | (gg << 8) | bb).toString(16).padStart(6, '0')}`;
}

const r = (v: number) => Math.round(v * 10) / 10;
