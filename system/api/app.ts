// buildApp(deps) builds the HTTP app; listening is separate so tests can use app.inject.

import rateLimit from '@fastify/rate-limit';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Redis } from 'ioredis';
import type { Pool } from '../lib/db.ts';
import { isTransient } from '../lib/errors.ts';
import type { FaultSet } from '../lib/faults.ts';
import type { Logger } from '../lib/log.ts';
import { metrics, registry } from '../lib/metrics.ts';
import { Readiness } from '../lib/readiness.ts';
import { loadSecrets, type Secrets } from '../lib/secrets.ts';
import { authenticator } from './auth.ts';
import { registerDashboardRoutes } from './dashboard.ts';
import { sendError } from './errors.ts';
import { registerPaymentRoutes, SignatureError } from './payments.ts';

export interface AppDeps {
  readonly pool: Pool;
  readonly redis: Redis;
  readonly log: Logger;
  /**
   * Batches of creates (and of confirmations) in flight at once; calls that arrive while all are
   * busy ride together in the next batch (group commit). Default 4: half of a 16-connection pool
   * for writes, the rest for reads.
   */
  readonly paymentBatchSlots?: number;
  /**
   * With a batch of creates (or confirmations) in flight, the next leaves only once the latest has
   * been out this long, in ms, or when every batch has come back (system/lib/batcher.ts). Default 0:
   * as soon as a slot is free. An experiment (docs/benchmarks.md, twenty-third round).
   */
  readonly paymentBatchSpreadMs?: number;
  /** Planted bugs (PAYPROOF_FAULTS); none by default. */
  readonly faults?: FaultSet;
  /** Level of the one line per payment request (`info`; `debug` turns it off at LOG_LEVEL=info). */
  readonly requestLogLevel?: 'info' | 'debug' | 'trace';
  /** Dependency probes behind /readyz; default: the database and Redis of these deps. */
  readonly readiness?: Readiness;
  /** Webhook and token secrets; the public dev ones by default (tests). */
  readonly secrets?: Secrets;
  /** Provider webhooks signed further than this from now are stale (default 300 s, Stripe's). */
  readonly webhookToleranceS?: number;
  /** Requests per student (or per client address without a token) per minute (default 1200). */
  readonly rateLimitPerMinute?: number;
  /** A request must arrive whole within this (default 10 s). */
  readonly requestTimeoutMs?: number;
  /**
   * Requests held at once (default 1200; 0: no bound). One more is refused at once with 503
   * `overloaded` and Retry-After, rather than queued behind the others. The operational endpoints
   * are never refused.
   */
  readonly maxInFlight?: number;
}

/** Loopback callers: the operator's own machine or a sidecar (Prometheus, the harness). */
function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

/** Requests held at once by default (AppDeps.maxInFlight). */
export const defaultMaxInFlight = 1200;

const isOperational = (url: string) => url === '/metrics' || url === '/healthz' || url === '/readyz';

