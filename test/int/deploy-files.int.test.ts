// docker-compose.yml and the Dockerfile, checked without a Docker engine: deploy/check (Go) loads
// the compose file with compose-go, the loader docker compose itself uses, and parses the
// Dockerfile with BuildKit's parser, then checks the deployment's rules (pinned images,
// healthchecks, depends_on conditions, a service per process kind of system/contracts/processes.ts,
// every client address through Toxiproxy, proxies from a file, a non-root image). Built from the Go
// module proxy like Toxiproxy and actionlint, cached under the payproof cache.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cacheRoot, repoRoot } from '../../harness/toolchain/toolchain.ts';
import { processKinds } from '../../system/contracts/processes.ts';

const src = join(repoRoot, 'deploy', 'check');
let bin: string;

beforeAll(() => {
  const hash = createHash('sha256')
    .update(readFileSync(join(src, 'main.go')))
    .update(readFileSync(join(src, 'go.sum')))
    .digest('hex')
    .slice(0, 12);
  bin = join(cacheRoot(), `deploy-check-${hash}`, 'deploy-check');
  if (existsSync(bin)) return;
  mkdirSync(join(bin, '..'), { recursive: true });
  // go from the PATH, else where Go's own archive installs it or Debian's golang package puts it
  // (a machine whose Toxiproxy is cached may have skipped the bootstrap's go check).
  const go = ['go', '/usr/local/go/bin/go', '/usr/lib/go/bin/go'].find(
    (g) => spawnSync(g, ['version'], { stdio: 'ignore' }).status === 0,
  );
  if (!go) throw new Error('go build deploy/check: no go on this machine (apt-get install golang)');
  const r = spawnSync(go, ['build', '-buildvcs=false', '-o', bin, '.'], {
    cwd: src,
    encoding: 'utf8',
    timeout: 900_000,
  });
  if (r.status !== 0) throw new Error(`go build deploy/check: ${r.error?.message ?? r.stderr}`);
}, 900_000);

function check(dir = repoRoot) {
  const r = spawnSync(
    bin,
    [
      '--compose',
      join(dir, 'docker-compose.yml'),
      '--dockerfile',
      join(dir, 'Dockerfile'),
      '--kinds',
      processKinds.join(','),
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return {
    status: r.status,
    report: JSON.parse(r.stdout) as {
      errors: string[];
      services: Record<string, { image: string; dependsOn: Record<string, string> }>;
      dockerfile: Record<string, unknown>;
    },
    stderr: r.stderr,
  };
}

describe('deployment files', () => {
  it('docker-compose.yml and the Dockerfile pass compose-go, BuildKit and every deployment rule', () => {
    const { status, report } = check();
    expect(report.errors).toEqual([]);
    expect(status).toBe(0);
    // Infrastructure, toxiproxy, provision, prometheus, and one service per process kind: the list is data.
    expect(Object.keys(report.services).sort()).toEqual(
      ['kafka', 'postgres', 'prometheus', 'provision', 'redis', 'toxiproxy', ...processKinds].sort(),
    );
    expect(report.services.purchase!.dependsOn).toEqual({
      provision: 'service_completed_successfully',
      toxiproxy: 'service_healthy',
    });
    expect(report.dockerfile).toMatchObject({
      user: 'node',
      entrypoint: 'node system/main.ts',
      healthcheck: true,
    });
  });

  it("compose's Prometheus: promtool accepts its config and rules, and it scrapes one target per process kind", () => {
    const config = join(repoRoot, 'deploy', 'prometheus.yml');
    const r = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8', timeout: 60_000 });
    // Every rule of the project's file, however many there are.
    const rules = readFileSync(join(repoRoot, 'system', 'alerts', 'payproof.rules.yml'), 'utf8').match(
      /^\s+- alert: /gm,
    );
    expect(r.stderr + r.stdout).toContain(`SUCCESS: ${rules!.length} rules found`);
    expect(r.status).toBe(0);
    // The labels the rules and the dashboards group by, as the native stack's targets carry them.
    const kinds = [...readFileSync(config, 'utf8').matchAll(/instance: "([a-z-]+)#1", kind: ([a-z]+)/g)].map(
      (m) => m[2],
    );
    expect(kinds.sort()).toEqual([...processKinds].sort());
    const { report } = check();
    expect(report.services.prometheus!.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
  });

  it('names what is wrong: an unpinned image, a worker that is not restarted, a root image', () => {
    const dir = mkdtempSync(join(tmpdir(), 'payproof-deploy-files-'));
    cpSync(join(repoRoot, 'deploy'), join(dir, 'deploy'), { recursive: true });
    const compose = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')
      .replace('image: redis:7.4.5-alpine', 'image: redis:latest')
      .replace('    command: ["relay"]\n', '    command: ["relay"]\n    restart: "no"\n');
    writeFileSync(join(dir, 'docker-compose.yml'), compose);
    writeFileSync(
      join(dir, 'Dockerfile'),
      readFileSync(join(repoRoot, 'Dockerfile'), 'utf8').replace('USER node', 'USER root'),
    );
    const { status, report } = check(dir);
    expect(status).toBe(1);
    expect(report.errors).toEqual(
      expect.arrayContaining([
        'compose: service redis: image "redis:latest" is not pinned to a version',
        'compose: service relay is not restarted when it crashes (restart "no")',
        'dockerfile: the final stage runs as root (USER "root")',
      ]),
    );
  });
});
