// k6-style durations ('500ms', '30s', '1m30s', '1.5h') so that profiles read like k6 options.

const unitMs: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A k6 duration string: one or more `<number><ms|s|m|h>` parts, e.g. `'1m30s'`. */
export type Duration = string;

/** Parses a k6 duration into milliseconds; throws a message naming `what` on anything else. */
export function parseDurationMs(value: Duration, what = 'duration'): number {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`${what}: expected a duration such as '30s' or '1m30s', got ${JSON.stringify(value)}`);
  }
  const text = value.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = part.exec(text); m; m = part.exec(text)) {
    total += Number(m[1]) * unitMs[m[2]!]!;
    consumed = part.lastIndex;
  }
  if (consumed !== text.length || consumed === 0) {
    throw new Error(
      `${what}: ${JSON.stringify(value)} is not a duration (use <number><ms|s|m|h> parts, e.g. '30s', '1m30s', '500ms')`,
    );
  }
  return total;
}

/** Renders milliseconds the way k6 prints durations: `850ms`, `12.5s`, `2m5s`. */
export function formatDurationMs(ms: number): string {
  if (ms < 1_000) return `${round(ms, 2)}ms`;
  if (ms < 60_000) return `${round(ms / 1_000, 2)}s`;
  const m = Math.floor(ms / 60_000);
  const s = round((ms - m * 60_000) / 1_000, 1);
  return s === 0 ? `${m}m` : `${m}m${s}s`;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
