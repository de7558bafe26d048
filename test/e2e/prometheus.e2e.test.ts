// A real Prometheus (Debian's) scrapes the whole system: every process is a target, the targets
// follow scaling, the rules are loaded, the metrics the rules read exist with their meaning, and a
// killed worker raises PayproofWorkerRestarted, which nothing raised in the steady state before.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../harness/lib/wait-for.ts';
import type { PrometheusService } from '../../harness/stack/prometheus.ts';
import type { RunningSystem } from '../../harness/system/launcher.ts';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';
import { courseIds, directPool, newStudents, pay, startTestSystem, waitForFlows } from '../support/system.ts';

const stack = inject('stack');
let system: RunningSystem;
let prom: PrometheusService;
let pool: pg.Pool;

beforeAll(async () => {
  system = await startTestSystem(stack, {
    prometheus: { port: 'free', intervalS: 1, timeScale: 0.1 },
  });
  prom = system.prometheus!;
  pool = directPool(stack);
});

afterAll(async () => {
  await system?.stop();
  await pool?.end();
});

async function upTargets(): Promise<Record<string, string>> {
  const v = await prom.query('up{job="payproof"}');
  return Object.fromEntries(v.map((s) => [s.metric.instance!, s.value[1]]));
}

describe('Prometheus in the stack', () => {
  it('scrapes every process and loads every rule', async () => {
    const names = system.processes.map((p) => p.name).sort();
    const up = await waitFor(
      'every process scraped and up',
      async () => {
        const u = await upTargets();
        return names.every((n) => u[n] === '1') ? u : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(Object.keys(up).sort()).toEqual(names);
    const rules = (await (await fetch(`${prom.url}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string }[] }[] };
    };
    // Every rule of the project's file (11 since issue 15's PayproofOnFallbackTransport).
    const declared = readFileSync(join(repoRoot, 'system', 'alerts', 'payproof.rules.yml'), 'utf8').match(
      /^\s+- alert: /gm,
    );
    expect(rules.data.groups.flatMap((g) => g.rules.map((r) => r.name))).toHaveLength(declared!.length);
    expect(declared!.length).toBe(11);
  });

  it('reads the metrics the rules use: e2e latency per group, lag and DLQ size from the broker, readiness', async () => {
    const students = await newStudents(pool, 5);
    const [course] = await courseIds(pool);
    for (const s of students) await pay(system.apiUrl, s, course!);
    await waitForFlows(pool, students, 1);
    const groups = await waitFor(
      'e2e latency observed by every group',
      async () => {
        const v = await prom.query('sum by (group) (payproof_event_e2e_seconds_count)');
        const g = Object.fromEntries(v.map((s) => [s.metric.group!, Number(s.value[1])]));
        return ['purchase-worker', 'allocation-worker', 'session-worker', 'cache-worker'].every(
          (x) => (g[x] ?? 0) >= 5,
        )
          ? g
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(Object.keys(groups)).toHaveLength(4);
    // The end-to-end time includes the hops before this group: never below the batch time alone.
    const e2e = await prom.query(
      'sum by (group) (payproof_event_e2e_seconds_sum) / sum by (group) (payproof_event_e2e_seconds_count)',
    );
    for (const s of e2e) expect(Number(s.value[1])).toBeGreaterThan(0);
    const lag = await prom.query('payproof_consumer_group_lag');
    expect(new Set(lag.map((s) => s.metric.group))).toEqual(
      new Set(['purchase-worker', 'allocation-worker', 'session-worker', 'cache-worker']),
    );
    expect((await prom.query('payproof_dlq_messages')).length).toBe(4);
    const deps = await prom.query('min by (dependency) (payproof_dependency_up)');
    expect(Object.fromEntries(deps.map((s) => [s.metric.dependency, s.value[1]]))).toEqual({
      database: '1',
      kafka: '1',
      redis: '1',
    });
  });

  it('follows scaling: an added instance becomes a target, a removed one leaves', async () => {
    const added = await system.add('cache');
    await waitFor('the new instance scraped', async () => (await upTargets())[added.name] === '1', {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    await system.waitGroupsStable();
    await system.remove(added.name);
    await waitFor(
      'the removed instance no longer a target',
      async () => {
        const t = (await (await fetch(`${prom.url}/api/v1/targets?state=active`)).json()) as {
          data: { activeTargets: { labels: { instance: string } }[] };
        };
        return !t.data.activeTargets.some((x) => x.labels.instance === added.name);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  });

  it('a killed worker raises PayproofWorkerRestarted; nothing fired before', async () => {
    expect((await prom.alerts()).filter((a) => a.state === 'firing').map((a) => a.labels.alertname)).toEqual(
      [],
    );
    const victim = system.ofKind('purchase')[0]!;
    const before = victim.restarts;
    system.signal(victim.name, 'SIGKILL');
    await waitFor(
      'the supervisor restarted it',
      async () => victim.restarts > before && victim.proc.running,
      {
        timeoutMs: 30_000,
      },
    );
    const alert = await waitFor(
      'PayproofWorkerRestarted firing',
      async () =>
        (await prom.alerts()).find(
          (a) =>
            a.labels.alertname === 'PayproofWorkerRestarted' &&
            a.labels.instance === victim.name &&
            a.state === 'firing',
        ),
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(alert.labels.severity).toBe('page');
  });
});
