// The compose target without a Docker engine: a fake `docker` executable answers `info`, `compose
// ... up / ps / config / kill / start / down`, `kill`, `wait`, `start`, `pause`, `inspect` with canned output and
// records every call; a local HTTP server stands in for the API's /readyz. It proves the exact docker
// calls the target makes to open, fault and close a deployment, the endpoints it derives from what
// compose says, and that a deployment already up is reused and never brought down. Nothing here ran
// against a real engine.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ComposeContainer,
  composeProvider,
  composeTargetFile,
  parseComposePs,
  toxiproxyConfigPath,
} from '../../harness/target/compose.ts';
import { dockerUnavailable } from '../../harness/target/docker-engine.ts';
import { parseTargetRef } from '../../harness/target/target.ts';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';

const composeFile = join(repoRoot, 'docker-compose.yml');
const compose = `compose -f ${composeFile} -p payproof`;

const pub = (TargetPort: number, PublishedPort = TargetPort) => [
  { URL: '0.0.0.0', TargetPort, PublishedPort, Protocol: 'tcp' },
  { URL: '::', TargetPort, PublishedPort, Protocol: 'tcp' },
];
const container = (
  Service: string,
  Publishers: ComposeContainer['Publishers'],
  Health = '',
): ComposeContainer => ({
  Name: `payproof-${Service}-1`,
  Service,
  State: 'running',
  Health,
  Publishers,
});

/** What `docker compose ps --format json` says of docker-compose.yml, up; the API on `apiPort`. */
function containers(apiPort: number): ComposeContainer[] {
  return [
    container('postgres', pub(5432, 55432), 'healthy'),
    container('redis', pub(6379, 56379), 'healthy'),
    container('kafka', pub(59092), 'healthy'),
    container('toxiproxy', [...pub(8474), ...pub(5432), ...pub(6379), ...pub(9092)], 'healthy'),
    container('api', pub(3000, apiPort), 'healthy'),
    container('relay', pub(9400, 9401), 'healthy'),
    container('purchase', pub(9400, 9402), 'healthy'),
    container('allocation', pub(9400, 9403), 'healthy'),
    container('session', pub(9400, 9404), 'healthy'),
    container('cache', pub(9400, 9405), 'healthy'),
    container('prometheus', pub(9090)),
  ];
}

/** The part of `docker compose config --format json` the target reads. */
const config = {
  name: 'payproof',
  services: {
    postgres: { environment: { POSTGRES_USER: 'payproof', POSTGRES_DB: 'payproof' } },
    kafka: {},
    toxiproxy: {
      command: ['-host', '0.0.0.0', '-port', '8474', '-config', '/config/toxiproxy.json'],
      volumes: [
        {
          type: 'bind',
          source: join(repoRoot, 'deploy/toxiproxy.json'),
          target: '/config/toxiproxy.json',
          read_only: true,
        },
      ],
    },
  },
};

/**
 * A `docker` that appends its argv to calls.log and answers from answers.json. `compose ... ps`
 * lists the containers only once `up` ran (or the deployment was up already: `alreadyUp`), one JSON
 * object per line as Compose >= 2.21 prints them; `down` takes them away.
 */
function fakeDocker(ps: ComposeContainer[], o: { alreadyUp?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'payproof-fake-compose-'));
  const path = join(dir, 'docker');
  writeFileSync(join(dir, 'answers.json'), JSON.stringify({ ps, config }));
  if (o.alreadyUp) writeFileSync(join(dir, 'up'), '');
  writeFileSync(
    path,
    `#!/usr/bin/env node
const fs = require('node:fs');
const dir = ${JSON.stringify(dir)};
const args = process.argv.slice(2);
fs.appendFileSync(dir + '/calls.log', args.join(' ') + '\\n');
const answers = JSON.parse(fs.readFileSync(dir + '/answers.json', 'utf8'));
const up = dir + '/up';
const print = (s) => process.stdout.write(s + '\\n');
if (args[0] === 'info') print('27.3.1');
else if (args[0] === 'wait') print('137');
else if (args[0] === 'inspect') print('true false 0 0 2026-11-30T10:00:00Z');
else if (args[0] === 'compose') {
  const sub = args[1] === '-f' ? args.slice(5) : args.slice(1);
  if (sub[0] === 'version') print('Docker Compose version v2.39.1');
  if (sub[0] === 'up') fs.writeFileSync(up, '');
  if (sub[0] === 'down') fs.rmSync(up, { force: true });
  if (sub[0] === 'config') print(JSON.stringify(answers.config));
  if (sub[0] === 'ps' && fs.existsSync(up)) {
    const only = sub.slice(1).filter((a) => !a.startsWith('-') && a !== 'json');
    for (const c of answers.ps) if (only.length === 0 || only.includes(c.Service)) print(JSON.stringify(c));
  }
}
`,
  );
  chmodSync(path, 0o755);
  const calls = () =>
    existsSync(join(dir, 'calls.log')) ? readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n') : [];
  return { path, calls, isUp: () => existsSync(join(dir, 'up')) };
}

