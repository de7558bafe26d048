// One recorded operation: history `invoke`, the request, then `ok` / `fail` / `info` with the ids and
// the response's key fields, plus the k6 metrics of that request. This is the only place requests
// are classified, so the history and the metrics can never disagree.
import type { History, OpName } from '../run/history.ts';
import type { HttpClient, HttpOutcome, HttpRequest } from './http.ts';
import type { Metrics } from './metrics.ts';

export type Completion = 'ok' | 'fail' | 'info';

export interface Classified {
  readonly type: Completion;
  /** API error code, `http_<status>`, `timeout`, `interrupted` or the transport error code. */
  readonly error?: string;
  /** k6's http_req_failed: no 2xx/3xx response. */
  readonly failed: boolean;
}

/**
 * What an outcome means for the history. 2xx: ok. 4xx: fail (the API refused; nothing happened).
 * 5xx, 3xx, timeouts, resets and interruptions: info (it may have been applied). A transport error
 * is a definite fail only when the request provably never left (connection refused).
 */
export function classify(outcome: HttpOutcome): Classified {
  switch (outcome.kind) {
    case 'response': {
      const s = outcome.status;
      if (s >= 200 && s < 300) return { type: 'ok', failed: false };
      const code = (outcome.body as { error?: { code?: unknown } } | null)?.error?.code;
      const error = typeof code === 'string' ? code : `http_${s}`;
      if (s >= 400 && s < 500) return { type: 'fail', error, failed: true };
      return { type: 'info', error, failed: s >= 400 };
    }
    case 'timeout':
      return { type: 'info', error: 'timeout', failed: true };
    case 'interrupted':
      return { type: 'info', error: 'interrupted', failed: true };
    case 'error':
      return { type: outcome.sent ? 'info' : 'fail', error: outcome.code, failed: true };
  }
}

/** Notified of every completed request: the engine's per-second sample accumulators. */
export type CompletionListener = (op: string, durationMs: number, failed: boolean) => void;

export interface Recorder {
  readonly client: HttpClient;
  readonly history: History;
  readonly metrics: Metrics;
  /** ms since the load started. */
  readonly clock: () => number;
  readonly onCompletion?: CompletionListener;
}

export interface RecordedRequest extends HttpRequest {
  readonly op: OpName;
  readonly process: string | number;
  readonly ids: Readonly<Record<string, string>>;
  /** The response's key fields worth keeping in the history (ok responses only). */
  readonly excerpt?: (body: unknown) => unknown;
  /** Ids learnt from the response (e.g. the new paymentId), added to the completion's ids. */
  readonly idsFrom?: (body: unknown) => Record<string, string> | undefined;
  /** Extra fields for the completion's value (e.g. the request body's amount). */
  readonly note?: Readonly<Record<string, unknown>>;
  /**
   * Statuses that are the expected answer (k6's `http.expectedStatuses`): an attack the API must
   * refuse is not a failed request. The history still records the refusal as `fail`.
   */
  readonly expectedStatuses?: readonly number[];
  /** The metrics' `op` tag when it differs from the history's op (e.g. `forged-webhook`). */
  readonly tag?: string;
}

export interface RecordedResult {
  readonly type: Completion;
  readonly outcome: HttpOutcome;
  /** HTTP status, or 0 without a response (k6 reports 0 as well). */
  readonly status: number;
  readonly body: unknown;
}

export async function recordedRequest(rec: Recorder, req: RecordedRequest): Promise<RecordedResult> {
  const index = rec.history.invoke(req.op, req.process, { ...req.ids });
  const startS = rec.clock() / 1_000;
  const outcome = await rec.client.request(req);
  const status = outcome.kind === 'response' ? outcome.status : 0;
  const classified = classify(outcome);
  const c = req.expectedStatuses?.includes(status) ? { ...classified, failed: false } : classified;
  const body = outcome.kind === 'response' ? outcome.body : null;
  const learnt = c.type === 'ok' ? req.idsFrom?.(body) : undefined;
  const excerpt = c.type === 'ok' && req.excerpt ? req.excerpt(body) : undefined;
  const value =
    excerpt !== undefined || req.note
      ? { ...(req.note ?? {}), ...(excerpt !== undefined ? { response: excerpt } : {}) }
      : undefined;
  rec.history.complete(index, c.type, req.op, req.process, {
    ids: { ...req.ids, ...learnt },
    ...(status ? { status } : {}),
    ...(c.error ? { error: c.error } : {}),
    ...(value !== undefined ? { value } : {}),
  });
  const op = req.tag ?? req.op;
  const tags = { op };
  rec.metrics.addCount('http_reqs', tags, 1, startS);
  rec.metrics.addTrend(
    'http_req_duration',
    { op, expected_response: String(!c.failed) },
    outcome.durationMs,
    startS,
  );
  rec.metrics.addRate('http_req_failed', tags, c.failed, startS);
  if (c.type === 'info') rec.metrics.addCount('http_req_indeterminate', tags, 1, startS);
  rec.onCompletion?.(op, outcome.durationMs, c.failed);
  return { type: c.type, outcome, status, body };
}

/** A k6 check: a named boolean on a response, counted in the `checks` rate and tagged with its name. */
export function check(rec: Recorder, name: string, pass: boolean, atMs: number = rec.clock()): boolean {
  rec.metrics.addRate('checks', { check: name }, pass, atMs / 1_000);
  return pass;
}
