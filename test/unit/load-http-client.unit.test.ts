// harness/load/http.ts, the generator's own keep-alive HTTP/1.1 client, against a stand-in server
// (node:http on loopback, plus raw sockets for the answers node:http would never give): what it
// sends, the answers it reads (content-length, chunked, connection: close, not JSON), the
// connections it keeps, and the outcome of every way a request can end early: the deadline (in a
// queue or on the wire), the run's abort, a refused or dropped connection, destroy().
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Socket,
  type Server as TcpServer,
} from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_DESTROYED, HttpClient, SOCKET_CLOSED } from '../../harness/load/http.ts';
import { until } from '../support/until.ts';

let server: Server;
let base: string;
/** Connections the server has accepted, and those still open. */
let accepted = 0;
const open = new Set<Socket>();
/** Requests to /hang the server has read (and will never answer). */
let hung = 0;
type Route = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const routes: Record<string, Route> = {
  '/echo': (req, res, body) => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
  },
  '/chunked': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"parts":');
    setTimeout(() => res.end('[1,2,3]}'), 20);
  },
  '/close': (_req, res) => {
    res.writeHead(409, { 'content-type': 'application/json', connection: 'close' });
    res.end('{"error":{"code":"conflict"}}');
  },
  '/text': (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('x'.repeat(500));
  },
  '/empty': (_req, res) => {
    res.writeHead(204);
    res.end();
  },
  '/utf8': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ name: 'Zoë — 東京 €' }));
  },
  '/slow': (_req, res) => {
    const t = setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"slow":true}');
    }, 150);
    res.on('close', () => clearTimeout(t));
  },
  '/hang': () => {
    hung++;
  },
  '/drop': (req) => req.socket.destroy(),
};

beforeAll(async () => {
  server = createHttpServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => (routes[req.url ?? ''] ?? routes['/echo']!)(req, res, body));
  });
  server.on('connection', (s: Socket) => {
    accepted++;
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const clients: HttpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.destroy();
});

function client(connections = 4, timeoutMs = 2_000): HttpClient {
  const c = new HttpClient(base, { connections, timeoutMs });
  clients.push(c);
  return c;
}

