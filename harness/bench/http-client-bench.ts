// npm run bench:http-client (issue 11): what the load generator's HTTP client costs per request.
// The generator runs on the same cores as the system it measures, so every microsecond of its CPU
// is taken from the API. Measured in ONE run, against the same stand-in server (node:http in a
// child process on loopback, answering JSON of the API's sizes):
//   - the generator's client (harness/load/http.ts: node:net + http-parser-js), and
//   - the baseline: undici's Pool.request with an AbortController and a timer per request, which
//     is what harness/load/http.ts did until 2026-12-01 (copied below as it was).
// Two shapes of load: `saturated` (every connection busy, answers pile up per tick) and `trickle`
// (VUs think between requests, so every answer is an event-loop turn of its own, as at 250
// payments/s). CPU is the bench process's own (process.cpuUsage: every thread), per request;
// clients alternate from one round to the next. Keeps bench.json + output.txt in
// reports/<stamp>-bench-http-client/.
//
//   node harness/bench/http-client-bench.ts [--requests 40000] [--rounds 3]
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Pool } from 'undici';
import type { CommandSpec } from '../cli/command.ts';
import { median as medianOrNone } from '../lib/median.ts';
import { HttpClient, type HttpOutcome, type HttpRequest } from '../load/http.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { Flags, opt } from './lib/args.ts';
import { n, table } from './lib/format.ts';
import { loadAverage, machine, printMachine, revision } from './lib/machine.ts';
import { Report } from './lib/report.ts';

export const httpClientBenchCommand: CommandSpec = {
  invocation: 'npm run bench:http-client --',
  summary:
    "The load generator's HTTP client against undici's Pool.request (its baseline), CPU per request\non the same stand-in server, saturated and at a trickle, alternating, in one run.",
  usage: ['[--requests 40000] [--rounds 3]'],
  options: {
    requests: opt.number('N', 'measured requests per client, shape and round (default 40000)'),
    rounds: opt.number('N', 'rounds; the clients alternate their order (default 3)'),
  },
  examples: ['npm run bench:http-client', 'npm run bench:http-client -- --requests 10000 --rounds 1'],
  exits: '0 measured, 1 a run failed, 64 usage error',
};

const flags = new Flags(httpClientBenchCommand);
const requests = Math.max(1_000, Math.round(flags.number('requests', 40_000)));
const rounds = Math.max(1, Math.round(flags.number('rounds', 3)));
/** Every list here has one figure per round, so never empty. */
const median = (xs: number[]) => medianOrNone(xs) ?? Number.NaN;

/** The stand-in API: answers of the real API's sizes (a created payment, a dashboard). */
const serverSource = `
const http = require('node:http');
const payment = JSON.stringify({ paymentId: '5b1f7b7e-2f1a-4c55-9a55-0c8f6e0f2a11', status: 'pending', amountCents: 12000,
  currency: 'EUR', courseId: '0b0b7a52-7d0e-4a57-a0f3-6bb1a59ce3a1', studentId: '8b4b1b7e-1f4e-4b7c-9f7a-2a2fb0d2d6a4',
  createdAt: new Date().toISOString(), providerReference: 'pi_3Q0f8a2b4c6d8e0f' });
const dashboard = JSON.stringify({ studentId: '8b4b1b7e-1f4e-4b7c-9f7a-2a2fb0d2d6a4', generation: 12,
  purchases: [{ courseId: '0b0b7a52-7d0e-4a57-a0f3-6bb1a59ce3a1', purchasedAt: new Date().toISOString() }],
  upcomingSessions: Array.from({ length: 4 }, (_, i) => ({ sessionId: 'sess-' + i, trainerId: 't-17', startsAt: new Date().toISOString() })) });
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = req.method === 'POST' ? payment : dashboard;
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
s.keepAliveTimeout = 72000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
process.on('disconnect', () => process.exit(0));
`;

