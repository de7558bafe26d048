import { describe, expect, it } from 'vitest';
import { builtinMetrics, Metrics } from '../../harness/load/metrics.ts';
import type { Aggregation, MetricKind, MetricSource } from '../../harness/load/thresholds.ts';
import {
  compare,
  evaluateThresholds,
  parseExpression,
  parseSelector,
  parseThresholds,
  ThresholdError,
} from '../../harness/load/thresholds.ts';

const kindOf = (m: string) => builtinMetrics[m];

/** A fixed source: metric → kind and aggregation label → value. */
function source(
  data: Record<string, { kind: MetricKind; values: Record<string, number | null> }>,
): MetricSource {
  return {
    kind: (m) => data[m.split('{')[0]!]?.kind,
    value: (m, tags, a: Aggregation) => {
      const key = Object.keys(tags).length
        ? `${m}{${Object.entries(tags)
            .map(([k, v]) => `${k}:${v}`)
            .join(',')}}`
        : m;
      const label = a.name === 'p' ? `p(${a.percentile})` : a.name;
      return data[key]?.values[label] ?? null;
    },
  };
}

function errorOf(f: () => unknown): ThresholdError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ThresholdError);
    return err as ThresholdError;
  }
  throw new Error('expected a ThresholdError');
}

describe('k6 threshold expressions parse like k6 reads them', () => {
  it('parses every aggregation and operator k6 accepts, with or without spaces', () => {
    expect(parseExpression('p(95)<100')).toEqual({
      aggregation: { name: 'p', percentile: 95 },
      comparator: '<',
      bound: 100,
    });
    expect(parseExpression(' p( 99.9 ) <= 250 ')).toEqual({
      aggregation: { name: 'p', percentile: 99.9 },
      comparator: '<=',
      bound: 250,
    });
    expect(parseExpression('rate>0.999').aggregation).toEqual({ name: 'rate' });
    expect(parseExpression('avg>=1e3').bound).toBe(1000);
    expect(parseExpression('count==0').comparator).toBe('==');
    expect(parseExpression('count===0').comparator).toBe('==');
    expect(parseExpression('max!=-1.5')).toEqual({
      aggregation: { name: 'max' },
      comparator: '!=',
      bound: -1.5,
    });
    for (const agg of ['avg', 'min', 'max', 'med', 'count', 'rate', 'value']) {
      expect(parseExpression(`${agg}>1`).aggregation).toEqual({ name: agg });
    }
    expect(parseExpression('p(0)>=0').aggregation).toEqual({ name: 'p', percentile: 0 });
    expect(parseExpression('p(100)<1').aggregation).toEqual({ name: 'p', percentile: 100 });
  });

  it('rejects malformed expressions with a message that says what is expected', () => {
    const cases: [string, ThresholdError['code'], RegExp][] = [
      ['p95<100', 'unknown_aggregation', /did you mean p\(95\)/],
      ['p(101)<1', 'unknown_aggregation', /within 0\.\.100/],
      ['p(abc)<1', 'unknown_aggregation', /within 0\.\.100/],
      ['p<1', 'unknown_aggregation', /p\(N\)/],
      ['mean<1', 'unknown_aggregation', /unknown aggregation 'mean'/],
      ['avg(5)<1', 'unknown_aggregation', /unknown aggregation 'avg\(5\)'/],
      ['rate>', 'malformed_expression', /expected <aggregation><operator><number>/],
      ['rate 0.9', 'malformed_expression', /expected <aggregation><operator><number>/],
      ['rate=>0.9', 'malformed_expression', /not a number|expected/],
      ['rate>abc', 'malformed_expression', /bound 'abc' is not a number/],
      ['rate>0.9 and more', 'malformed_expression', /not a number/],
      ['', 'malformed_expression', /expected/],
    ];
    for (const [expr, code, message] of cases) {
      const e = errorOf(() => parseExpression(expr, 'checks'));
      expect(e.code, expr).toBe(code);
      expect(e.message, expr).toMatch(message);
      expect(e.message, expr).toContain("on 'checks'");
    }
  });

  it('parses metric selectors with tag filters, and refuses broken ones', () => {
    expect(parseSelector('http_req_duration')).toEqual({ metric: 'http_req_duration', tags: {} });
    expect(parseSelector(' http_req_duration{op:confirm} ')).toEqual({
      metric: 'http_req_duration',
      tags: { op: 'confirm' },
    });
    expect(parseSelector('http_req_duration{ op : confirm , expected_response:true }').tags).toEqual({
      op: 'confirm',
      expected_response: 'true',
    });
    // A value may itself contain a colon (check names do).
    expect(parseSelector('checks{check:create: status 201}').tags).toEqual({ check: 'create: status 201' });
    expect(errorOf(() => parseSelector('http_req_duration{op=confirm}')).message).toMatch(/name:value/);
    expect(errorOf(() => parseSelector('http_req_duration{op:confirm')).message).toMatch(/closing/);
    expect(errorOf(() => parseSelector('http-req{op:x}')).message).toMatch(/metric name/);
    expect(errorOf(() => parseSelector('m{a:1,a:2}')).message).toMatch(/twice/);
    expect(errorOf(() => parseSelector('m{a:}')).code).toBe('malformed_selector');
  });

  it('refuses unknown metrics and aggregations that do not fit the metric type before the run', () => {
    expect(errorOf(() => parseThresholds({ http_req_durations: ['p(95)<1'] }, kindOf)).code).toBe(
      'unknown_metric',
    );
    const e = errorOf(() => parseThresholds({ http_req_duration: ['rate<1'] }, kindOf));
    expect(e.code).toBe('aggregation_not_applicable');
    expect(e.message).toMatch(/trend metric 'http_req_duration' \(use avg, min, max, med, p\(N\)\)/);
    expect(errorOf(() => parseThresholds({ checks: ['p(95)<1'] }, kindOf)).code).toBe(
      'aggregation_not_applicable',
    );
    expect(errorOf(() => parseThresholds({ http_reqs: ['avg<1'] }, kindOf)).code).toBe(
      'aggregation_not_applicable',
    );
    expect(
      errorOf(() => parseThresholds({ checks: 'rate>0.9' as unknown as string[] }, kindOf)).message,
    ).toMatch(/array/);
    expect(parseThresholds({ http_reqs: ['count>1', 'rate>10'], vus: ['max<=1000'] }, kindOf)).toHaveLength(
      3,
    );
  });

  it("accepts k6's object form with abortOnFail and delayAbortEval", () => {
    const [t] = parseThresholds(
      { checks: [{ threshold: 'rate>0.99', abortOnFail: true, delayAbortEval: '10s' }] },
      kindOf,
    );
    expect(t).toMatchObject({
      key: 'checks',
      source: 'rate>0.99',
      abortOnFail: true,
      delayAbortEvalMs: 10_000,
    });
    expect(() => parseThresholds({ checks: [{ threshold: 'rate>0.99', delayAbortEval: 'soon' }] })).toThrow(
      /delayAbortEval/,
    );
  });

  it('compares with each operator exactly', () => {
    expect([
      compare(1, '<', 2),
      compare(2, '<', 2),
      compare(2, '<=', 2),
      compare(3, '>', 2),
      compare(2, '>', 2),
    ]).toEqual([true, false, true, true, false]);
    expect([compare(2, '>=', 2), compare(2, '==', 2), compare(2, '!=', 2), compare(1, '!=', 2)]).toEqual([
      true,
      true,
      false,
      true,
    ]);
  });
});

