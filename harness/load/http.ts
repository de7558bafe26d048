// The engine's HTTP client: keep-alive HTTP/1.1 connections to the API (enough for every VU), a
// whole-request deadline per request, and outcomes that say whether the request may have taken
// effect. A timeout is never a failure: the server may have committed (Jepsen's `info`).
//
// It is a small client of its own on `node:net`, with http-parser-js (the parser autocannon uses)
// reading the answers, because the generator shares the machine with the system it measures and
// every microsecond it spends is taken from the API: one write per request (the request line,
// headers and body built as one string), no stream objects, no AbortController per request.
// `npm run bench:http-client` measures it against undici's `Pool.request` with an AbortController
// (what this file used before) on one stand-in server: medians of 116 against 212 µs of CPU per
// request at a trickle, 73 against 177 saturated (2026-12-01 20:55 UTC, 2 cores). docs/benchmarks.md,
// eighth round.
// What it does not do, because the API does not need it: TLS, pipelining, redirects, 1xx answers,
// request bodies that are not JSON, retries (a load generator must not resend a payment).
import net from 'node:net';
import { HTTPParser } from 'http-parser-js';
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
  /** A transport error; `sent: false` only when the request provably never left (it never reached a connected socket). */
  | { readonly kind: 'error'; readonly code: string; readonly sent: boolean; readonly durationMs: number };

export interface HttpClientOptions {
  /** Keep-alive connections to the origin, at most. */
  readonly connections: number;
  /** Whole-request deadline in ms: queueing for a connection, connecting, sending, waiting, reading. */
  readonly timeoutMs: number;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly json?: unknown;
  /**
   * A JSON body already serialized, sent byte for byte (instead of `json`): a signed webhook's
   * signature covers exactly these bytes.
   */
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Aborts the request (recorded `interrupted`). */
  readonly signal?: AbortSignal;
}

/** The code of an answer that ended before it was complete (the connection closed under it). */
export const SOCKET_CLOSED = 'SOCKET_CLOSED';
/** The code of a connection that did not open within the connect timeout. */
export const CONNECT_TIMEOUT = 'CONNECT_TIMEOUT';
/** The code of requests dropped by `destroy()`. */
export const CLIENT_DESTROYED = 'CLIENT_DESTROYED';

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown } | null;
  const code = e?.code ?? e?.name;
  return typeof code === 'string' ? code : 'UNKNOWN';
}

/** A request from `request()` to its outcome. */
class Pending {
  /** The connection it was written to (or is waiting for), once it has one. */
  conn: Conn | undefined;
  /** Written to a connected socket: from here on it may have taken effect. */
  sent = false;
  status = 0;
  chunks: Buffer[] = [];
  timer: NodeJS.Timeout | undefined;
  off: (() => void) | undefined;
  readonly text: string;
  readonly started: number;
  readonly #resolve: (o: HttpOutcome) => void;
  done = false;

  constructor(text: string, started: number, resolve: (o: HttpOutcome) => void) {
    this.text = text;
    this.started = started;
    this.#resolve = resolve;
  }

  finish(o: HttpOutcome): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.off?.();
    this.#resolve(o);
  }

  elapsed(): number {
    return performance.now() - this.started;
  }
}

/** One keep-alive connection and its parser; at most one request on it at a time. */
class Conn {
  readonly socket: net.Socket;
  readonly #parser = new HTTPParser(HTTPParser.RESPONSE);
  current: Pending | undefined;
  keepAlive = true;
  /** When it became idle, and how long the server said it keeps an idle connection. */
  idleSince = 0;
  serverIdleMs = Number.POSITIVE_INFINITY;
  readonly client: HttpClient;
  readonly #connectTimer: NodeJS.Timeout;

  constructor(client: HttpClient, port: number, host: string, connectTimeoutMs: number) {
    this.client = client;
    const p = this.#parser;
    p[HTTPParser.kOnHeadersComplete] = (info) => {
      const cur = this.current;
      if (cur) cur.status = info.statusCode;
      this.keepAlive = info.shouldKeepAlive;
      const h = info.headers;
      for (let i = 0; i < h.length; i += 2) {
        if (h[i]!.length === 10 && h[i]!.toLowerCase() === 'keep-alive') {
          const m = /timeout=(\d+)/i.exec(h[i + 1]!);
          if (m) this.serverIdleMs = Number(m[1]) * 1_000;
        }
      }
    };
    p[HTTPParser.kOnBody] = (chunk, offset, length) => {
      this.current?.chunks.push(chunk.subarray(offset, offset + length));
    };
    p[HTTPParser.kOnMessageComplete] = () => this.#complete();
    this.socket = net.connect({ port, host, noDelay: true });
    this.#connectTimer = setTimeout(() => this.fail(CONNECT_TIMEOUT), connectTimeoutMs);
    this.socket.on('connect', () => {
      clearTimeout(this.#connectTimer);
      const cur = this.current;
      if (cur) this.write(cur);
    });
    this.socket.on('data', (d: Buffer) => {
      const r = p.execute(d);
      if (r instanceof Error) this.fail(errorCode(r) === 'UNKNOWN' ? 'HPE_INVALID' : errorCode(r));
    });
    this.socket.on('end', () => {
      p.finish();
      this.fail(SOCKET_CLOSED);
    });
    this.socket.on('error', (err) => this.fail(errorCode(err)));
    this.socket.on('close', () => this.fail(SOCKET_CLOSED));
  }

  write(req: Pending): void {
    req.sent = true;
    this.socket.write(req.text);
  }

  #complete(): void {
    const cur = this.current;
    if (!cur) return;
    this.current = undefined;
    const text =
      cur.chunks.length === 0
        ? ''
        : cur.chunks.length === 1
          ? cur.chunks[0]!.toString()
          : Buffer.concat(cur.chunks).toString();
    let body: unknown = null;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text.slice(0, 200);
      }
    }
    cur.finish({ kind: 'response', status: cur.status, body, durationMs: cur.elapsed() });
    if (this.keepAlive) this.client.release(this);
    else this.destroy();
  }

  /** The connection is unusable: the request on it (if any) ends with `code`, and it closes. */
  fail(code: string): void {
    const cur = this.current;
    this.current = undefined;
    if (cur) cur.finish({ kind: 'error', code, sent: cur.sent, durationMs: cur.elapsed() });
    this.destroy();
  }

  destroy(): void {
    clearTimeout(this.#connectTimer);
    if (!this.socket.destroyed) this.socket.destroy();
    this.client.forget(this);
  }
}

