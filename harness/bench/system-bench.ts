// npm run bench:system (issue 3): the system's performance figures, measured in ONE run on a fresh
// stack and system, with the machine and the pgbench baseline measured in the same run:
//   1. confirmation at a steady arrival rate (open model, default 1,000/s) with the whole pipeline
//      running, confirm-only over pre-created pending payments: p50 / p95 / p99 / p99.9;
//   2. end-to-end latency confirm → first session scheduled for those payments (database stamps);
//   3. confirmation with 1000 concurrent clients and no think time (closed model): payments/s,
//      p50 / p99, with the relay and the workers stopped (the confirm path only: API + PostgreSQL);
//   4. pgbench running the same confirm statement at 32 clients: the ratio API / pgbench;
//   5. worker events/s draining the backlog left by (3);
//   6. CPU per process in every phase, resident memory of every process.
// Prints a table at the end and keeps bench.json + output.txt in reports/<stamp>-bench-system/.
//
//   node harness/bench/system-bench.ts [--quick] [--rate 1000] [--duration 60s]
//        [--clients 1000] [--closed-duration 30s] [--pgbench-clients 32] [--pgbench-duration 20s]
//   experiments (not the deployment the goals are judged on): [--proxied] (through Toxiproxy, as a chaos run)
//        [--node-options=--max-semi-space-size=8] [--env=MALLOC_ARENA_MAX=2]
import { join } from 'node:path';
import type { CommandSpec } from '../cli/command.ts';
import { History } from '../run/history.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { experimentFlags, Flags, opt } from './lib/args.ts';
import { BacklogProbe, backlogSlope } from './lib/backlog.ts';
import { type ConfirmFigures, confirmFigures, outcomeLine, runConfirmLoad } from './lib/confirm-load.ts';
import { dbDelta, readDbCounters } from './lib/dbstats.ts';
import { drainBacklog, stopPipeline } from './lib/drain.ts';
import { e2eLatency } from './lib/e2e.ts';
import { converge, startBenchEnv } from './lib/env.ts';
import { experimentOptions } from './lib/experiment.ts';
import { ms, n, perS, table, verdict } from './lib/format.ts';
import { loadAverage, machine, printMachine, revision } from './lib/machine.ts';
import { insertPendingPayments } from './lib/payments.ts';
import { runPgbench } from './lib/pgbench.ts';
import { cpuFigures, cpuPerOp, cpuTable, dbTable, memoryTable, Report } from './lib/report.ts';
import { nodeMemory } from './lib/scrape.ts';

export const systemBenchCommand: CommandSpec = {
  invocation: 'npm run bench:system --',
  summary:
    "The system's performance figures, measured in one run on a fresh stack and system: confirmation at a\nsteady arrival rate, end-to-end latency, 1000 closed-model clients, pgbench on the same statement,\nworker drain rate, CPU and memory per process. Keeps bench.json and output.txt in reports/.",
  usage: ['[--quick] [--rate 1000] [--duration 60s] [--clients 1000] [--closed-duration 30s] ...'],
  options: {
    quick: opt.switch('a shorter run of everything (minutes)'),
    rate: opt.number('R', 'open-model confirmations per second (default 1000)'),
    duration: opt.seconds('60s', 'the open-model phase'),
    clients: opt.number('N', 'closed-model clients (default 1000)'),
    'closed-duration': opt.seconds('30s', 'the closed-model phase'),
    'pgbench-clients': opt.number('N', 'pgbench clients (default 32)'),
    'pgbench-duration': opt.seconds('20s', 'the pgbench phase'),
    ...experimentFlags,
  },
  examples: [
    'npm run bench:system -- --quick',
    'npm run bench:system -- --rate 500 --duration 30s',
    'npm run bench:system -- --quick --env=MALLOC_ARENA_MAX=2   # experiment',
  ],
  exits: '0 every goal met, 1 a goal missed, 64 usage error',
};

