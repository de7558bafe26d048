// What authentication and webhook signatures cost on the confirm path (issue 14: at most 10% of the
// confirm path's CPU). One process, the API built in it (Fastify inject, no sockets) over a real
// PostgreSQL and Redis it starts itself; CPU measured with process.cpuUsage around N requests:
//   - the baseline: a signed webhook confirming a pending payment, whole (signature, parse,
//     validation, the one statement, the answer), and an authenticated create;
//   - the parts: verifying the signature alone, verifying a token (first sight, and remembered).
// The figures are CPU of this Node process only (PostgreSQL's share of a confirm is not in the
// baseline, which makes the ratio an upper bound). Prints the machine, the figures and the goal;
// exits 1 when the goal is missed.
import { join } from 'node:path';
import { buildApp } from '../../system/api/app.ts';
import { authenticator } from '../../system/api/auth.ts';
import { verifySignature } from '../../system/api/signature.ts';
import { createPool } from '../../system/lib/db.ts';
import { createLogger } from '../../system/lib/log.ts';
import { createRedis } from '../../system/lib/redis.ts';
import { loadSecrets } from '../../system/lib/secrets.ts';
import { providerEvent, signedWebhook } from '../lib/provider.ts';
import { tokenFor } from '../lib/tokens.ts';
import { startStack } from '../stack/stack.ts';
import { seed } from '../system/seed.ts';
import { Flags, opt } from './lib/args.ts';
import { machine, printMachine, revision } from './lib/machine.ts';

const repoRoot = join(import.meta.dirname, '..', '..');
const flags = new Flags({
  invocation: 'npm run bench:auth --',
  summary: 'CPU of token and webhook-signature checks against the whole confirm and create paths',
  usage: ['[--requests N]'],
  options: { requests: opt.number('N', 'requests per measured path (default 2000)') },
  examples: ['npm run bench:auth', 'npm run bench:auth -- --requests 500'],
  exits: '0 the goal is met, 1 it is missed, 64 usage error',
});
const n = Math.round(flags.number('requests', 2000));

/** CPU microseconds (user + system) of running `f`. */
async function cpuOf(f: () => Promise<void> | void): Promise<number> {
  const c0 = process.cpuUsage();
  await f();
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

const m = machine();
console.log(`payproof auth benchmark, ${new Date().toISOString()}, ${n} requests per path`);
printMachine(m, revision(repoRoot));
const stack = await startStack({ onProgress: (l) => console.error(`[stack] ${l}`) });
let exit = 0;
try {
  const db = stack.endpoints.direct.databaseUrl;
  const s = await seed(db, { students: n + 10, courses: 1 });
  const course = s.courses[0]!;
  const pool = createPool(db, 8);
  const redis = createRedis(stack.endpoints.direct.redisUrl, createLogger('bench', 'silent'));
  const app = buildApp({
    pool,
    redis,
    log: createLogger('bench-api', 'silent'),
    rateLimitPerMinute: 10_000_000,
  });
  await app.ready();
  const tokens = await Promise.all(s.students.map((id) => tokenFor(id)));
  const inject = (i: number) =>
    app.inject({
      method: 'POST',
      url: '/payments',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i]}` },
      payload: { courseId: course },
    });
  // Warm-up (JIT, pool), not measured.
  for (let i = 0; i < 50; i++) await inject(n + (i % 10));
  const created: { id: string; amountCents: number; currency: string }[] = [];
  const createCpu = await cpuOf(async () => {
    for (let i = 0; i < n; i++) created.push((await inject(i)).json());
  });
  const webhooks = created.map((p) => signedWebhook(providerEvent(p)));
  const confirmCpu = await cpuOf(async () => {
    for (const w of webhooks) {
      const r = await app.inject({
        method: 'POST',
        url: w.path,
        headers: { 'content-type': 'application/json', ...w.headers },
        payload: w.body,
      });
      if (r.statusCode !== 200) throw new Error(`webhook: ${r.statusCode} ${r.body}`);
    }
  });
  const secrets = loadSecrets({});
  const now = Math.floor(Date.now() / 1000);
  const bodies = webhooks.map((w) => Buffer.from(w.body));
  const signatureCpu = await cpuOf(() => {
    for (const [i, w] of webhooks.entries())
      if (!verifySignature(w.headers['payproof-signature'], bodies[i]!, secrets.webhookSecrets, now, 300).ok)
        throw new Error('signature');
  });
  const fakeReply = { header: () => fakeReply, code: () => fakeReply, send: () => fakeReply } as never;
  const fresh = authenticator(secrets);
  const firstSightCpu = await cpuOf(async () => {
    for (const t of tokens.slice(0, n))
      await fresh.hook({ headers: { authorization: `Bearer ${t}` } } as never, fakeReply);
  });
  const rememberedCpu = await cpuOf(async () => {
    for (const t of tokens.slice(0, n))
      await fresh.hook({ headers: { authorization: `Bearer ${t}` } } as never, fakeReply);
  });
  const us = (x: number) => (x / n).toFixed(1);
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(1)}%`;
  console.log('');
  console.log('path (this Node process only)                         CPU µs/request');
  console.log(`signed webhook confirming a payment, whole            ${us(confirmCpu)}`);
  console.log(
    `  of which: signature verification (HMAC-SHA256)      ${us(signatureCpu)}   ${pct(signatureCpu, confirmCpu)}`,
  );
  console.log(`authenticated create, whole                           ${us(createCpu)}`);
  console.log(
    `  of which: token verification, first sight (HS256)   ${us(firstSightCpu)}   ${pct(firstSightCpu, createCpu)}`,
  );
  console.log(
    `  of which: token verification, remembered            ${us(rememberedCpu)}   ${pct(rememberedCpu, createCpu)}`,
  );
  const worst = Math.max(signatureCpu / confirmCpu, firstSightCpu / createCpu);
  console.log('');
  console.log(
    `goal: signature and auth ≤ 10% of the path's CPU: ${worst <= 0.1 ? 'MET' : 'MISSED'} (worst ${(worst * 100).toFixed(1)}%, tokens at first sight; a student's later requests cost the remembered figure)`,
  );
  if (worst > 0.1) exit = 1;
  await app.close();
  await pool.end();
  redis.disconnect();
} finally {
  await stack.stop();
}
process.exit(exit);
