// The heal guard: a small detached process that heals what a dead runner left broken. Its stdin is
// a pipe from the runner, which writes `+<pid>` when it pauses a process (SIGSTOP), `-<pid>` when
// it resumes it, `toxics` once it touched a proxy, and `done` when it healed everything itself.
// When stdin closes without `done` (the runner was killed, even with SIGKILL), the guard resumes
// every paused process and POSTs /reset to Toxiproxy (bounded), then exits.
//   node harness/chaos/heal-guard.ts <toxiproxyUrl>
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** The runner's side: registers paused pids and the end of the run with a guard process. */
export interface HealGuard {
  paused(pid: number): void;
  resumed(pid: number): void;
  /** Everything healed by the runner itself: the guard exits without touching anything. */
  done(): void;
}

export function startHealGuard(toxiproxyUrl: string): HealGuard {
  const child = spawn(process.execPath, [import.meta.filename, toxiproxyUrl], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  child.stdin?.on('error', () => undefined);
  const write = (line: string) => {
    if (child.stdin?.writable) child.stdin.write(`${line}\n`);
  };
  return {
    paused: (pid) => write(`+${pid}`),
    resumed: (pid) => write(`-${pid}`),
    done: () => {
      write('done');
      child.stdin?.end();
    },
  };
}

async function guard(toxiproxyUrl: string) {
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  const paused = new Set<number>();
  let done = false;
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (l) => {
    if (l === 'done') done = true;
    else if (l.startsWith('+')) paused.add(Number(l.slice(1)));
    else if (l.startsWith('-')) paused.delete(Number(l.slice(1)));
  });
  await new Promise<void>((resolve) => lines.once('close', resolve));
  if (done) return;
  for (const pid of paused) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGCONT');
        break;
      } catch {
        // not a group leader, or gone
      }
    }
  }
  await fetch(`${toxiproxyUrl}/reset`, { method: 'POST', signal: AbortSignal.timeout(5_000) }).catch(
    () => undefined,
  );
}

if (import.meta.filename === process.argv[1]) {
  await guard(process.argv[2] ?? 'http://127.0.0.1:8474');
  process.exit(0);
}
