// The Target abstraction without services: parsing --target, what each provider cannot do and the
// UNKNOWN it makes, the target file and its published schema, and the process controllers (the
// docker one against a fake `docker` executable that records its calls; the native one against a
// real child process and a pid file rewritten as a supervisor would).
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../harness/chaos/catalogue.ts';
import { systemProcesses } from '../../harness/chaos/environment.ts';
import { cannotRun, runChaos } from '../../harness/chaos/run.ts';
import { systemFile } from '../../harness/system/metrics-endpoints.ts';
import { DockerController, dockerCli, NativePidController } from '../../harness/target/controllers.ts';
import {
  externalProvider,
  lacksOf,
  proxyResolver,
  targetFileFromStackJson,
} from '../../harness/target/external.ts';
import { nativeProvider } from '../../harness/target/native.ts';
import { dockerUnavailable } from '../../harness/target/providers.ts';
import { missingCapabilities, parseTargetRef } from '../../harness/target/target.ts';
import { type TargetFile, targetFileErrors, targetJsonSchema } from '../../harness/target/target-file.ts';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';

const example = (name: string) =>
  JSON.parse(readFileSync(join(repoRoot, 'docs/targets', name), 'utf8')) as TargetFile;

describe('--target', () => {
  it('is native by default, external:<file> names its file, anything else is refused with the list', () => {
    expect(parseTargetRef(undefined)).toEqual({ provider: 'native', text: 'native' });
    expect(parseTargetRef('native-cluster').provider).toBe('native-cluster');
    expect(parseTargetRef('external:deploy.json')).toEqual({
      provider: 'external',
      file: 'deploy.json',
      text: 'external:deploy.json',
    });
    expect(() => parseTargetRef('external')).toThrow(/external:<file>/);
    expect(() => parseTargetRef('kubernetes')).toThrow(/native, native-cluster, compose, testcontainers/);
  });
});