/** undici's Pool.request as harness/load/http.ts used it before (the baseline). */
class UndiciBaseline {
  readonly #pool: Pool;
  readonly #timeoutMs: number;
  constructor(baseUrl: string, connections: number, timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#pool = new Pool(new URL(baseUrl).origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }
  async request(req: HttpRequest): Promise<HttpOutcome> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.#timeoutMs);
    const started = performance.now();
    try {
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
      const parsed = text.length > 0 ? JSON.parse(text) : null;
      return {
        kind: 'response',
        status: res.statusCode,
        body: parsed,
        durationMs: performance.now() - started,
      };
    } catch {
      return { kind: 'timeout', durationMs: performance.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }
  close(): Promise<void> {
    return this.#pool.close();
  }
}

type ClientName = 'payproof (node:net + http-parser-js)' | 'undici Pool.request (baseline)';
const clientNames: ClientName[] = ['payproof (node:net + http-parser-js)', 'undici Pool.request (baseline)'];
interface Shape {
  readonly name: 'saturated' | 'trickle';
  readonly vus: number;
  readonly thinkMs: number;
}
const shapes: Shape[] = [
  { name: 'saturated', vus: 500, thinkMs: 0 },
  { name: 'trickle', vus: 200, thinkMs: 100 },
];

const token = `Bearer ${'eyJhbGciOiJIUzI1NiJ9'}.${Buffer.from(JSON.stringify({ sub: '8b4b1b7e-1f4e-4b7c-9f7a-2a2fb0d2d6a4', scope: 'student', exp: 9e9 })).toString('base64url')}.${'x'.repeat(43)}`;

interface Measured {
  client: ClientName;
  shape: Shape['name'];
  requests: number;
  wallMs: number;
  cpuUsPerRequest: number;
  failed: number;
}

async function measure(baseUrl: string, client: ClientName, shape: Shape): Promise<Measured> {
  const c =
    client === 'undici Pool.request (baseline)'
      ? new UndiciBaseline(baseUrl, shape.vus, 10_000)
      : new HttpClient(baseUrl, { connections: shape.vus, timeoutMs: 10_000 });
  let failed = 0;
  let issued = 0;
  const vu = async (limit: number) => {
    while (issued < limit) {
      issued++;
      const post = issued % 2 === 0;
      const r = await c.request({
        method: post ? 'POST' : 'GET',
        path: post ? '/payments' : '/students/8b4b1b7e-1f4e-4b7c-9f7a-2a2fb0d2d6a4/dashboard',
        headers: { authorization: token, ...(post ? { 'idempotency-key': crypto.randomUUID() } : {}) },
        ...(post ? { json: { courseId: '0b0b7a52-7d0e-4a57-a0f3-6bb1a59ce3a1', amountCents: 12_000 } } : {}),
      });
      if (r.kind !== 'response' || r.status >= 400) failed++;
      if (shape.thinkMs > 0)
        await new Promise((res) => setTimeout(res, shape.thinkMs * (0.5 + Math.random())));
    }
  };
  try {
    await Promise.all(Array.from({ length: shape.vus }, () => vu(Math.min(4_000, requests / 4)))); // warm-up
    issued = 0;
    failed = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: shape.vus }, () => vu(requests)));
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return {
      client,
      shape: shape.name,
      requests,
      wallMs,
      cpuUsPerRequest: (cpu.user + cpu.system) / requests,
      failed,
    };
  } finally {
    await c.close();
  }
}

const report = new Report();
const log = report.progress;
const m = machine();
const rev = revision(repoRoot);
report.out(
  `payproof HTTP client benchmark (the load generator's cost per request), ${new Date().toISOString()}`,
);
report.out(`command: node harness/bench/http-client-bench.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
report.out();
printMachine(m, rev, (l) => report.out(l));

let server: ChildProcess | undefined;
let exitCode = 0;
const runs: Measured[] = [];
const figures: Record<string, unknown> = { machine: m, revision: rev, requests, rounds, shapes };
const stopServer = () => {
  if (server?.pid && server.exitCode === null) server.kill('SIGTERM');
};
process.once('SIGINT', () => {
  stopServer();
  process.exit(130);
});
try {
  server = spawn(process.execPath, ['-e', serverSource], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const [line] = (await Promise.race([
    once(server.stdout!, 'data'),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the stand-in server did not start')), 10_000),
    ),
  ])) as [Buffer];
  const baseUrl = `http://127.0.0.1:${Number(String(line).trim())}`;
  log(
    `[bench] stand-in server on ${baseUrl} (pid ${server.pid}); ${requests} requests per client, shape and round`,
  );
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? clientNames : [...clientNames].reverse();
    for (const shape of shapes)
      for (const client of order) {
        const x = await measure(baseUrl, client, shape);
        runs.push(x);
        log(
          `[bench] round ${r + 1} ${shape.name} ${client}: ${n(x.cpuUsPerRequest, 1)} µs CPU per request, ${n((x.requests / x.wallMs) * 1000, 0)}/s, ${x.failed} failed`,
        );
      }
  }
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  for (const shape of shapes) {
    const base = median(
      runs
        .filter((x) => x.shape === shape.name && x.client === 'undici Pool.request (baseline)')
        .map((x) => x.cpuUsPerRequest),
    );
    for (const client of clientNames) {
      const xs = runs.filter((x) => x.shape === shape.name && x.client === client);
      const cpu = xs.map((x) => x.cpuUsPerRequest);
      const med = median(cpu);
      summary[`${shape.name}/${client}`] = { medianCpuUsPerRequest: med, vsBaseline: med / base };
      rows.push([
        shape.name,
        `${shape.vus} VUs${shape.thinkMs ? `, think ~${shape.thinkMs} ms` : ''}`,
        client,
        n(med, 1),
        `${n(Math.min(...cpu), 1)}-${n(Math.max(...cpu), 1)}`,
        n(med / base, 2),
        n(median(xs.map((x) => (x.requests / x.wallMs) * 1000)), 0),
        String(xs.reduce((a, x) => a + x.failed, 0)),
      ]);
    }
  }
  report.out();
  report.out(
    `CPU per request, median of ${rounds} round(s) (load average at end ${loadAverage().join(' ')})`,
  );
  report.out(
    table(
      ['shape', 'load', 'client', 'CPU µs / request', 'min-max', 'vs baseline', 'requests/s', 'failed'],
      rows,
    ),
  );
  report.out(
    '  the stand-in server shares the machine; CPU is the bench process only (the client), every thread included',
  );
  Object.assign(figures, { runs, summary });
  if (runs.some((x) => x.failed > 0)) {
    exitCode = 1;
    report.out('  FAILED: some requests got no 2xx answer');
  }
} catch (err) {
  exitCode = 1;
  log(`[bench] failed: ${(err as Error).stack ?? err}`);
  figures.error = (err as Error).message;
} finally {
  stopServer();
}
const dir = report.save('bench-http-client', figures);
report.out();
report.out(`saved: ${dir}`);
process.exit(exitCode);
