// k6 threshold expressions ('p(95)<100', 'rate>0.999', 'count==0') parsed once, before the run, and
// evaluated into Criterion objects for result.json. Pure: the metric values come from a MetricSource.
import type { Criterion } from '../run/result.ts';
import type { Duration } from './duration.ts';
import { parseDurationMs } from './duration.ts';

/** The four k6 metric types. */
export type MetricKind = 'trend' | 'rate' | 'counter' | 'gauge';

export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** How a metric is reduced to one number: `p` carries its percentile (0..100). */
export type Aggregation =
  | { readonly name: 'avg' | 'min' | 'max' | 'med' | 'count' | 'rate' | 'value' }
  | { readonly name: 'p'; readonly percentile: number };

/** One threshold as written in a profile: a string, or k6's object form. */
export type ThresholdEntry =
  | string
  | { readonly threshold: string; readonly abortOnFail?: boolean; readonly delayAbortEval?: Duration };

/** k6's `thresholds` option: metric (with optional `{tag:value}` filter) → expressions. */
export type Thresholds = Readonly<Record<string, readonly ThresholdEntry[]>>;

/** `http_req_duration{op:confirm}` split into metric and tag filter. */
export interface MetricSelector {
  readonly metric: string;
  readonly tags: Readonly<Record<string, string>>;
}

export interface ThresholdExpression {
  readonly aggregation: Aggregation;
  readonly comparator: Comparator;
  readonly bound: number;
}

export interface ParsedThreshold {
  /** The key as written, trimmed: `http_req_duration{op:confirm}`. */
  readonly key: string;
  readonly selector: MetricSelector;
  /** The expression as written, trimmed: `p(95)<100`. */
  readonly source: string;
  readonly expression: ThresholdExpression;
  readonly abortOnFail: boolean;
  readonly delayAbortEvalMs: number;
}

/** Where measured values come from; `null` means "no samples". */
export interface MetricSource {
  kind(metric: string): MetricKind | undefined;
  value(metric: string, tags: Readonly<Record<string, string>>, aggregation: Aggregation): number | null;
}

export type ThresholdErrorCode =
  | 'malformed_selector'
  | 'malformed_expression'
  | 'unknown_aggregation'
  | 'unknown_metric'
  | 'aggregation_not_applicable';

/** A threshold that cannot be evaluated; raised before the run starts, never in the middle of one. */
export class ThresholdError extends Error {
  readonly code: ThresholdErrorCode;
  readonly retriable = false;
  constructor(code: ThresholdErrorCode, message: string) {
    super(message);
    this.name = 'ThresholdError';
    this.code = code;
  }
}

const aggregationsByKind: Record<MetricKind, readonly string[]> = {
  trend: ['avg', 'min', 'max', 'med', 'p'],
  rate: ['rate'],
  counter: ['count', 'rate'],
  gauge: ['value', 'min', 'max'],
};
const plainAggregations = new Set(['avg', 'min', 'max', 'med', 'count', 'rate', 'value']);
const metricName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const numberLiteral = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;
const expressionShape = /^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^)]*)\))?\s*(===|==|!=|<=|>=|<|>)\s*(\S.*)$/;

/** Parses `metric` or `metric{tag:value,tag2:value2}` (k6 sub-metric syntax). */
export function parseSelector(key: string): MetricSelector {
  const text = key.trim();
  const brace = text.indexOf('{');
  const name = (brace === -1 ? text : text.slice(0, brace)).trim();
  if (!metricName.test(name)) {
    throw new ThresholdError(
      'malformed_selector',
      `threshold key '${key}': metric name '${name}' must match ${metricName.source}`,
    );
  }
  if (brace === -1) return { metric: name, tags: {} };
  if (!text.endsWith('}')) {
    throw new ThresholdError('malformed_selector', `threshold key '${key}': '{' without a closing '}'`);
  }
  const inner = text.slice(brace + 1, -1);
  if (inner.includes('{') || inner.includes('}')) {
    throw new ThresholdError('malformed_selector', `threshold key '${key}': nested braces`);
  }
  const tags: Record<string, string> = {};
  for (const raw of inner.split(',')) {
    const pair = raw.trim();
    const colon = pair.indexOf(':');
    if (colon <= 0) {
      throw new ThresholdError(
        'malformed_selector',
        `threshold key '${key}': tag filter '${pair}' must be written name:value, e.g. {op:confirm}`,
      );
    }
    const tag = pair.slice(0, colon).trim();
    const value = pair.slice(colon + 1).trim();
    if (!metricName.test(tag) || value === '') {
      throw new ThresholdError(
        'malformed_selector',
        `threshold key '${key}': tag filter '${pair}' must be written name:value, e.g. {op:confirm}`,
      );
    }
    if (tag in tags) {
      throw new ThresholdError('malformed_selector', `threshold key '${key}': tag '${tag}' appears twice`);
    }
    tags[tag] = value;
  }
  return { metric: name, tags };
}

