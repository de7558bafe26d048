// Who used the machine during a load: the harness, what it started, and everyone else.
import { describe, expect, it } from 'vitest';
import {
  describeMachine,
  type MachineMark,
  machineFigures,
  machineSample,
  machineWindow,
} from '../../harness/lib/machine-watch.ts';
import { clockTicks, listenOverflows, type MachineTicks, type Stat } from '../../harness/lib/procmon.ts';

const T = clockTicks;
const proc = (pid: number, ppid: number, comm: string, cpuS: number, o: Partial<Stat> = {}): Stat => ({
  pid,
  ppid,
  comm,
  state: 'S',
  ticks: cpuS * T,
  childTicks: 0,
  startTicks: 10 * T,
  rssKiB: 0,
  ...o,
});
const machine = (busyS: number, o: Partial<MachineTicks> = {}): MachineTicks => ({
  busy: busyS * T,
  idle: 0,
  iowait: 0,
  steal: 0,
  pressureUs: 0,
  ioPressureUs: 0,
  ...o,
});
const mark = (
  atS: number,
  busyS: number,
  procs: Stat[],
  { listenOverflows = 0, ...o }: Partial<MachineTicks> & { listenOverflows?: number } = {},
): MachineMark => ({
  atMs: atS * 1_000,
  machine: machine(busyS, o),
  procs,
  uptimeS: 1_000 + atS,
  listenOverflows,
});

