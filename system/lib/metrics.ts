// prom-client metrics shared by every process; each process exposes them on /metrics.
import { createServer, type Server } from 'node:http';
import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

const make = {
  counter: (name: string, help: string, labelNames: string[]) =>
    new client.Counter({ name, help, labelNames, registers: [registry] }),
  gauge: (name: string, help: string, labelNames: string[]) =>
    new client.Gauge({ name, help, labelNames, registers: [registry] }),
  histogram: (name: string, help: string, labelNames: string[], buckets: number[]) =>
    new client.Histogram({ name, help, labelNames, buckets, registers: [registry] }),
};

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const metrics = {
  paymentsExpired: make.counter(
    'payproof_payments_expired_total',
    'Pending payments failed by the expiry sweep (no provider event in time)',
    [],
  ),
  webhookEvents: make.counter(
    'payproof_webhook_events_total',
    'Provider events applied by the webhook (first delivery), by outcome',
    ['outcome'],
  ),
  webhookRefused: make.counter(
    'payproof_webhook_refused_total',
    'Webhooks refused before parsing: missing, malformed, stale or mismatched signature',
    ['reason'],
  ),
  eventsEmitted: make.counter('payproof_events_emitted_total', 'Events written to the outbox, by type', [
    'type',
  ]),
  eventsPublished: make.counter(
    'payproof_events_published_total',
    'Outbox events acknowledged by Kafka, by type',
    ['type'],
  ),
  eventsProcessed: make.counter(
    'payproof_events_processed_total',
    'Events handled, by group, type and outcome',
    ['group', 'type', 'outcome'],
  ),
  processingSeconds: make.histogram(
    'payproof_event_processing_seconds',
    'Time from a batch fetched to its transaction committed, per event',
    ['group'],
    latencyBuckets,
  ),
  consumerLag: make.gauge('payproof_consumer_lag', 'Messages behind the high watermark (queue depth)', [
    'group',
    'topic',
    'partition',
  ]),
  deadLetters: make.counter('payproof_dead_letters_total', 'Messages sent to the dead-letter topic', [
    'group',
    'reason',
  ]),
  idempotencyHits: make.counter(
    'payproof_idempotency_hits_total',
    'Events already recorded in the inbox (duplicates absorbed)',
    ['group'],
  ),
  constraintConflicts: make.counter(
    'payproof_constraint_conflicts_total',
    'Domain unique-constraint conflicts treated as already done',
    ['group', 'constraint'],
  ),
  retries: make.counter('payproof_retries_total', 'Retries after a transient error', ['component', 'reason']),
  outboxBacklog: make.gauge('payproof_outbox_backlog', 'Unpublished outbox rows seen by the relay', []),
  httpDuration: make.histogram(
    'payproof_http_request_duration_seconds',
    'HTTP request latency',
    ['method', 'route', 'status'],
    latencyBuckets,
  ),
  sessionsToppedUp: make.counter(
    'payproof_sessions_topped_up_total',
    'Sessions created by the top-up job',
    [],
  ),
  rebalances: make.counter(
    'payproof_rebalances_total',
    'Consumer group joins (each one follows a rebalance)',
    ['group'],
  ),
  up: make.gauge('payproof_up', '1 while the process runs', ['service']),
};

/** A tiny /metrics server for processes that have no HTTP server of their own. */
export function startMetricsServer(port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
    } else if (req.url === '/healthz') {
      res.end('ok');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
