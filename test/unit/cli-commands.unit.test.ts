// Every command a user runs parses its flags strictly: --help prints usage, examples and the exit
// codes and exits 0 without starting anything; an unknown flag or value is one line on stderr that
// names the closest valid one, and exit 64 (a usage error is never read as PASS / FAIL / UNKNOWN).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plantedFaultNames } from '../../harness/cli/values.ts';
import { metricsLines } from '../../harness/system/metrics-endpoints.ts';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';
import { plantedFaults } from '../../system/lib/faults.ts';

/** Every npm script that is a command, and its entry point (package.json is the source). */
const commands: Record<string, string> = {
  stack: 'harness/cli/stack.ts',
  system: 'harness/cli/system.ts',
  chaos: 'harness/cli/chaos.ts',
  load: 'harness/cli/load.ts',
  property: 'harness/cli/property.ts',
  verify: 'harness/cli/verify.ts',
  report: 'harness/cli/report.ts',
  check: 'harness/cli/check.ts',
  trace: 'harness/cli/trace.ts',
  migrate: 'harness/cli/migrate.ts',
  mutate: 'harness/cli/mutate.ts',
  bootstrap: 'harness/toolchain/bootstrap.ts',
  'bench:stack': 'harness/bench/stack-bench.ts',
  'bench:system': 'harness/bench/system-bench.ts',
  'bench:load': 'harness/bench/load-bench.ts',
  'bench:kafka-client': 'harness/bench/kafka-client-bench.ts',
  'bench:auth': 'harness/bench/auth-bench.ts',
  'bench:idle': 'harness/bench/idle-bench.ts',
  'bench:http-client': 'harness/bench/http-client-bench.ts',
};

function run(
  script: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, script), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      // PAYPROOF_CACHE points nowhere: nothing may be installed or started by a usage error.
      env: { ...process.env, PAYPROOF_FAULTS: '', DATABASE_URL: '', PAYPROOF_CACHE: '/nonexistent' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm scripts', () => {
  it('every command script of package.json is covered here', async () => {
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as {
      scripts: Record<string, string>;
    };
    // `node [V8 flags] <entry point>`: bench:load gives its process a 4 MiB young generation and gc.
    const entry = (s: string | undefined) =>
      /^node (?:--[a-z-]+(?:=\S+)? )*(harness\/\S+\.ts)$/.exec(s ?? '')?.[1];
    for (const [name, script] of Object.entries(commands)) expect(entry(pkg.scripts[name])).toBe(script);
    const covered = new Set(Object.values(commands));
    const commandScripts = Object.values(pkg.scripts)
      .map(entry)
      .filter((s) => s !== undefined);
    expect(commandScripts.filter((s) => !covered.has(s))).toEqual([]);
  });
});

describe.concurrent.each(Object.entries(commands))('%s', (name, script) => {
  it('--help prints usage, options, examples and exit codes, exit 0', async () => {
    const r = await run(script, ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage:$/m);
    expect(r.stdout).toContain(`npm run ${name} --`);
    expect(r.stdout).toMatch(/^Options:$/m);
    expect(r.stdout).toMatch(/^Examples:\n {2}npm run /m);
    expect(r.stdout).toMatch(/^Exit codes: .*64 usage error/m);
    expect(r.stderr).toBe('');
  });

  it('an unknown flag is one line naming the valid ones, exit 64', async () => {
    const r = await run(script, ['--no-such-flag']);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^${name}: unknown flag --no-such-flag; (did you mean|valid:) --`));
    expect(lines[0]).toContain(`(see npm run ${name} -- --help)`);
  });
});

describe('closest valid flag or value', () => {
  const cases: [string, string[], RegExp][] = [
    ['harness/cli/load.ts', ['--profle', 'short'], /unknown flag --profle; did you mean --profile\?/],
    ['harness/cli/load.ts', ['--profile', 'shrot'], /--profile shrot: no such value; did you mean short\?/],
    ['harness/cli/load.ts', ['--duration', '3x'], /--duration 3x: not a duration/],
    ['harness/cli/load.ts', ['--vus', 'many'], /--vus many: expected an integer >= 1/],
    ['harness/cli/load.ts', ['--workers', 'purchse=2'], /unknown kind 'purchse'; did you mean purchase\?/],
    [
      'harness/cli/chaos.ts',
      ['partiton-kafka'],
      /unknown scenario 'partiton-kafka'; did you mean partition-kafka\?/,
    ],
    [
      'harness/cli/chaos.ts',
      ['kill-worker', '--faults', 'skip-inbx'],
      /--faults skip-inbx: no such value; did you mean skip-inbox\?/,
    ],
    ['harness/cli/chaos.ts', ['kill-worker', '--api', 'http://x'], /--api goes with --attach/],
    [
      'harness/cli/verify.ts',
      ['--only', 'chaos:kill-workr'],
      /no such step; did you mean chaos:kill-worker\?/,
    ],
    ['harness/cli/verify.ts', ['--quick=yes'], /--quick takes no value/],
    ['harness/cli/verify.ts', ['--load'], /--load needs a value/],
    ['harness/cli/property.ts', ['--planted', 'al'], /did you mean all\?/],
    ['harness/cli/mutate.ts', ['--goal', '120'], /--goal 120: expected a number >= 0 <= 100/],
    [
      'harness/cli/check.ts',
      ['--only', 'no-duplicate-purchase', '--stack', 'x'],
      /did you mean no-duplicate-purchases\?/,
    ],
    ['harness/cli/migrate.ts', [], /no database: pass --database-url or set DATABASE_URL/],
    ['harness/cli/report.ts', ['/nonexistent/run'], /\/nonexistent\/run is not a run folder/],
    ['harness/bench/system-bench.ts', ['--rate=-5'], /--rate -5: expected a number >= 0/],
    [
      'harness/bench/load-bench.ts',
      ['--step-duration', 'soon'],
      /--step-duration soon: expected a positive duration/,
    ],
  ];
  it.concurrent.each(cases)('%s %j', async (script, args, message) => {
    const r = await run(script, args);
    expect(r.code).toBe(64);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('PAYPROOF_FAULTS is checked like --faults', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(repoRoot, 'harness/cli/property.ts')], {
        cwd: repoRoot,
        env: { ...process.env, PAYPROOF_FAULTS: 'skip-inbx' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (b) => (stderr += b));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/PAYPROOF_FAULTS skip-inbx: not a planted bug; did you mean skip-inbox\?/);
  });
});

describe('values the commands check', () => {
  it("the harness's list of planted bugs is the system's", () => {
    expect([...plantedFaultNames]).toEqual([...plantedFaults]);
  });

  it('npm run system prints one /metrics address per process', () => {
    expect(
      metricsLines([
        { name: 'api#1', metricsPort: 3000 },
        { name: 'purchase-worker#1', metricsPort: 40123 },
      ]),
    ).toEqual([
      'api#1              http://127.0.0.1:3000/metrics',
      'purchase-worker#1  http://127.0.0.1:40123/metrics',
    ]);
  });
});