/** Request bodies larger than this are refused with 413 before they are parsed. */
export const bodyLimitBytes = 16 * 1024;

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.log as unknown as FastifyBaseLogger,
    // Per-request log lines at 1,000 req/s cost more than the request; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: bodyLimitBytes,
    return503OnClosing: true,
    requestTimeout: deps.requestTimeoutMs ?? 10_000,
    connectionTimeout: 60_000,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });

  // Load shedding: past its bound the API answers 503 at once instead of queueing a request it
  // cannot serve behind an 8 s wait for a database connection. It does not bound the API's memory
  // under overload (168-173 MiB in the bench's 1500/s step either way; docs/benchmarks.md, twelfth
  // round).
  const maxInFlight = deps.maxInFlight ?? defaultMaxInFlight;
  if (maxInFlight > 0) {
    let inFlight = 0;
    app.addHook('onRequest', (req, reply, done) => {
      if (inFlight >= maxInFlight && !isOperational(req.url)) {
        metrics.httpShed.inc();
        sendError(reply, 503, 'overloaded', `the API holds ${maxInFlight} requests already; retry later`);
        return;
      }
      inFlight++;
      // 'close' comes once per response: sent, or its connection gone.
      reply.raw.once('close', () => inFlight--);
      done();
    });
  }

  const requestLogLevel = deps.requestLogLevel ?? 'info';
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe(
      { method: req.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    // One line per request about a payment, with its id as the correlation id (every event the
    // payment causes carries it): the first hop of `npm run trace`. A 5xx is always logged.
    // The provider's webhook names its payment in the body (read only after the signature was valid).
    const id =
      route === '/webhooks/provider'
        ? (req.body as { data?: { paymentId?: unknown } } | undefined)?.data?.paymentId
        : (req.params as { id?: unknown } | undefined)?.id;
    if ((route.startsWith('/payments/') || route === '/webhooks/provider') && typeof id === 'string') {
      const level = reply.statusCode >= 500 ? 'warn' : requestLogLevel;
      if (deps.log.isLevelEnabled(level))
        deps.log[level](
          {
            correlationId: id,
            requestId: req.id,
            method: req.method,
            route,
            status: reply.statusCode,
            ms: Math.round(reply.elapsedTime * 10) / 10,
          },
          'request',
        );
    }
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof SignatureError) return sendError(reply, 401, 'invalid_signature', err.message);
    if (err.statusCode === 429) return sendError(reply, 429, 'rate_limited', err.message);
    if (err.code === 'FST_ERR_REQUEST_TIMEOUT') return sendError(reply, 408, 'request_timeout', err.message);
    if (err.validation) {
      const code = err.validationContext === 'params' ? 'invalid_id' : 'validation_failed';
      return sendError(reply, 400, code, err.message);
    }
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(
          reply,
          413,
          'payload_too_large',
          `request bodies are limited to ${bodyLimitBytes} bytes`,
        );
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(reply, 415, 'unsupported_media_type', 'send application/json');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(reply, 400, 'malformed_json', err.message);
    }
    if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
      return sendError(reply, 400, 'malformed_json', err.message);
    }
    if (isTransient(err))
      return sendError(reply, 503, 'database_unavailable', 'a dependency is unavailable; retry later');
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, err.statusCode, 'validation_failed', err.message);
    }
    req.log.error(
      { err, correlationId: (req.params as { id?: unknown } | undefined)?.id, requestId: req.id },
      'unhandled error',
    );
    return sendError(reply, 500, 'internal', 'internal error');
  });

  // Only JSON is accepted; a text body is a 415, not a confusing validation error.
  app.removeContentTypeParser('text/plain');

  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url}`),
  );

  // Operational endpoints are not on the public surface: loopback callers only, or a caller with
  // ADMIN_TOKEN (e.g. a Prometheus scraping from another host).
  const secrets = deps.secrets ?? loadSecrets({});
  const internalOnly = async (req: FastifyRequest, reply: FastifyReply) => {
    if (isLoopback(req.ip)) return undefined;
    if (secrets.adminToken && req.headers.authorization === `Bearer ${secrets.adminToken}`) return undefined;
    return sendError(reply, 403, 'forbidden', 'operational endpoints answer loopback or ADMIN_TOKEN only');
  };
  app.addHook('onRequest', async (req, reply) => {
    if (isOperational(req.url)) return internalOnly(req, reply);
    return undefined;
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  // Readiness: the database (without it nothing works); Redis only degrades the dashboards, so it
  // is reported (and in payproof_dependency_up) but does not make the API unready.
  const readiness =
    deps.readiness ??
    new Readiness({ database: () => deps.pool.query('SELECT 1'), redis: () => deps.redis.ping() });
  app.get('/readyz', async (_req, reply) => {
    const state = await readiness.check();
    if (state.dependencies.database?.up) return { status: 'ready', dependencies: state.dependencies };
    return sendError(reply, 503, 'database_unavailable', 'the database is unavailable');
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });

  const auth = authenticator(secrets);
  // One budget per student (the token's subject); the provider's webhooks are not limited here
  // (they are signed, and refusing them only makes the provider retry later).
  app.register(rateLimit, {
    global: false,
    hook: 'preHandler',
    max: deps.rateLimitPerMinute ?? 1200,
    timeWindow: 60_000,
    keyGenerator: (req) => req.principal ?? req.ip,
    errorResponseBuilder: (_req, ctx) => {
      const err = new Error(`rate limit: ${ctx.max} requests per ${ctx.after}; retry after ${ctx.ttl} ms`);
      return Object.assign(err, { statusCode: 429 });
    },
  });
  app.register(async (scope) => {
    registerPaymentRoutes(scope, {
      pool: deps.pool,
      batchSlots: deps.paymentBatchSlots ?? 4,
      batchSpreadMs: deps.paymentBatchSpreadMs,
      faults: deps.faults ?? new Set(),
      secrets,
      auth,
      webhookToleranceS: deps.webhookToleranceS ?? 300,
    });
    registerDashboardRoutes(scope, deps.pool, deps.redis, auth, deps.faults ?? new Set());
  });
  return app;
}
