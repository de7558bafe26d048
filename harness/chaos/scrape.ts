// Reads the processes' /metrics (Prometheus text format) during a run. Counters restart from zero
// when a process is killed and restarted, so totals are kept per process and carried over a reset:
// the run's figure is what every incarnation counted.

/** One sample line: `name{label="v",...} value`. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const lineRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text exposition format; comments, blank and malformed lines are skipped. */
export function parsePrometheus(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = lineRe.exec(line);
    if (!m) continue;
    const value =
      m[3] === '+Inf' ? Number.POSITIVE_INFINITY : m[3] === '-Inf' ? Number.NEGATIVE_INFINITY : Number(m[3]);
    if (Number.isNaN(value)) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(labelRe))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Sum of a metric's samples whose labels match `where`. */
export function sumOf(
  samples: readonly PromSample[],
  name: string,
  where: Readonly<Record<string, string>> = {},
): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

/** Sums of a metric grouped by one label. */
export function sumBy(samples: readonly PromSample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name) continue;
    const k = s.labels[label] ?? '';
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}

/**
 * Cumulative counters across process restarts: per (process, series) the last value seen and what
 * earlier incarnations had counted; a value lower than the last one means the process restarted.
 */
export class CounterTotals {
  #last = new Map<string, number>();
  #carried = new Map<string, number>();

  /** Records one process's current value of a series; returns that process's cumulative total. */
  observe(processName: string, series: string, value: number): number {
    const key = `${processName}\u0000${series}`;
    const last = this.#last.get(key);
    if (last !== undefined && value < last) this.#carried.set(key, (this.#carried.get(key) ?? 0) + last);
    this.#last.set(key, value);
    return (this.#carried.get(key) ?? 0) + value;
  }

  /** The cumulative total of a series over every process. */
  total(series: string): number {
    let sum = 0;
    for (const [key, v] of this.#last) {
      if (key.endsWith(`\u0000${series}`)) sum += v + (this.#carried.get(key) ?? 0);
    }
    return sum;
  }
}

/** Fetches one /metrics page, bounded; undefined when the process does not answer (stopped, restarting). */
/** `port` on this machine, or a base URL (a process of an external target: `http://host:9401`). */
export async function scrape(port: number | string, timeoutMs = 700): Promise<PromSample[] | undefined> {
  try {
    const base = typeof port === 'number' ? `http://127.0.0.1:${port}` : port.replace(/\/$/, '');
    const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    return parsePrometheus(await res.text());
  } catch {
    return undefined;
  }
}
