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
  // End to end: the event's own timestamp (when its cause committed, on the app clock) to the commit
  // of this group's transaction that handled it. Includes the outbox, the relay, Kafka, the wait in
  // a partition and the retries; duplicates (inbox hits) are not observed.
  e2eSeconds: make.histogram(
    'payproof_event_e2e_seconds',
    "Event timestamp to the commit of the group's handling of it",
    ['group'],
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  ),
  groupLag: make.gauge(
    'payproof_consumer_group_lag',
    "Messages the group's committed offsets are behind the topic's end, read from the broker on a timer",
    ['group', 'topic'],
  ),
  lagReadAt: make.gauge(
    'payproof_consumer_group_lag_timestamp_seconds',
    'Unix time of the last successful read of payproof_consumer_group_lag',
    ['group'],
  ),
  dlqMessages: make.gauge(
    'payproof_dlq_messages',
    "Messages in the group's dead-letter topic (high minus low watermark), read from the broker on a timer",
    ['group'],
  ),
  retriesExhausted: make.counter(
    'payproof_retries_exhausted_total',
    'Retry loops that gave up (the event went to the dead-letter topic, or the action was parked)',
    ['component', 'reason'],
  ),
  constraintViolations: make.counter(
    'payproof_constraint_violations_total',
    'Integrity-constraint errors (SQLSTATE class 23) a handler threw and that were dead-lettered',
    ['group'],
  ),
  dependencyUp: make.gauge(
    'payproof_dependency_up',
    '1 when the last readiness probe of the dependency (database, kafka, redis) succeeded',
    ['dependency'],
  ),
  pendingInvalidations: make.gauge(
    'payproof_pending_invalidations',
    'Dashboard invalidations parked in the database after Redis refused them, waiting for a retry',
    [],
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
  outboxBacklog: make.gauge(
    'payproof_outbox_backlog',
    'Outbox rows published to no transport yet (neither Kafka nor the Redis Streams fallback), counted by the relay every second',
    [],
  ),
  outboxOldestSeconds: make.gauge(
    'payproof_outbox_oldest_age_seconds',
    'Age of the oldest outbox row published to no transport yet (0 when none), read by the relay every second',
    [],
  ),
  httpShed: make.counter(
    'payproof_http_requests_shed_total',
    'Requests refused with 503 overloaded because the API already held its bound of requests in flight',
    [],
  ),
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
  // Issue 15: the fallback transport (Redis Streams).
  transportActive: make.gauge(
    'payproof_transport_active',
    '1 for the transport the relay publishes to now (kafka, or stream: the Redis Streams fallback), 0 for the other',
    ['transport'],
  ),
  transportSwitches: make.counter(
    'payproof_transport_switches_total',
    "The relay's circuit breaker moving between transports, by the transport moved to",
    ['to'],
  ),
  transportEvents: make.counter(
    'payproof_transport_events_total',
    'Events by transport: published by the relay (outcome published), consumed by a worker (outcome applied, already-done, duplicate, dead-lettered)',
    ['transport', 'stage', 'outcome'],
  ),
  outboxFallbackOnly: make.gauge(
    'payproof_outbox_fallback_only',
    'Outbox rows that went through the Redis Streams fallback and are not in Kafka yet, counted by the relay every second',
    [],
  ),
  fallbackPending: make.gauge(
    'payproof_fallback_pending_entries',
    "Stream entries given to the group's consumers and not acknowledged yet (XINFO GROUPS pending), read every 2 s",
    ['group', 'stream'],
  ),
  fallbackLag: make.gauge(
    'payproof_fallback_lag_entries',
    'Stream entries not given to any consumer of the group yet (XINFO GROUPS lag), read every 2 s',
    ['group', 'stream'],
  ),
};

/**
 * A tiny /metrics server for processes that have no HTTP server of their own. `/healthz` is
 * liveness (the process runs: a supervisor must not restart a process only because its database is
 * away); `/readyz` is readiness: 503 with each dependency's state while one does not answer.
 */
export function startMetricsServer(
  port: number,
  // METRICS_HOST: 0.0.0.0 in a container, where the scraper is on another network namespace.
  host = process.env.METRICS_HOST ?? '127.0.0.1',
  readiness?: { state(): { ready: boolean } },
): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('content-type', registry.contentType);
      res.end(await registry.metrics());
    } else if (req.url === '/healthz') {
      res.end('ok');
    } else if (req.url === '/readyz') {
      const state = readiness?.state() ?? { ready: true };
      res.statusCode = state.ready ? 200 : 503;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(state));
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