describe('thresholds evaluate into Criterion objects', () => {
  const src = source({
    http_req_duration: { kind: 'trend', values: { 'p(95)': 80, 'p(99)': 300, avg: 20 } },
    'http_req_duration{op:confirm}': { kind: 'trend', values: { 'p(95)': 120 } },
    checks: { kind: 'rate', values: { rate: 0.9995 } },
    http_reqs: { kind: 'counter', values: { count: 1000, rate: 16.6666666667 } },
    dropped_iterations: { kind: 'counter', values: { count: 0 } },
  });

  it('names each criterion after key and aggregation, with threshold, measured value, unit and phase', () => {
    const parsed = parseThresholds({
      'http_req_duration{op:confirm}': ['p(95)<100'],
      http_req_duration: ['p(95)<100', 'p(99)<250', 'avg<50'],
      checks: ['rate>0.999'],
      http_reqs: ['count>=1000', 'rate>10'],
      dropped_iterations: ['count==0'],
    });
    const cs = evaluateThresholds(parsed, src, 'during');
    expect(cs).toEqual([
      {
        name: 'http_req_duration{op:confirm} p(95)',
        threshold: 'p(95)<100',
        measured: 120,
        pass: false,
        phase: 'during',
        unit: 'ms',
      },
      {
        name: 'http_req_duration p(95)',
        threshold: 'p(95)<100',
        measured: 80,
        pass: true,
        phase: 'during',
        unit: 'ms',
      },
      {
        name: 'http_req_duration p(99)',
        threshold: 'p(99)<250',
        measured: 300,
        pass: false,
        phase: 'during',
        unit: 'ms',
      },
      {
        name: 'http_req_duration avg',
        threshold: 'avg<50',
        measured: 20,
        pass: true,
        phase: 'during',
        unit: 'ms',
      },
      {
        name: 'checks rate',
        threshold: 'rate>0.999',
        measured: 0.9995,
        pass: true,
        phase: 'during',
        unit: 'ratio',
      },
      {
        name: 'http_reqs count',
        threshold: 'count>=1000',
        measured: 1000,
        pass: true,
        phase: 'during',
        unit: 'count',
      },
      {
        name: 'http_reqs rate',
        threshold: 'rate>10',
        measured: 16.666667,
        pass: true,
        phase: 'during',
        unit: '1/s',
      },
      {
        name: 'dropped_iterations count',
        threshold: 'count==0',
        measured: 0,
        pass: true,
        phase: 'during',
        unit: 'count',
      },
    ]);
    expect(evaluateThresholds(parsed, src)[0]!.phase).toBe('run');
  });

  it('fails a threshold over a metric without samples: a vacuous pass is not a pass', () => {
    const cs = evaluateThresholds(
      parseThresholds({ 'http_req_duration{op:dashboard}': ['p(95)<100'], iteration_duration: ['avg<1'] }),
      src,
    );
    expect(cs.map((c) => [c.measured, c.pass])).toEqual([
      [null, false],
      [null, false],
    ]);
  });

  it('works end to end on recorded metrics, tag filters included', () => {
    const m = new Metrics();
    for (let i = 1; i <= 100; i++)
      m.addTrend('http_req_duration', { op: 'confirm', expected_response: 'true' }, i, 0);
    for (let i = 1; i <= 100; i++)
      m.addTrend('http_req_duration', { op: 'create', expected_response: 'true' }, 1000 + i, 0);
    for (let i = 0; i < 1000; i++) m.addRate('checks', { check: 'a' }, i !== 0, 0);
    m.addCount('http_reqs', { op: 'confirm' }, 100, 0);
    const parsed = parseThresholds(
      {
        'http_req_duration{op:confirm}': ['p(95)<100', 'max<=100', 'min>=1'],
        'http_req_duration{op:confirm,expected_response:true}': ['med<=51'],
        http_req_duration: ['p(95)<100'],
        checks: ['rate>0.999', 'rate>=0.999'],
        'checks{check:a}': ['rate==0.999'],
        http_reqs: ['rate==10'],
      },
      (x) => m.kind(x),
    );
    const cs = evaluateThresholds(parsed, m.runView(10));
    expect(cs.map((c) => `${c.name} ${c.threshold} ${c.pass}`)).toEqual([
      'http_req_duration{op:confirm} p(95) p(95)<100 true',
      'http_req_duration{op:confirm} max max<=100 true',
      'http_req_duration{op:confirm} min min>=1 true',
      'http_req_duration{op:confirm,expected_response:true} med med<=51 true',
      'http_req_duration p(95) p(95)<100 false',
      'checks rate rate>0.999 false',
      'checks rate rate>=0.999 true',
      'checks{check:a} rate rate==0.999 true',
      'http_reqs rate rate==10 true',
    ]);
  });
});
