// npm run bench:idle (issue 13): what the system's background watchers cost, measured in ONE run.
// The watchers keep the gauges and the alerts honest when the consume loop does not move: every
// worker reads its group's lag and dead-letter size from the broker every 2 s and sweeps parked
// cache invalidations every second, every process probes its dependencies every 2 s, the relay
// counts its backlog every second. Their cost does not grow with the load, so the idle system is
// where it shows: the same fresh stack and system are measured idle twice, with the watchers at
// their periods (the deployment) and with every period multiplied by 3600 (the baseline: the
// watchers practically off), CPU per process over the same window. Prints both, the difference,
// and keeps bench.json + output.txt in reports/<stamp>-bench-idle/.
//
//   node harness/bench/idle-bench.ts [--settle 15s] [--window 30s] [--rounds 1]
import { join } from 'node:path';
import type { CommandSpec } from '../cli/command.ts';
import type { CpuWindow } from '../lib/procmon.ts';
import { sleep } from '../lib/wait-for.ts';
import { repoRoot } from '../toolchain/toolchain.ts';
import { Flags, opt } from './lib/args.ts';
import { startBenchEnv } from './lib/env.ts';
import { n, table } from './lib/format.ts';
import { loadAverage, machine, printMachine, revision } from './lib/machine.ts';
import { cpuFigures, cpuTable, Report } from './lib/report.ts';

export const idleBenchCommand: CommandSpec = {
  invocation: 'npm run bench:idle --',
  summary:
    'What the background watchers (lag and DLQ reads, readiness probes, backlog gauge, invalidation\nsweeper) cost: the idle system measured with the watchers on and with them practically off\n(WATCH_INTERVAL_SCALE=3600), CPU per process, in one run.',
  usage: ['[--settle 15s] [--window 30s] [--rounds 1]'],
  options: {
    settle: opt.seconds('15s', 'idle time after the start before measuring'),
    window: opt.seconds('30s', 'the measured idle window of each configuration'),
    rounds: opt.number('N', 'on/off pairs, alternating (default 1)'),
  },
  examples: ['npm run bench:idle', 'npm run bench:idle -- --window 60s --rounds 2'],
  exits: '0 measured, 1 a run failed, 64 usage error',
};

const flags = new Flags(idleBenchCommand);
const settleS = flags.seconds('settle', 15);
const windowS = flags.seconds('window', 30);
const rounds = Math.max(1, Math.round(flags.number('rounds', 1)));
/** The baseline: every watcher's period times this (an hour for the 1 s ones). */
const offScale = 3_600;

const report = new Report();
const log = report.progress;
const m = machine();
const rev = revision(repoRoot);
report.out(`payproof idle benchmark (the watchers' cost), ${new Date().toISOString()}`);
report.out(`command: node harness/bench/idle-bench.ts ${process.argv.slice(2).join(' ')}`.trimEnd());
report.out();
printMachine(m, rev, (l) => report.out(l));

type Config = 'watchers on' | 'watchers off';

/** One fresh stack and system, idle: CPU over `windowS` after `settleS`. */
async function measure(config: Config): Promise<CpuWindow> {
  const scale = config === 'watchers on' ? 1 : offScale;
  const env = await startBenchEnv(m.cores, log, {
    direct: true,
    env: { WATCH_INTERVAL_SCALE: String(scale) },
  });
  try {
    log(
      `[bench] ${config} (WATCH_INTERVAL_SCALE=${scale}): settling ${settleS} s, then measuring ${windowS} s idle`,
    );
    await sleep(settleS * 1_000);
    const a = env.monitor.snapshot();
    await sleep(windowS * 1_000);
    return env.monitor.between(a, env.monitor.snapshot());
  } finally {
    await env.stop();
  }
}

const windows: Record<Config, CpuWindow[]> = { 'watchers on': [], 'watchers off': [] };
let exitCode = 0;
const figures: Record<string, unknown> = { machine: m, revision: rev, settleS, windowS, rounds, offScale };
try {
  for (let r = 0; r < rounds; r++) {
    // Alternating, so a drift of the machine's other load falls on both sides.
    const order: Config[] = r % 2 === 0 ? ['watchers on', 'watchers off'] : ['watchers off', 'watchers on'];
    for (const c of order) windows[c].push(await measure(c));
  }
  for (const c of ['watchers on', 'watchers off'] as const) {
    report.out();
    report.out(`${c}${c === 'watchers off' ? ` (every period x ${offScale})` : ''}, idle, last round`);
    report.out(cpuTable(windows[c].at(-1)!));
  }
  // Mean % of a core per process over the rounds, both configurations, and the difference.
  const mean = (c: Config) => {
    const out = new Map<string, number>();
    for (const w of windows[c])
      for (const row of w.rows) out.set(row.name, (out.get(row.name) ?? 0) + row.pctOfCore / rounds);
    return out;
  };
  const on = mean('watchers on');
  const off = mean('watchers off');
  const names = [...new Set([...on.keys(), ...off.keys()])]
    .filter((x) => (on.get(x) ?? 0) >= 0.05 || (off.get(x) ?? 0) >= 0.05)
    .sort((a, b) => (on.get(b) ?? 0) - (off.get(b) ?? 0) - ((on.get(a) ?? 0) - (off.get(a) ?? 0)));
  const rows = names.map((x) => {
    const d = (on.get(x) ?? 0) - (off.get(x) ?? 0);
    return [
      x,
      `${n(on.get(x) ?? 0, 2)}%`,
      `${n(off.get(x) ?? 0, 2)}%`,
      `${d >= 0 ? '+' : ''}${n(d, 2)}%`,
      n(d * 10, 1),
    ];
  });
  const total = (c: Map<string, number>) => [...c.values()].reduce((a, b) => a + b, 0);
  const diff = total(on) - total(off);
  rows.push([
    '= all',
    `${n(total(on), 1)}%`,
    `${n(total(off), 1)}%`,
    `${diff >= 0 ? '+' : ''}${n(diff, 1)}%`,
    n(diff * 10, 1),
  ]);
  report.out();
  report.out(
    `the watchers' cost: mean over ${rounds} round(s) of ${windowS} s idle each (load average at end ${loadAverage().join(' ')})`,
  );
  report.out(table(['process', 'on (% of a core)', 'off', 'difference', 'CPU ms / s'], rows));
  report.out(
    `  at users-1000's ~88 payments/s the difference is ${n((diff * 10) / 88, 3)} ms of CPU per payment; it does not grow with the rate`,
  );
  Object.assign(figures, {
    on: windows['watchers on'].map(cpuFigures),
    off: windows['watchers off'].map(cpuFigures),
    meanPctOfCore: { on: Object.fromEntries(on), off: Object.fromEntries(off) },
    differencePctOfCore: diff,
  });
} catch (err) {
  exitCode = 1;
  log(`[bench] failed: ${(err as Error).stack ?? err}`);
  figures.error = (err as Error).message;
}
const dir = report.save('bench-idle', figures);
report.out();
report.out(`figures: ${join(dir, 'bench.json')}`);
process.exit(exitCode);