let api: Server;
let apiPort: number;
beforeAll(async () => {
  api = createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? 200 : 404).end();
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiPort = (api.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => api.close(() => r())));

async function waitFor(ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const openOptions = { runDir: '', spec: {}, faults: [], seed: false, log: () => {} };

describe('compose target (against a fake docker that records its calls)', () => {
  it('starts docker-compose.yml, derives every endpoint from compose, kills, pauses, restarts services and brings it down', async () => {
    const docker = fakeDocker(containers(apiPort));
    const provider = composeProvider(parseTargetRef('compose'), { executable: docker.path, pollMs: 1 });
    expect(provider.unavailable()).toBeUndefined();
    expect(Object.keys(provider.lacks).sort()).toEqual(['brokers', 'planted-bugs', 'scaling']);
    expect(provider.lacks['planted-bugs']).toMatch(/NODE_ENV=production/);

    const t = await provider.open(openOptions);
    expect(t.owned).toBe(true);
    expect(t.system.apiUrl).toBe(`http://127.0.0.1:${apiPort}`);
    expect(t.endpoints).toMatchObject({
      // Through Toxiproxy's published ports (deploy/toxiproxy.json's listen ports)...
      databaseUrl: 'postgres://payproof@127.0.0.1:5432/payproof',
      redisUrl: 'redis://127.0.0.1:6379',
      toxiproxyUrl: 'http://127.0.0.1:8474',
      // ...and each service's own published port; Kafka at its host listener for both (its proxied
      // listener advertises toxiproxy:9092, which only the compose network resolves).
      kafkaBrokers: '127.0.0.1:59092',
      direct: {
        databaseUrl: 'postgres://payproof@127.0.0.1:55432/payproof',
        redisUrl: 'redis://127.0.0.1:56379',
        kafkaBrokers: '127.0.0.1:59092',
      },
    });
    expect(t.path).toBe('proxied');
    expect(t.proxies('kafka')).toEqual(['kafka']);
    expect(t.proxies('postgres')).toEqual(['postgres']);
    expect(t.services?.names()).toEqual(['kafka', 'postgres']);
    expect(t.system.processes().map((p) => [p.name, p.running, p.metricsPort])).toEqual([
      ['api#1', true, apiPort],
      ['relay#1', true, 9401],
      ['purchase-worker#1', true, 9402],
      ['allocation-worker#1', true, 9403],
      ['session-worker#1', true, 9404],
      ['cache-worker#1', true, 9405],
    ]);

    // docker kill cancels the restart policy: the target starts the container again once it exited.
    expect(t.system.signal('purchase-worker#1', 'SIGKILL')).toBe(true);
    await waitFor(() => docker.calls().includes('start payproof-purchase-1'));
    t.system.signal('session-worker#1', 'SIGSTOP');
    t.system.signal('session-worker#1', 'SIGCONT');
    await t.services!.kill('kafka');
    await t.services!.start('kafka');
    await t.services!.kill('postgres');
    await t.services!.start('postgres');
    await expect(t.services!.kill('redis')).rejects.toThrow(/no service redis \(kafka, postgres\)/);
    await t.close();
    await t.close(); // once only

    expect(docker.calls().filter((c) => !c.startsWith('inspect'))).toEqual([
      'info --format {{.ServerVersion}}',
      'compose version',
      `${compose} ps --format json`,
      `${compose} up -d --wait`,
      `${compose} config --format json`,
      `${compose} ps --format json`,
      'kill --signal KILL payproof-purchase-1',
      'wait payproof-purchase-1',
      'start payproof-purchase-1',
      'pause payproof-session-1',
      'unpause payproof-session-1',
      `${compose} kill -s KILL kafka`,
      `${compose} start kafka`,
      `${compose} ps --all --format json kafka`,
      `${compose} kill -s KILL postgres`,
      `${compose} start postgres`,
      `${compose} ps --all --format json postgres`,
      `${compose} down -v`,
    ]);
    expect(docker.isUp()).toBe(false);
  });

  it('reuses a deployment that is already up and never brings it down', async () => {
    const docker = fakeDocker(containers(apiPort), { alreadyUp: true });
    const file = join(mkdtempSync(join(tmpdir(), 'payproof-compose-file-')), 'compose.yml');
    const provider = composeProvider(parseTargetRef(`compose:${file}`), { executable: docker.path });
    const t = await provider.open(openOptions);
    expect(t.owned).toBe(false);
    await t.close();
    expect(docker.calls()).toEqual([
      `compose -f ${file} -p payproof ps --format json`,
      `compose -f ${file} -p payproof config --format json`,
      `compose -f ${file} -p payproof ps --format json`,
    ]);
    expect(docker.isUp()).toBe(true);
  });

  it('brings down what it started when the API never becomes ready', async () => {
    const docker = fakeDocker(containers(1)); // nothing listens on port 1
    const provider = composeProvider(parseTargetRef('compose'), { executable: docker.path });
    await expect(provider.open(openOptions)).rejects.toThrow(/not ready \(GET \/readyz\)/);
    expect(docker.calls().at(-1)).toBe(`${compose} down -v`);
  });

  it('derives, from docker-compose.yml up, the target file docs/targets/compose-docker.example.json describes by hand', () => {
    const proxies = JSON.parse(readFileSync(join(repoRoot, 'deploy/toxiproxy.json'), 'utf8'));
    const derived = composeTargetFile({
      name: 'x',
      ps: containers(3000),
      config,
      proxies,
      executable: 'docker',
    });
    const example = JSON.parse(
      readFileSync(join(repoRoot, 'docs/targets/compose-docker.example.json'), 'utf8'),
    );
    for (const key of ['api', 'postgres', 'kafka', 'redis', 'toxiproxy'] as const)
      expect(derived[key], key).toEqual(example[key]);
    expect(derived.processes.list).toEqual(example.processes.list);
  });

  it('brings down what a failed `up --wait` left behind', async () => {
    const docker = fakeDocker(containers(apiPort));
    const failingUp = `${readFileSync(docker.path, 'utf8')}\nif (args[1] === '-f' && args[5] === 'up') process.exit(1);\n`;
    writeFileSync(docker.path, failingUp);
    const provider = composeProvider(parseTargetRef('compose'), { executable: docker.path });
    await expect(provider.open(openOptions)).rejects.toThrow(/up -d --wait/);
    expect(docker.calls().slice(-2)).toEqual([`${compose} up -d --wait`, `${compose} down -v`]);
  });

  it('reads ps output as JSON lines (Compose >= 2.21) or as one array (before)', () => {
    const two = containers(3000).slice(0, 2);
    expect(parseComposePs(two.map((c) => JSON.stringify(c)).join('\n'))).toEqual(two);
    expect(parseComposePs(JSON.stringify(two))).toEqual(two);
    expect(parseComposePs('\n')).toEqual([]);
  });

  it("finds Toxiproxy's config where the compose file mounts it at -config, else deploy/toxiproxy.json", () => {
    expect(toxiproxyConfigPath(config, composeFile)).toBe(join(repoRoot, 'deploy/toxiproxy.json'));
    expect(toxiproxyConfigPath({ services: {} }, '/srv/app/compose.yml')).toBe(
      '/srv/app/deploy/toxiproxy.json',
    );
  });
});

describe('compose target on this machine', () => {
  it.skipIf(dockerUnavailable() === undefined)(
    'without a Docker engine, `--target compose` says so in one line and names the native default',
    () => {
      const r = spawnSync(
        process.execPath,
        [join(repoRoot, 'harness/cli/system.ts'), '--target', 'compose'],
        {
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(
        /^--target compose needs Docker: no (docker command on the PATH|Docker engine answers) .*; the default target is native \(--target native\)$/,
      );
    },
  );
});