describe('HttpClient', () => {
  it('sends the method, path, headers and JSON body, and parses the JSON answer', async () => {
    const c = client();
    const r = await c.request({
      method: 'POST',
      path: '/echo?x=1',
      headers: { authorization: 'Bearer t', 'idempotency-key': 'k-1' },
      json: { amountCents: 12_000, note: 'Zoë' },
    });
    expect(r.kind).toBe('response');
    if (r.kind !== 'response') return;
    expect(r.status).toBe(201);
    const b = r.body as { method: string; url: string; headers: Record<string, string>; body: string };
    expect(b.method).toBe('POST');
    expect(b.url).toBe('/echo?x=1');
    expect(b.headers.authorization).toBe('Bearer t');
    expect(b.headers['idempotency-key']).toBe('k-1');
    expect(b.headers['content-type']).toBe('application/json');
    expect(b.headers.host).toBe(new URL(base).host);
    expect(JSON.parse(b.body)).toEqual({ amountCents: 12_000, note: 'Zoë' });
    expect(Number(b.headers['content-length'])).toBe(Buffer.byteLength(b.body));
    expect(r.durationMs).toBeGreaterThan(0);
    expect(c.inFlight).toBe(0);
  });

  it('sends a serialized body byte for byte (what a webhook signature covers)', async () => {
    const c = client();
    const raw = '{"b":1,  "a":"Zoë"}';
    const r = await c.request({ method: 'POST', path: '/echo', body: raw, json: { ignored: true } });
    const b = (r as { body: { body: string; headers: Record<string, string> } }).body;
    expect(b.body).toBe(raw);
    expect(b.headers['content-type']).toBe('application/json');
    expect(Number(b.headers['content-length'])).toBe(Buffer.byteLength(raw));
  });

  it('reads chunked, empty, multi-byte and non-JSON answers', async () => {
    const c = client();
    const chunked = await c.request({ method: 'GET', path: '/chunked' });
    expect(chunked).toMatchObject({ kind: 'response', status: 200, body: { parts: [1, 2, 3] } });
    expect(await c.request({ method: 'GET', path: '/empty' })).toMatchObject({ status: 204, body: null });
    expect(await c.request({ method: 'GET', path: '/utf8' })).toMatchObject({
      body: { name: 'Zoë — 東京 €' },
    });
    const text = await c.request({ method: 'GET', path: '/text' });
    expect(text).toMatchObject({ kind: 'response', status: 503, body: 'x'.repeat(200) });
  });

  it('keeps one connection alive across sequential requests', async () => {
    const c = client(8);
    const before = accepted;
    for (let i = 0; i < 25; i++)
      expect(await c.request({ method: 'GET', path: '/echo' })).toMatchObject({ status: 201 });
    expect(accepted - before).toBe(1);
  });

  it('opens no more connections than allowed, and answers every queued request', async () => {
    const c = client(3);
    const before = accepted;
    const rs = await Promise.all(
      Array.from({ length: 12 }, () => c.request({ method: 'GET', path: '/slow' })),
    );
    expect(rs.every((r) => r.kind === 'response' && r.status === 200)).toBe(true);
    expect(accepted - before).toBe(3);
    expect(c.inFlight).toBe(0);
  });

  it('opens a new connection after an answer with connection: close', async () => {
    const c = client(1);
    const before = accepted;
    expect(await c.request({ method: 'GET', path: '/close' })).toMatchObject({
      status: 409,
      body: { error: { code: 'conflict' } },
    });
    expect(await c.request({ method: 'GET', path: '/echo' })).toMatchObject({ status: 201 });
    expect(accepted - before).toBe(2);
  });

  it('ends at the deadline as a timeout, on the wire and in the queue, and closes the half-used connection', async () => {
    const c = client(1, 300);
    const t0 = performance.now();
    const [onWire, queued] = await Promise.all([
      c.request({ method: 'GET', path: '/hang' }),
      c.request({ method: 'GET', path: '/echo' }),
    ]);
    expect(onWire.kind).toBe('timeout');
    expect(queued.kind).toBe('timeout');
    expect(performance.now() - t0).toBeLessThan(1_500);
    expect(onWire.durationMs).toBeGreaterThanOrEqual(290);
    await until('the server to see the hung connection closed', async () => open.size === 0);
    expect(await c.request({ method: 'GET', path: '/echo' })).toMatchObject({ status: 201 });
  });

  it('ends as interrupted when the run aborts, and at once when already aborted', async () => {
    const c = client();
    const ac = new AbortController();
    const pending = c.request({ method: 'GET', path: '/hang', signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect((await pending).kind).toBe('interrupted');
    expect((await c.request({ method: 'GET', path: '/echo', signal: ac.signal })).kind).toBe('interrupted');
    expect(c.inFlight).toBe(0);
  });

  it('says a refused request was never sent, and a dropped one may have been', async () => {
    const probe = createTcpServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const refused = new HttpClient(`http://127.0.0.1:${freePort}`, { connections: 1, timeoutMs: 2_000 });
    clients.push(refused);
    expect(await refused.request({ method: 'POST', path: '/payments', json: {} })).toMatchObject({
      kind: 'error',
      code: 'ECONNREFUSED',
      sent: false,
    });
    const c = client();
    const dropped = await c.request({ method: 'POST', path: '/drop', json: { a: 1 } });
    expect(dropped.kind).toBe('error');
    expect(dropped).toMatchObject({ sent: true });
    expect(await c.request({ method: 'GET', path: '/echo' })).toMatchObject({ status: 201 });
  });

  it('survives the server closing an idle connection, and an answer it cannot parse', async () => {
    let raw: TcpServer | undefined;
    try {
      raw = createTcpServer((s) => {
        s.once('data', (d) => {
          const path = d.toString('latin1').split(' ')[1];
          if (path === '/garbage') s.end('HTTP/1.1 2x0 ???\r\n\r\n');
          else s.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
        });
      });
      await new Promise<void>((r) => raw?.listen(0, '127.0.0.1', r));
      const c = new HttpClient(`http://127.0.0.1:${(raw.address() as AddressInfo).port}`, {
        connections: 1,
        timeoutMs: 1_000,
      });
      clients.push(c);
      // Each answer is followed by the server's FIN (it closed an idle keep-alive connection).
      for (let i = 0; i < 3; i++) {
        expect(await c.request({ method: 'GET', path: '/ok' })).toMatchObject({ status: 200, body: {} });
        await new Promise((r) => setTimeout(r, 30));
      }
      const bad = await c.request({ method: 'GET', path: '/garbage' });
      expect(bad).toMatchObject({ kind: 'error', sent: true });
      expect(await c.request({ method: 'GET', path: '/ok' })).toMatchObject({ status: 200 });
    } finally {
      await new Promise<void>((r) => (raw ? raw.close(() => r()) : r()));
    }
  });

  it('close() waits for the requests in flight; destroy() ends them at once', async () => {
    const c = client(2);
    const slow = c.request({ method: 'GET', path: '/slow' });
    await c.close();
    expect(await slow).toMatchObject({ status: 200 });
    const d = client(1);
    const onWire = d.request({ method: 'GET', path: '/hang' });
    const queued = d.request({ method: 'GET', path: '/echo' });
    const before = hung;
    await until('the server to read the first request', async () => hung > before);
    await d.destroy();
    expect(await onWire).toMatchObject({ kind: 'error', code: CLIENT_DESTROYED, sent: true });
    expect(await queued).toMatchObject({ kind: 'error', code: CLIENT_DESTROYED, sent: false });
    expect(d.inFlight).toBe(0);
    expect(SOCKET_CLOSED).not.toBe(CLIENT_DESTROYED);
  });
});