describe('machineWindow', () => {
  // Harness 100 → api 101 → (reaped children); postgres 102 under the harness; `stress` 200 is not ours.
  const a = mark(0, 0, [
    proc(1, 0, 'init', 1),
    proc(100, 1, 'node', 5),
    proc(101, 100, 'node', 2),
    proc(102, 100, 'postgres', 3),
    proc(200, 1, 'stress', 0),
  ]);
  const b = mark(
    10,
    18, // 180% of one core over 10 s
    [
      proc(1, 0, 'init', 1),
      proc(100, 1, 'node', 7), // +2 s: harness 20%
      proc(101, 100, 'node', 6), // +4 s
      proc(102, 100, 'postgres', 7, { childTicks: 1 * T }), // +4 s, +1 s reaped backends
      proc(200, 1, 'stress', 5), // +5 s: 50%
      // started during the window (after uptime 1000 s): counts whole
      proc(103, 102, 'postgres', 1, { startTicks: 1_005 * T }),
      // a pid first seen now but started before the window: its time cannot be split, skipped
      proc(300, 1, 'old', 100, { startTicks: 5 * T }),
    ],
    { steal: 0.3 * T, iowait: 0.5 * T, pressureUs: 2_000_000, ioPressureUs: 500_000 },
  );

  it('splits busy time between the harness, its descendants and the others', () => {
    const w = machineWindow(a, b, { rootPid: 100, cores: 2 });
    expect(w.seconds).toBe(10);
    expect(w.busyPct).toBeCloseTo(180);
    expect(w.harnessPct).toBeCloseTo(20);
    expect(w.runPct).toBeCloseTo(100); // 4 + 4 + 1 + 1 s of 10
    expect(w.othersPct).toBeCloseTo(60); // 18 - 2 - 10 = 6 s: stress 5 s and what no process shows
    expect(w.topOthers).toEqual([{ comm: 'stress', pct: 50 }]);
    expect(w.stealPct).toBeCloseTo(3);
    expect(w.iowaitPct).toBeCloseTo(5);
    expect(w.cpuPressurePct).toBeCloseTo(20);
    expect(w.ioPressurePct).toBeCloseTo(5);
  });

  it('warns when processes the run did not start took more than a quarter of a core', () => {
    const f = machineFigures(machineWindow(a, b, { rootPid: 100, cores: 2 }));
    expect(f.warning).toMatch(/did not start used 60% of a core \(stress 50%\)/);
    expect(f.figures.machine_others_top).toBe('stress 50%');
    expect(describeMachine(f.figures)).toMatch(/busy 180% of 200%.*others 60: stress 50%.*steal 3%/);
  });

  it('does not warn on a machine the run had to itself', () => {
    const quiet = mark(10, 13, [...b.procs.filter((p) => p.pid !== 200), proc(200, 1, 'stress', 0)]);
    const f = machineFigures(machineWindow(a, quiet, { rootPid: 100, cores: 2 }));
    expect(f.figures.machine_others_pct).toBe(10);
    expect(f.warning).toBeUndefined();
  });

  it('warns on steal alone', () => {
    const stolen = mark(10, 13, b.procs.filter((p) => p.pid !== 200).concat(proc(200, 1, 'stress', 0)), {
      steal: 1 * T,
    });
    expect(machineFigures(machineWindow(a, stolen, { rootPid: 100, cores: 2 })).warning).toMatch(
      /hypervisor stole 10% of a core/,
    );
  });

  it('warns when the kernel dropped connections at a full accept queue, and counts them', () => {
    const quiet = b.procs.filter((p) => p.pid !== 200).concat(proc(200, 1, 'stress', 0));
    const from = mark(0, 0, [...a.procs], { listenOverflows: 717 });
    const f = machineFigures(
      machineWindow(from, mark(10, 13, quiet, { listenOverflows: 1_200 }), { rootPid: 100, cores: 2 }),
    );
    expect(f.figures.machine_listen_overflows).toBe(483);
    expect(f.warning).toMatch(/dropped 483 connection\(s\) at a full accept queue/);
    expect(f.warning).not.toMatch(/shared/);
    expect(describeMachine(f.figures)).toMatch(/accept-queue overflows 483$/);
    const none = machineFigures(
      machineWindow(from, mark(10, 13, quiet, { listenOverflows: 717 }), { rootPid: 100, cores: 2 }),
    );
    expect(none.warning).toBeUndefined();
    const unreadable = machineWindow(from, mark(10, 13, quiet, { listenOverflows: -1 }), {
      rootPid: 100,
      cores: 2,
    });
    expect(unreadable.listenOverflows).toBeNull();
  });

  it("reads TcpExt ListenOverflows from the kernel's netstat table", () => {
    const netstat =
      'TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 717 717\nIpExt: InNoRoutes\nIpExt: 0\n';
    expect(listenOverflows(netstat)).toBe(717);
    expect(listenOverflows('IpExt: InNoRoutes\nIpExt: 0\n')).toBe(-1);
    expect(listenOverflows('TcpExt: SyncookiesSent\nTcpExt: 0\n')).toBe(-1);
    expect(listenOverflows()).toBeGreaterThanOrEqual(0); // this machine's own counter
  });

  it('reports PSI as n/a where the kernel has none', () => {
    const noPsi = { ...b, machine: { ...b.machine, pressureUs: -1, ioPressureUs: -1 } };
    const f = machineFigures(machineWindow(a, noPsi, { rootPid: 100, cores: 2 }));
    expect(f.figures.machine_cpu_pressure_pct).toBe('n/a');
    expect(describeMachine({})).toBeUndefined();
  });
});

describe('machineSample', () => {
  it('gives per-second busy, steal, iowait and pressure', () => {
    const s = machineSample(
      machine(0),
      machine(1.5, { steal: 0.1 * T, iowait: 0.2 * T, pressureUs: 300_000, ioPressureUs: 100_000 }),
      1,
    );
    expect(s).toEqual({
      machine_busy_pct: 150,
      machine_steal_pct: 10,
      machine_iowait_pct: 20,
      cpu_pressure_pct: 30,
      io_pressure_pct: 10,
    });
    expect(machineSample(machine(0, { pressureUs: -1, ioPressureUs: -1 }), machine(1), 1)).not.toHaveProperty(
      'cpu_pressure_pct',
    );
  });
});