export class HttpClient {
  readonly #port: number;
  readonly #host: string;
  readonly #hostHeader: string;
  readonly #timeoutMs: number;
  readonly #max: number;
  readonly #connectTimeoutMs: number;
  /** Every open connection; the idle ones, most recently used last; requests waiting for one. */
  readonly #conns = new Set<Conn>();
  readonly #idle: Conn[] = [];
  readonly #queue: Pending[] = [];
  #closing: (() => void) | undefined;
  #destroyed = false;
  /** Requests handed to the client and not finished yet. */
  inFlight = 0;

  constructor(baseUrl: string, opts: HttpClientOptions) {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:')
      throw new Error(`load: only http:// targets are supported, not ${url.protocol}`);
    this.#host = url.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(url.port || 80);
    this.#hostHeader = url.host;
    this.#timeoutMs = opts.timeoutMs;
    this.#max = Math.max(1, opts.connections);
    this.#connectTimeoutMs = Math.min(5_000, opts.timeoutMs);
  }

  request(req: HttpRequest): Promise<HttpOutcome> {
    if (req.signal?.aborted || this.#destroyed)
      return Promise.resolve(
        this.#destroyed
          ? { kind: 'error', code: CLIENT_DESTROYED, sent: false, durationMs: 0 }
          : { kind: 'interrupted', durationMs: 0 },
      );
    let text = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${this.#hostHeader}\r\n`;
    if (req.headers) for (const k in req.headers) text += `${k}: ${req.headers[k]}\r\n`;
    const body = req.body ?? (req.json === undefined ? undefined : JSON.stringify(req.json));
    if (body !== undefined) {
      text += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    } else text += '\r\n';
    this.inFlight++;
    return new Promise<HttpOutcome>((resolve) => {
      const p = new Pending(text, performance.now(), (o) => {
        this.inFlight--;
        resolve(o);
        if (this.inFlight === 0) this.#closing?.();
      });
      p.timer = setTimeout(
        () => this.#abandon(p, { kind: 'timeout', durationMs: p.elapsed() }),
        this.#timeoutMs,
      );
      if (req.signal)
        p.off = onAbort(req.signal, () => this.#abandon(p, { kind: 'interrupted', durationMs: p.elapsed() }));
      this.#dispatch(p);
    });
  }

  /** Ends a request before its answer: a connection with a request half done cannot be reused. */
  #abandon(p: Pending, outcome: HttpOutcome): void {
    if (p.done) return;
    const conn = p.conn;
    if (conn) {
      conn.current = undefined;
      conn.destroy();
    } else {
      const i = this.#queue.indexOf(p);
      if (i >= 0) this.#queue.splice(i, 1);
    }
    p.finish(outcome);
  }

  #dispatch(p: Pending): void {
    const now = performance.now();
    let conn = this.#idle.pop();
    // The server closes an idle connection after its keep-alive timeout: leave a second of margin.
    while (conn && (conn.socket.destroyed || now - conn.idleSince >= conn.serverIdleMs - 1_000)) {
      conn.destroy();
      conn = this.#idle.pop();
    }
    if (!conn && this.#conns.size < this.#max) {
      conn = new Conn(this, this.#port, this.#host, this.#connectTimeoutMs);
      this.#conns.add(conn);
    }
    if (!conn) {
      this.#queue.push(p);
      return;
    }
    p.conn = conn;
    conn.current = p;
    if (!conn.socket.connecting) conn.write(p);
  }

  /** A connection whose answer is complete: the next waiting request, or the idle list. */
  release(conn: Conn): void {
    const next = this.#queue.shift();
    if (next) {
      next.conn = conn;
      conn.current = next;
      conn.write(next);
      return;
    }
    conn.idleSince = performance.now();
    this.#idle.push(conn);
  }

  /** A connection that closed: the requests waiting for one may now open another. */
  forget(conn: Conn): void {
    if (!this.#conns.delete(conn)) return;
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
    const next = this.#queue.shift();
    if (next && !this.#destroyed) this.#dispatch(next);
  }

  /** Waits for the requests in flight, then closes every connection. */
  async close(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.#closing = resolve));
    this.#closing = undefined;
    for (const c of [...this.#conns]) c.destroy();
  }

  /** Drops every connection at once (used when a run is interrupted); what was in flight ends as an error. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    for (const p of this.#queue.splice(0))
      p.finish({ kind: 'error', code: CLIENT_DESTROYED, sent: false, durationMs: p.elapsed() });
    for (const c of [...this.#conns]) c.fail(CLIENT_DESTROYED);
  }
}
