// The guardian outlives a runner that is killed with SIGKILL: it reads "+pid" / "-pid" lines on
// stdin, and when stdin closes (the runner died, however it died) it stops every pid still
// registered: SIGTERM to the process group, SIGKILL after a grace period. It ignores SIGINT and
// SIGTERM so that a Ctrl-C in the terminal leaves the orderly shutdown to the runner.
import { createInterface } from 'node:readline';

const graceMs = Number(process.argv[2] ?? 5000);
const pids = new Set<number>();

process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals) {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const pid = Number(line.slice(1));
  if (!Number.isInteger(pid) || pid <= 1) return;
  if (line.startsWith('+')) pids.add(pid);
  else if (line.startsWith('-')) pids.delete(pid);
});
rl.on('close', () => {
  const left = [...pids].filter(alive);
  if (left.length === 0) process.exit(0);
  for (const pid of left) signal(pid, 'SIGCONT');
  for (const pid of left) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  const timer = setInterval(() => {
    const still = left.filter(alive);
    if (still.length === 0) process.exit(0);
    if (Date.now() > deadline) {
      for (const pid of still) signal(pid, 'SIGKILL');
      clearInterval(timer);
      setTimeout(() => process.exit(0), 200);
    }
  }, 100);
});