describe('what a target cannot do', () => {
  it('native can do everything but the cluster faults, native-cluster everything; an external one cannot scale, restart services or brokers, or plant bugs', () => {
    expect(Object.keys(nativeProvider().lacks)).toEqual(['brokers']);
    expect(
      nativeProvider({ provider: 'native-cluster', text: 'native-cluster' }, { brokers: 3 }).lacks,
    ).toEqual({});
    const lacks = lacksOf(example('native-supervise.example.json'));
    expect(Object.keys(lacks).sort()).toEqual(['brokers', 'planted-bugs', 'scaling', 'services']);
    const none = lacksOf({
      ...example('native-supervise.example.json'),
      processes: { controller: 'none', list: [] },
    });
    expect(none.processes).toMatch(/controller is none/);
    const { toxiproxy: _, ...noProxy } = example('native-supervise.example.json');
    expect(lacksOf(noProxy as TargetFile).network).toMatch(/no Toxiproxy/);
  });

  it('names each missing capability with its reason', () => {
    expect(missingCapabilities(['network', 'processes'], { processes: 'controller none' })).toEqual([
      'cannot kill and pause processes of the system: controller none',
    ]);
  });

  it('a scenario whose faults the target cannot perform is UNKNOWN with the reason, before anything starts', async () => {
    const file = {
      ...example('native-supervise.example.json'),
      processes: { controller: 'none' as const, list: [] },
    };
    const provider = externalProvider({ provider: 'external', text: 'external:test.json' }, file);
    const killWorker = await loadScenario('kill-worker');
    const restartKafka = await loadScenario('restart-kafka');
    const partitionKafka = await loadScenario('partition-kafka');
    expect(cannotRun(killWorker.timeline, [], provider)).toMatch(
      /target external:test.json cannot kill and pause processes of the system: .*controller is none/,
    );
    expect(cannotRun(restartKafka.timeline, [], provider)).toMatch(
      /cannot kill and restart infrastructure services/,
    );
    expect(cannotRun(partitionKafka.timeline, [], provider)).toBeUndefined();
    expect(cannotRun(partitionKafka.timeline, ['skip-inbox'], provider)).toMatch(/PAYPROOF_FAULTS/);
    expect(cannotRun(killWorker.timeline, ['skip-inbox'], nativeProvider())).toBeUndefined();

    // The run itself: a result folder, UNKNOWN (exit 2), the reason in result.json; nothing started.
    const reportsRoot = mkdtempSync(join(tmpdir(), 'payproof-target-'));
    const o = await runChaos({ scenario: killWorker, target: provider, reportsRoot, log: () => {} });
    expect(o.exitCode).toBe(2);
    expect(o.result.verdict).toBe('UNKNOWN');
    expect(o.result.reason).toMatch(/cannot kill and pause processes/);
    const written = JSON.parse(readFileSync(join(o.dir, 'result.json'), 'utf8'));
    expect(written.invariants[0]).toMatchObject({ name: 'chaos-faults-applied', valid: 'unknown' });
    expect(written.environment.target).toBe('external:test.json');
  });

  it('compose and testcontainers say in one line that Docker is missing and name the native default', () => {
    const why = dockerUnavailable('/nonexistent/docker');
    expect(why).toMatch(/no docker command/);
    const fake = fakeDocker('exit 1', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock');
    expect(dockerUnavailable(fake.path)).toMatch(
      /no Docker engine answers .*Cannot connect to the Docker daemon/,
    );
  });
});

describe('target file', () => {
  it('the examples in docs/targets are valid target files', () => {
    expect(targetFileErrors(example('native-supervise.example.json'))).toEqual([]);
    expect(targetFileErrors(example('compose-docker.example.json'))).toEqual([]);
  });

  it('refuses unknown keys by name, a wrong version, and a controller without what it needs', () => {
    const t = example('native-supervise.example.json');
    expect(targetFileErrors({ ...t, api: { url: 'http://x', port: 1 } })).toContain(
      "/api: unknown key 'port'",
    );
    expect(targetFileErrors({ ...t, version: 2 }).join()).toMatch(/\/version/);
    const noPid = { ...t, processes: { controller: 'native', list: [{ name: 'relay#1', kind: 'relay' }] } };
    expect(targetFileErrors(noPid)).toEqual([
      '/processes/list: relay#1: the native controller needs pidFile or pid',
    ]);
    const noContainer = { ...t, processes: { controller: 'docker', list: [{ name: 'api#1', kind: 'api' }] } };
    expect(targetFileErrors(noContainer)).toEqual([
      '/processes/list: api#1: the docker controller needs container',
    ]);
    expect(
      targetFileErrors({
        ...t,
        processes: { ...t.processes, list: [{ name: 'x', kind: 'mailer', pid: 1 }] },
      }).join(),
    ).toMatch(/kind/);
  });

  it('docs/target.schema.json is the schema generated from the TypeBox types', () => {
    const published = readFileSync(join(repoRoot, 'docs/target.schema.json'), 'utf8');
    expect(published).toBe(`${JSON.stringify(targetJsonSchema(), null, 2)}\n`);
  });

  it('--attach reads the processes npm run system lists beside its stack.json (system.json): a valid target file whose processes have metrics', () => {
    const dir = mkdtempSync(join(tmpdir(), 'payproof-attach-'));
    const stackJson = join(dir, 'stack.json');
    const endpoints = {
      databaseUrl: 'postgres://p@127.0.0.1:5432/p',
      kafkaBrokers: '127.0.0.1:9092',
      redisUrl: 'redis://127.0.0.1:6379',
      toxiproxyUrl: 'http://127.0.0.1:8474',
      direct: {
        databaseUrl: 'postgres://p@127.0.0.1:55432/p',
        kafkaBrokers: '127.0.0.1:59092',
        redisUrl: 'redis://127.0.0.1:56379',
      },
    };
    writeFileSync(stackJson, JSON.stringify({ endpoints }));
    // An older run, or npm run stack alone: no system.json, no processes.
    expect(systemProcesses(stackJson)).toEqual([]);
    expect(systemProcesses(undefined)).toEqual([]);
    writeFileSync(
      join(dir, 'system.json'),
      JSON.stringify(
        systemFile([
          { name: 'api#1', kind: 'api', metricsPort: 3000 },
          { name: 'relay#1', kind: 'relay', metricsPort: 40123 },
        ]),
      ),
    );
    const list = systemProcesses(stackJson);
    expect(list).toEqual([
      { name: 'api#1', kind: 'api', metricsUrl: 'http://127.0.0.1:3000' },
      { name: 'relay#1', kind: 'relay', metricsUrl: 'http://127.0.0.1:40123' },
    ]);
    const file = targetFileFromStackJson({ endpoints }, 'http://127.0.0.1:3000', list);
    expect(targetFileErrors(file)).toEqual([]);
    expect(file.processes).toEqual({ controller: 'none', list });
  });

  it('logical proxies resolve to the proxies the file names: kafka is every broker, kafka-N one', () => {
    const t = example('native-supervise.example.json');
    const three = proxyResolver({
      ...t,
      toxiproxy: { url: 'http://t', proxies: { kafka: ['k1', 'k2', 'k3'] } },
    });
    expect(three('kafka')).toEqual(['k1', 'k2', 'k3']);
    expect(three('kafka-2')).toEqual(['k2']);
    expect(() => three('postgres')).toThrow(/names no Toxiproxy proxy for postgres/);
  });
});

/** A `docker` executable that appends its arguments to a log and prints `out`. */
function fakeDocker(body = '', stderr = '') {
  const dir = mkdtempSync(join(tmpdir(), 'payproof-fake-docker-'));
  const path = join(dir, 'docker');
  const log = join(dir, 'calls.log');
  writeFileSync(
    path,
    `#!/bin/sh\necho "$@" >> ${log}\n${stderr ? `echo '${stderr}' >&2\n` : ''}case "$1" in\n  inspect) cat ${dir}/inspect-$(eval echo \\$$#) 2>/dev/null || echo 'false false 0 0 none' ;;\nesac\n${body}\n`,
  );
  chmodSync(path, 0o755);
  return {
    path,
    calls: () => readFileSync(log, 'utf8').trim().split('\n'),
    inspect: (container: string, line: string) =>
      writeFileSync(join(dir, `inspect-${container}`), `${line}\n`),
  };
}

describe('docker controller (against a fake docker that records its calls)', () => {
  it('kills, pauses and unpauses by container; reads running and restarts from docker inspect', () => {
    const docker = fakeDocker();
    const c = new DockerController(
      [
        {
          name: 'purchase-worker#1',
          kind: 'purchase',
          container: 'payproof-purchase-1',
          metricsUrl: 'http://127.0.0.1:9402',
        },
        { name: 'api#1', kind: 'api', container: 'payproof-api-1' },
      ],
      dockerCli(docker.path),
    );
    docker.inspect('payproof-purchase-1', 'true false 0 4242 2026-11-30T10:00:00Z');
    docker.inspect('payproof-api-1', 'true true 0 4343 2026-11-30T10:00:00Z');
    const [purchase, api] = c.processes();
    expect(purchase).toMatchObject({
      name: 'purchase-worker#1',
      running: true,
      restarts: 0,
      pid: 0,
      metricsPort: 9402,
    });
    expect(api!.running).toBe(false); // paused: not serving

    expect(c.signal('purchase-worker#1', 'SIGKILL')).toBe(true);
    c.signal('purchase-worker#1', 'SIGSTOP');
    c.signal('purchase-worker#1', 'SIGCONT');
    c.signal('api#1', 'SIGTERM');
    c.resume(purchase!);
    // The restart policy brought it back: a new StartedAt and the daemon's own count.
    docker.inspect('payproof-purchase-1', 'true false 1 4444 2026-11-30T10:00:05Z');
    expect(c.processes()[0]!.restarts).toBe(1);
    expect(c.pids()).toEqual([]);
    expect(docker.calls().filter((l) => !l.startsWith('inspect'))).toEqual([
      'kill --signal KILL payproof-purchase-1',
      'pause payproof-purchase-1',
      'unpause payproof-purchase-1',
      'kill --signal TERM payproof-api-1',
      'unpause payproof-purchase-1',
    ]);
    expect(docker.calls().filter((l) => l.startsWith('inspect'))[0]).toMatch(
      /^inspect --format \{\{\.State\.Running\}\} .* payproof-purchase-1$/,
    );
  });

  it('a failing docker command is an error that names the command and its message', () => {
    const docker = fakeDocker('exit 1', 'Error response from daemon: No such container: nope');
    const c = new DockerController(
      [{ name: 'relay#1', kind: 'relay', container: 'nope' }],
      dockerCli(docker.path),
    );
    expect(() => c.signal('relay#1', 'SIGKILL')).toThrow(
      /kill --signal KILL nope: exit 1: .*No such container/,
    );
  });
});

describe('native pid controller', () => {
  it('signals the pid in the pid file, follows a restart to the new pid and counts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'payproof-pids-'));
    const pidFile = join(dir, 'purchase-worker-1.pid');
    const first = spawn('sleep', ['30'], { stdio: 'ignore' });
    const second = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(pidFile, `${first.pid}\n`);
      const c = new NativePidController([
        { name: 'purchase-worker#1', kind: 'purchase', pidFile, metricsUrl: 'http://127.0.0.1:9472' },
      ]);
      expect(c.processes()[0]).toMatchObject({
        pid: first.pid,
        running: true,
        restarts: 0,
        metricsUrl: 'http://127.0.0.1:9472',
      });
      const exited = new Promise((r) => first.once('exit', (_code, sig) => r(sig)));
      expect(c.signal('purchase-worker#1', 'SIGKILL')).toBe(true);
      expect(await exited).toBe('SIGKILL');
      expect(c.processes()[0]!.running).toBe(false);
      // The supervisor restarted it: a new pid in the same file.
      writeFileSync(pidFile, `${second.pid}\n`);
      expect(c.processes()[0]).toMatchObject({ pid: second.pid, running: true, restarts: 1 });
      expect(c.restarts()).toBe(1);
      expect(c.pids()).toEqual([second.pid]);
      // The kernel applies a signal asynchronously: poll the process state (T stopped, S sleeping).
      const state = async (want: string) => {
        for (let i = 0; i < 100; i++) {
          const s = readFileSync(`/proc/${second.pid}/stat`, 'utf8');
          if (s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3) === want) return want;
          await new Promise((r) => setTimeout(r, 20));
        }
        return 'never';
      };
      c.signal('purchase-worker#1', 'SIGSTOP');
      expect(await state('T')).toBe('T');
      c.resume(c.processes()[0]!);
      expect(await state('S')).toBe('S');
    } finally {
      first.kill('SIGKILL');
      second.kill('SIGKILL');
    }
  });
});