const flags = new Flags(systemBenchCommand);
const quick = flags.has('quick');
const rate = flags.number('rate', 1000);
const openS = flags.seconds('duration', quick ? 10 : 60);
const clients = flags.number('clients', 1000);
const closedS = flags.seconds('closed-duration', quick ? 8 : 30);
const pgbenchClients = flags.number('pgbench-clients', 32);
const pgbenchS = flags.seconds('pgbench-duration', quick ? 5 : 20);
const experiment = experimentOptions(flags.text('node-options'), flags.text('env'), flags.has('proxied'));
const warmRate = Math.min(200, rate);
const warmS = quick ? 3 : 5;
const idleS = 5;

const goals = { openP99Ms: 50, ratio: 0.35, e2eP99Ms: 150 };

const report = new Report();
const log = report.progress;
const m = machine();
const rev = revision(repoRoot);
report.out(
  `payproof system benchmark${quick ? ' (--quick: short durations, a smoke run)' : ''}, ${new Date().toISOString()}`,
);
report.out(`command: node harness/bench/system-bench.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
report.out();
printMachine(m, rev, (l) => report.out(l));

for (const line of experiment.lines) report.out(`  EXPERIMENT: ${line}`);
const env = await startBenchEnv(m.cores, log, experiment.options);
const figures: Record<string, unknown> = {
  machine: m,
  revision: rev,
  experiment: experiment.lines,
  quick,
  rate,
  openS,
  clients,
  closedS,
  pgbenchClients,
  pgbenchS,
};
let exitCode = 0;
try {
  // In the stack's data folder: removed with it when the bench stops (PAYPROOF_KEEP_DATA=1 keeps it).
  const history = new History(join(env.stack.dataRoot, 'history.jsonl'));
  const db = env.stack.endpoints.direct.databaseUrl;
  report.out();
  report.out(
    `system: 1 api, 1 relay, 1 instance of each of the 4 workers; stack + system ready in ${n(env.startS, 1)} s`,
  );

  // Fixtures: pending payments, each for its own (student, course) pair.
  log('[bench] inserting pending payments...');
  const warm = await insertPendingPayments(db, 'warm', Math.ceil(warmRate * warmS) + 50, env.courseIds);
  const open = await insertPendingPayments(db, 'open', Math.ceil(rate * (openS + 2)) + 100, env.courseIds);
  const closed = await insertPendingPayments(db, 'closed', Math.ceil(4_000 * (closedS + 2)), env.courseIds);

  // Warm-up: JIT, pools, Kafka connections; not reported.
  log(`[bench] warm-up: ${warmRate}/s for ${warmS} s`);
  await runConfirmLoad({
    apiUrl: env.sys.apiUrl,
    name: 'warm-up',
    scenario: {
      executor: 'constant-arrival-rate',
      rate: warmRate,
      duration: `${warmS}s`,
      preAllocatedVUs: 50,
      maxVUs: 500,
      gracefulStop: '10s',
    },
    ids: warm.ids,
    tag: 'warm',
    history,
  });
  await converge(env, 60);

  // 0. The system idle: what it costs with nothing to do (polling loops, consumers' fetches).
  const idleFrom = env.monitor.snapshot();
  await new Promise((r) => setTimeout(r, idleS * 1_000));
  const idleCpu = env.monitor.between(idleFrom, env.monitor.snapshot());
  report.out();
  report.out(`0. the system idle for ${idleS} s after the warm-up (no load): its fixed costs`);
  report.out(cpuTable(idleCpu));

  // 1. Open model at `rate`, whole pipeline running.
  log(`[bench] open model: ${rate}/s for ${openS} s, confirm-only, whole pipeline running`);
  const probe = new BacklogProbe(db, env.stack.endpoints.direct.kafkaBrokers);
  await probe.read(performance.now()); // connected before the load: a first read under load can take seconds
  const t0 = performance.now();
  const sampler = probe.sampleEvery(1_000, t0);
  const openDbFrom = await readDbCounters(db);
  const openFrom = env.monitor.snapshot();
  const openRun = await runConfirmLoad({
    apiUrl: env.sys.apiUrl,
    name: `open-${rate}`,
    scenario: {
      executor: 'constant-arrival-rate',
      rate,
      duration: `${openS}s`,
      preAllocatedVUs: Math.max(50, Math.ceil(rate / 5)),
      maxVUs: Math.max(2_000, rate * 2),
      gracefulStop: '10s',
    },
    ids: open.ids,
    tag: 'open',
    history,
  });
  const openTo = env.monitor.snapshot();
  const loadEndS = (performance.now() - t0) / 1_000;
  const openConv = await converge(env, 300);
  const openAllTo = env.monitor.snapshot();
  const openDb = dbDelta(openDbFrom, await readDbCounters(db));
  const backlog = await sampler.stop();
  const probeFailures = probe.failures;
  const probeError = probe.lastError;
  await probe.close();
  const tailS = (openConv.drainedMs ?? openConv.waitedMs) / 1_000;
  const openFig = confirmFigures(openRun.summary);
  const openCpu = env.monitor.between(openFrom, openTo);
  const openAllCpu = env.monitor.between(openFrom, openAllTo);
  const slope = backlogSlope(backlog, openS / 2, loadEndS);
  const backlogMax = Math.max(0, ...backlog.filter((s) => s.t <= loadEndS).map((s) => s.total));
  const e2e = await e2eLatency(db, { paymentIds: open.ids.slice(0, openRun.used) });

  report.out();
  report.out(
    `1. confirmation at ${rate}/s (open model, constant-arrival-rate, ${openS} s), confirm-only over pre-created pending payments, whole pipeline running`,
  );
  report.out(
    table(
      ['confirm', 'requests', 'rate', 'p50', 'p95', 'p99', 'p99.9', 'max', 'failed', 'dropped'],
      [
        [
          'engine',
          String(openFig.requests),
          perS(openFig.requests / openS),
          ms(openFig.p50),
          ms(openFig.p95),
          ms(openFig.p99),
          ms(openFig.p999),
          ms(openFig.max),
          `${n((openFig.failedRate ?? 0) * 100, 2)}%`,
          String(openFig.dropped),
        ],
      ],
    ),
  );
  report.out(`  responses: ${outcomeLine(openRun.outcomes)}`);
  report.out(
    `  generator: start lag p99 ${ms(openFig.startLagP99)}, CPU mean ${n(openFig.generatorCpuMeanPct, 0)}% of a core, event-loop delay p99 ${ms(openFig.generatorLoopDelayP99Ms)}, latency ${openFig.trustworthy ? 'trustworthy' : 'UNTRUSTWORTHY (generator CPU-bound)'}`,
  );
  report.out(
    `  pipeline backlog (outbox + consumer lag, events): max ${backlogMax}, slope over the second half ${n(slope, 1)} events/s; converged ${n(tailS, 1)} s after the load ended (${openConv.converged ? 'converged' : 'NOT converged'})`,
  );
  report.out(
    `  backlog samples: ${backlog.length}${probeFailures ? `, ${probeFailures} failed reads (last: ${probeError})` : ''}`,
  );
  report.out();
  report.out(
    `2. end to end at ${rate}/s: confirm → first session scheduled (database stamps: payments.confirmed_at → purchase → allocation → min(tutoring_sessions.created_at))`,
  );
  const hopRow = (
    label: string,
    p: { count: number; p50: number | null; p95: number | null; p99: number | null; max: number | null },
  ) => [label, String(p.count), ms(p.p50), ms(p.p95), ms(p.p99), ms(p.max)];
  report.out(
    table(
      ['stretch', 'payments', 'p50', 'p95', 'p99', 'max'],
      [
        hopRow('confirm → sessions (end to end)', e2e.total),
        hopRow('  confirm → purchase (relay + purchase worker)', e2e.hops.purchase),
        hopRow('  purchase → allocation (relay + allocation worker)', e2e.hops.allocation),
        hopRow('  allocation → first session (relay + session worker)', e2e.hops.session),
      ],
    ),
  );
  report.out(
    `  ${e2e.withSessions} of ${e2e.confirmed} confirmed payments have sessions (each stamp is its transaction's start: the last hop's commit comes a little later)`,
  );
  report.out();
  report.out(`  CPU during the ${rate}/s load (from /proc/<pid>/stat; process trees for postgres and kafka)`);
  report.out(cpuTable(openCpu));
  report.out();
  report.out(
    `  CPU from the start of the ${rate}/s load until the pipeline converged: the whole work of ${openRun.confirmed} payments`,
  );
  report.out(cpuTable(openAllCpu, { count: openRun.confirmed, unit: 'payment' }));
  report.out();
  report.out('  PostgreSQL work over the same window (pg_stat_database, pg_stat_user_tables)');
  report.out(dbTable(openDb, openRun.confirmed));

  // 3. Closed model: `clients` concurrent clients, no think time, relay and workers stopped.
  log(`[bench] closed model: ${clients} clients, no think time, ${closedS} s (relay and workers stopped)`);
  await stopPipeline(env.sys);
  const closedFrom = env.monitor.snapshot();
  const closedRun = await runConfirmLoad({
    apiUrl: env.sys.apiUrl,
    name: `closed-${clients}`,
    scenario: {
      executor: 'constant-vus',
      vus: clients,
      duration: `${closedS}s`,
      startSpread: '1s',
      gracefulStop: '15s',
    },
    ids: closed.ids,
    tag: 'closed',
    history,
  });
  const closedTo = env.monitor.snapshot();
  const closedFig: ConfirmFigures = confirmFigures(closedRun.summary, { fromS: 2, toS: closedS });
  const closedCpu = env.monitor.between(closedFrom, closedTo);

  // 4. pgbench, the same statement, 32 clients, relay and workers still stopped.
  log(`[bench] pgbench: ${pgbenchClients} clients, ${pgbenchS} s`);
  let pgFrom = env.monitor.snapshot();
  let pgTo = pgFrom;
  const pgb = await runPgbench({
    serverUrl: db,
    clients: pgbenchClients,
    durationS: pgbenchS,
    log,
    onRun: (at) => {
      if (at === 'start') pgFrom = env.monitor.snapshot();
      else pgTo = env.monitor.snapshot();
    },
  });
  const pgCpu = env.monitor.between(pgFrom, pgTo, [
    {
      name: 'pgbench',
      cpuS: pgb.cpuS ?? 0,
      pctOfCore: (100 * (pgb.cpuS ?? 0)) / Math.max(0.001, (pgTo.atMs - pgFrom.atMs) / 1_000),
    },
  ]);
  log(`[bench] pgbench extended (no prepared statements): ${pgbenchClients} clients, ${pgbenchS} s`);
  const pgbX = await runPgbench({
    serverUrl: db,
    clients: pgbenchClients,
    durationS: pgbenchS,
    mode: 'extended',
    log,
  });
  const ratio = closedFig.perS / Math.max(0.001, pgb.effectiveTps);

  report.out();
  report.out(
    `3. confirmation with ${clients} concurrent clients, no think time (closed model, ${closedS} s; relay and workers stopped: API + PostgreSQL only, as pgbench), next to pgbench`,
  );
  report.out(
    table(
      ['', 'clients', 'confirms/s', 'p50', 'p95', 'p99', 'failed'],
      [
        [
          'API (engine, steady window)',
          String(clients),
          perS(closedFig.perS),
          ms(closedFig.p50),
          ms(closedFig.p95),
          ms(closedFig.p99),
          `${n((closedFig.failedRate ?? 0) * 100, 2)}%`,
        ],
        [
          'pgbench, same statement, prepared',
          String(pgb.clients),
          perS(pgb.effectiveTps),
          ms(pgb.p50),
          ms(pgb.p95),
          ms(pgb.p99),
          String(pgb.failed),
        ],
        [
          'pgbench, -M extended (parsed every time, as pg sends it)',
          String(pgbX.clients),
          perS(pgbX.effectiveTps),
          ms(pgbX.p50),
          ms(pgbX.p95),
          ms(pgbX.p99),
          String(pgbX.failed),
        ],
      ],
    ),
  );
  report.out(
    `  ratio API / pgbench: ${n(ratio, 2)} (goal ≥ ${goals.ratio}); Little's law: ${clients} clients / ${n(closedFig.perS, 0)}/s = ${n((1000 * clients) / Math.max(1, closedFig.perS), 0)} ms mean latency`,
  );
  report.out(`  ${pgb.command}`);
  report.out(
    `  pgbench connects to PostgreSQL directly; so does the API${experiment.options.direct ? '' : ' (except with --proxied: through Toxiproxy)'}`,
  );
  report.out(`  API responses: ${outcomeLine(closedRun.outcomes)}`);
  if (closedRun.exhausted > 0)
    report.out(`  WARNING: ${closedRun.exhausted} iterations found no pending payment left`);
  report.out();
  report.out('  CPU during the closed-model run');
  report.out(cpuTable(closedCpu, { count: closedRun.confirmed, unit: 'confirmation' }));
  report.out();
  report.out('  CPU during pgbench');
  report.out(cpuTable(pgCpu, { count: pgb.transactions, unit: 'transaction' }));

  // 5. Backlog drain: the closed run's confirmations are waiting in Kafka.
  log('[bench] backlog drain: starting the workers, then the relay');
  const drainDbFrom = await readDbCounters(db);
  const drain = await drainBacklog(env, closedRun.confirmed, quick ? 300 : 600, log);
  const drainDb = dbDelta(drainDbFrom, await readDbCounters(db));
  const drainCpu = env.monitor.between(drain.cpu.from, drain.cpu.to);
  report.out();
  report.out(
    `5. workers draining a backlog of ${drain.payments} confirmed payments (workers joined first, then the relay published while they consumed; no process start-up in the CPU window)`,
  );
  report.out(
    table(
      ['consumer group', 'events', 'events/s'],
      [
        ...drain.perGroup.map((g) => [g.group, String(g.events), perS(g.perS)]),
        ['= all groups', String(drain.events), perS(drain.eventsPerS)],
      ],
    ),
  );
  report.out(
    `  ${perS(drain.paymentsPerS)} payments through the pipeline (first to last event ${n(drain.windowS, 1)} s); relay start → converged ${n(drain.wallS, 1)} s (${drain.converged ? 'converged' : 'NOT converged'})`,
  );
  report.out();
  report.out('  CPU during the drain');
  report.out(cpuTable(drainCpu, { count: drain.payments, unit: 'payment' }));
  report.out();
  report.out('  PostgreSQL work during the drain (relay publishing the backlog, then the four workers)');
  report.out(dbTable(drainDb, drain.payments));

  // 6. Memory.
  const mem = memoryTable(env.monitor.memory());
  const heaps = await nodeMemory(env.sys);
  report.out();
  report.out(
    '6. resident memory, sampled every second over the whole run (trees: postgres with its backends)',
  );
  report.out(mem.text);
  report.out();
  report.out("  where the Node processes' memory is at the end (their own /metrics: prom-client defaults)");
  report.out(
    table(
      ['process', 'RSS', 'V8 heap used', 'V8 heap total', 'external'],
      heaps.map((h) => [
        h.name,
        `${n(h.rssMiB, 0)} MiB`,
        `${n(h.heapUsedMiB, 0)} MiB`,
        `${n(h.heapTotalMiB, 0)} MiB`,
        `${n(h.externalMiB, 0)} MiB`,
      ]),
    ),
  );

  const loadEnd = loadAverage();
  const rows = [
    [
      'confirm p99 at ' + rate + '/s (open model)',
      ms(openFig.p99),
      `≤ ${goals.openP99Ms} ms`,
      verdict(openFig.p99 !== null && openFig.p99 <= goals.openP99Ms),
    ],
    [
      'confirm p50 / p95 / p99.9 at ' + rate + '/s',
      `${ms(openFig.p50)} / ${ms(openFig.p95)} / ${ms(openFig.p999)}`,
      '',
      '',
    ],
    [`confirms/s, ${clients} clients (closed)`, perS(closedFig.perS), '', ''],
    [`  p50 / p99, ${clients} clients`, `${ms(closedFig.p50)} / ${ms(closedFig.p99)}`, '', ''],
    [`pgbench, ${pgbenchClients} clients`, perS(pgb.effectiveTps), '', ''],
    ['API / pgbench', n(ratio, 2), `≥ ${goals.ratio}`, verdict(ratio >= goals.ratio)],
    [
      `end to end p50 / p99 at ${rate}/s`,
      `${ms(e2e.total.p50)} / ${ms(e2e.total.p99)}`,
      `p99 ≤ ${goals.e2eP99Ms} ms`,
      verdict(
        e2e.total.p99 !== null && e2e.total.p99 <= goals.e2eP99Ms && e2e.withSessions === e2e.confirmed,
      ),
    ],
    ['worker events/s (backlog drain)', perS(drain.eventsPerS), '', ''],
    ['  payments/s through the pipeline', perS(drain.paymentsPerS), '', ''],
    [
      'peak RSS, each Node process',
      mem.allNodeWithinGoal ? 'all within' : 'over',
      '≤ 150 MiB',
      verdict(mem.allNodeWithinGoal),
    ],
  ];
  report.out();
  report.out(`summary (load average at start ${m.loadStart.join(' ')}, at end ${loadEnd.join(' ')})`);
  report.out(table(['figure', 'measured', 'goal', ''], rows));
  if (!openFig.trustworthy || !closedFig.trustworthy)
    report.out(
      '  NOTE: the load generator was CPU-bound for part of the run: its latency figures include its own delays',
    );

  Object.assign(figures, {
    loadEnd,
    open: {
      ...openFig,
      perS: openFig.requests / openS,
      backlogMax,
      backlogSlope: slope,
      convergedAfterS: tailS,
      backlog,
      samples: openRun.summary.samples,
      cpu: cpuFigures(openCpu),
      cpuPerOp: cpuPerOp(openCpu, openRun.confirmed),
    },
    idle: cpuFigures(idleCpu),
    e2e,
    closed: {
      ...closedFig,
      exhausted: closedRun.exhausted,
      cpu: cpuFigures(closedCpu),
      cpuPerOp: cpuPerOp(closedCpu, closedRun.confirmed),
    },
    pgbench: { ...pgb, cpu: cpuFigures(pgCpu), cpuPerOp: cpuPerOp(pgCpu, pgb.transactions) },
    pgbenchExtended: pgbX,
    ratio,
    drain: { ...drain, cpu: cpuFigures(drainCpu), cpuPerOp: cpuPerOp(drainCpu, drain.payments), db: drainDb },
    memory: env.monitor.memory(),
    nodeMemory: heaps,
    outcomes: { open: openRun.outcomes, closed: closedRun.outcomes },
    goals: {
      openP99: openFig.p99 !== null && openFig.p99 <= goals.openP99Ms,
      ratio: ratio >= goals.ratio,
      e2eP99: e2e.total.p99 !== null && e2e.total.p99 <= goals.e2eP99Ms,
      memory: mem.allNodeWithinGoal,
    },
  });
  await history.close();
} catch (err) {
  exitCode = 1;
  log(`[bench] failed: ${(err as Error).stack ?? err}`);
  figures.error = (err as Error).message;
} finally {
  await env.stop();
}
const dir = report.save('bench-system', figures);
report.out();
report.out(`figures: ${join(dir, 'bench.json')}`);
process.exit(exitCode);
