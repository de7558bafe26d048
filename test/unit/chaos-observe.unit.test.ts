// What the run reads from the processes' /metrics: the text format, sums by label, and counters
// that survive a process restart (a SIGKILLed worker starts counting from zero again).
import { describe, expect, it } from 'vitest';
import { maxLag } from '../../harness/chaos/observe.ts';
import { CounterTotals, parsePrometheus, sumBy, sumOf } from '../../harness/chaos/scrape.ts';

const page = `# HELP payproof_events_processed_total Events handled
# TYPE payproof_events_processed_total counter
payproof_events_processed_total{group="purchase-worker",type="PURCHASE_CONFIRMED",outcome="applied"} 120
payproof_events_processed_total{group="purchase-worker",type="PURCHASE_CONFIRMED",outcome="duplicate"} 7
payproof_consumer_lag{group="purchase-worker",topic="payments.purchase-confirmed.v1",partition="0"} 3
payproof_consumer_lag{group="purchase-worker",topic="payments.purchase-confirmed.v1",partition="1"} 4
payproof_retries_total{component="allocation-worker",reason="40P01"} 2
payproof_outbox_backlog 15
process_start_time_seconds 1.795e9
weird{label="a \\"quoted\\" value"} 1
broken line
payproof_http_request_duration_seconds_bucket{le="+Inf"} 9
`;

describe('Prometheus text', () => {
  const samples = parsePrometheus(page);

  it('parses names, labels (escapes included) and values; skips comments and garbage', () => {
    expect(samples.find((s) => s.name === 'payproof_outbox_backlog')?.value).toBe(15);
    expect(samples.find((s) => s.name === 'weird')?.labels.label).toBe('a "quoted" value');
    expect(samples.find((s) => s.name === 'process_start_time_seconds')?.value).toBe(1.795e9);
    expect(samples.some((s) => s.name === 'broken')).toBe(false);
    expect(samples.find((s) => s.labels.le === '+Inf')?.value).toBe(9);
  });

  it('sums with a label filter and groups by a label', () => {
    expect(sumOf(samples, 'payproof_events_processed_total')).toBe(127);
    expect(sumOf(samples, 'payproof_events_processed_total', { outcome: 'duplicate' })).toBe(7);
    expect(sumBy(samples, 'payproof_consumer_lag', 'group')).toEqual({ 'purchase-worker': 7 });
  });
});

describe('CounterTotals', () => {
  it('carries a counter over a restart of its process', () => {
    const t = new CounterTotals();
    t.observe('purchase-worker#1', 'processed', 100);
    t.observe('purchase-worker#1', 'processed', 150);
    t.observe('purchase-worker#2', 'processed', 40);
    expect(t.total('processed')).toBe(190);
    // SIGKILL and restart: the new incarnation counts from zero.
    expect(t.observe('purchase-worker#1', 'processed', 5)).toBe(155);
    t.observe('purchase-worker#1', 'processed', 30);
    expect(t.total('processed')).toBe(220);
    expect(t.total('other')).toBe(0);
  });
});

describe('maxLag', () => {
  it('is the largest lag_<group> of a sample', () => {
    expect(maxLag({ 'lag_purchase-worker': 3, 'lag_cache-worker': 12, outbox_backlog: 99 })).toBe(12);
    expect(maxLag({ outbox_backlog: 1 })).toBeUndefined();
  });
});
