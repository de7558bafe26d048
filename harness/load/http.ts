// The engine's HTTP client: one undici Pool to the API (keep-alive, enough connections for every
// VU), a whole-request deadline per request, and outcomes that say whether the request may have
// taken effect. A timeout is never a failure: the server may have committed (Jepsen's `info`).
import { Pool } from 'undici';
import { onAbort } from '../lib/on-abort.ts';

export type HttpOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly body: unknown;
      readonly durationMs: number;
    }
  /** The deadline passed: the request may or may not have been applied. */
  | { readonly kind: 'timeout'; readonly durationMs: number }
  /** The iteration was interrupted at the end of gracefulStop: outcome unknown. */
  | { readonly kind: 'interrupted'; readonly durationMs: number }
  /** A transport error; `sent: false` only when the request provably never left (connection refused). */
  | { readonly kind: 'error'; readonly code: string; readonly sent: boolean; readonly durationMs: number };

export interface HttpClientOptions {
  /** Keep-alive connections to the origin. */
  readonly connections: number;
  /** Whole-request deadline in ms: queueing in the pool, connecting, sending, waiting, reading. */
  readonly timeoutMs: number;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly json?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Aborts the request (recorded `interrupted`). */
  readonly signal?: AbortSignal;
}

/** Error codes that mean the request was never written to a socket, so it cannot have taken effect. */
const notSentCodes = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown }; name?: unknown } | null;
  const code = e?.code ?? e?.cause?.code ?? e?.name;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

export class HttpClient {
  readonly #pool: Pool;
  readonly #timeoutMs: number;
  /** Requests handed to the pool and not finished yet. */
  inFlight = 0;

  constructor(baseUrl: string, opts: HttpClientOptions) {
    const origin = new URL(baseUrl).origin;
    this.#timeoutMs = opts.timeoutMs;
    this.#pool = new Pool(origin, {
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { timeout: Math.min(5_000, opts.timeoutMs) },
    });
  }

  async request(req: HttpRequest): Promise<HttpOutcome> {
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, this.#timeoutMs);
    const off = req.signal ? onAbort(req.signal, () => ac.abort()) : undefined;
    const started = performance.now();
    this.inFlight++;
    try {
      if (req.signal?.aborted) return { kind: 'interrupted', durationMs: 0 };
      const headers: Record<string, string> = { ...req.headers };
      let body: string | undefined;
      if (req.json !== undefined) {
        body = JSON.stringify(req.json);
        headers['content-type'] = 'application/json';
      }
      const res = await this.#pool.request({
        method: req.method,
        path: req.path,
        headers,
        body,
        signal: ac.signal,
      });
      const text = await res.body.text();
      const durationMs = performance.now() - started;
      let parsed: unknown = null;
      if (text.length > 0) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text.slice(0, 200);
        }
      }
      return { kind: 'response', status: res.statusCode, body: parsed, durationMs };
    } catch (err) {
      const durationMs = performance.now() - started;
      if (timedOut) return { kind: 'timeout', durationMs };
      if (req.signal?.aborted) return { kind: 'interrupted', durationMs };
      const code = errorCode(err);
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
        return { kind: 'timeout', durationMs };
      return { kind: 'error', code, sent: !notSentCodes.has(code), durationMs };
    } finally {
      this.inFlight--;
      clearTimeout(timer);
      off?.();
    }
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  /** Drops open sockets at once (used when a run is interrupted). */
  destroy(): Promise<void> {
    return this.#pool.destroy();
  }
}