/** Parses one k6 expression: `<aggregation> <operator> <number>`, e.g. `p(99.9) <= 250`. */
export function parseExpression(expression: string, key = '?'): ThresholdExpression {
  const text = typeof expression === 'string' ? expression.trim() : '';
  const where = `threshold '${typeof expression === 'string' ? expression : String(expression)}' on '${key}'`;
  const m = expressionShape.exec(text);
  if (!m) {
    throw new ThresholdError(
      'malformed_expression',
      `${where}: expected <aggregation><operator><number>, e.g. 'p(95)<100' or 'rate>0.999' (operators: < <= > >= == !=)`,
    );
  }
  const [, name, arg, op, boundText] = m as unknown as [string, string, string | undefined, string, string];
  let aggregation: Aggregation;
  if (name === 'p') {
    if (arg === undefined) {
      throw new ThresholdError('unknown_aggregation', `${where}: a percentile is written p(N), e.g. p(95)`);
    }
    const a = arg.trim();
    const percentile = Number(a);
    if (!numberLiteral.test(a) || percentile < 0 || percentile > 100) {
      throw new ThresholdError(
        'unknown_aggregation',
        `${where}: percentile '${arg}' must be a number within 0..100, e.g. p(95) or p(99.9)`,
      );
    }
    aggregation = { name: 'p', percentile };
  } else if (plainAggregations.has(name) && arg === undefined) {
    aggregation = { name: name as 'avg' };
  } else {
    const hint = /^p\d/.test(name) ? ` (did you mean p(${name.slice(1)})?)` : '';
    throw new ThresholdError(
      'unknown_aggregation',
      `${where}: unknown aggregation '${name}${arg === undefined ? '' : `(${arg})`}'${hint}; expected one of avg, min, max, med, p(N), rate, count, value`,
    );
  }
  const boundTrim = boundText.trim();
  if (!numberLiteral.test(boundTrim)) {
    throw new ThresholdError('malformed_expression', `${where}: bound '${boundTrim}' is not a number`);
  }
  const comparator = (op === '===' ? '==' : op) as Comparator;
  return { aggregation, comparator, bound: Number(boundTrim) };
}

/** `p(95)`, `avg`, ...: the aggregation as k6 prints it. */
export function aggregationLabel(a: Aggregation): string {
  return a.name === 'p' ? `p(${a.percentile})` : a.name;
}

/**
 * Parses a whole `thresholds` object. With `kindOf`, also rejects unknown metrics and aggregations
 * that do not apply to the metric's type (k6 refuses to start in both cases; so does this).
 */
export function parseThresholds(
  spec: Thresholds,
  kindOf?: (metric: string) => MetricKind | undefined,
): ParsedThreshold[] {
  const out: ParsedThreshold[] = [];
  for (const [rawKey, entries] of Object.entries(spec)) {
    const key = rawKey.trim();
    const selector = parseSelector(key);
    if (!Array.isArray(entries)) {
      throw new ThresholdError(
        'malformed_expression',
        `threshold key '${key}': expected an array of expressions, e.g. ['p(95)<100']`,
      );
    }
    const kind = kindOf?.(selector.metric);
    if (kindOf && !kind) {
      throw new ThresholdError(
        'unknown_metric',
        `threshold key '${key}': unknown metric '${selector.metric}'`,
      );
    }
    for (const entry of entries as readonly ThresholdEntry[]) {
      const source = typeof entry === 'string' ? entry : entry?.threshold;
      const expression = parseExpression(source, key);
      if (kind && !aggregationsByKind[kind].includes(expression.aggregation.name)) {
        throw new ThresholdError(
          'aggregation_not_applicable',
          `threshold '${source}' on '${key}': '${aggregationLabel(expression.aggregation)}' does not apply to the ${kind} metric '${selector.metric}' (use ${aggregationsByKind[kind].map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')})`,
        );
      }
      const obj = typeof entry === 'string' ? undefined : entry;
      out.push({
        key,
        selector,
        source: source.trim(),
        expression,
        abortOnFail: obj?.abortOnFail === true,
        delayAbortEvalMs: obj?.delayAbortEval
          ? parseDurationMs(obj.delayAbortEval, `delayAbortEval of '${key}'`)
          : 0,
      });
    }
  }
  return out;
}

export function compare(measured: number, comparator: Comparator, bound: number): boolean {
  switch (comparator) {
    case '<':
      return measured < bound;
    case '<=':
      return measured <= bound;
    case '>':
      return measured > bound;
    case '>=':
      return measured >= bound;
    case '==':
      return measured === bound;
    case '!=':
      return measured !== bound;
  }
}

function unitOf(kind: MetricKind | undefined, a: Aggregation): string | undefined {
  if (kind === 'trend') return 'ms';
  if (kind === 'rate') return 'ratio';
  if (kind === 'counter') return a.name === 'rate' ? '1/s' : 'count';
  return undefined;
}

/**
 * Evaluates parsed thresholds against a source. A metric with no samples is measured `null` and
 * does NOT pass: a threshold over nothing is a vacuous pass, and a vacuous pass is not a pass.
 */
export function evaluateThresholds(
  parsed: readonly ParsedThreshold[],
  source: MetricSource,
  phase: NonNullable<Criterion['phase']> = 'run',
): Criterion[] {
  return parsed.map((t) => {
    const kind = source.kind(t.selector.metric);
    const raw = source.value(t.selector.metric, t.selector.tags, t.expression.aggregation);
    const measured = raw === null || !Number.isFinite(raw) ? null : raw;
    const pass = measured !== null && compare(measured, t.expression.comparator, t.expression.bound);
    const unit = unitOf(kind, t.expression.aggregation);
    return {
      name: `${t.key} ${aggregationLabel(t.expression.aggregation)}`,
      threshold: t.source,
      measured: measured === null ? null : roundMeasured(measured),
      pass,
      phase,
      ...(unit ? { unit } : {}),
    };
  });
}

function roundMeasured(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
