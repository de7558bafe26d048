// The live status line of a load or chaos run: elapsed, the phase (warm-up, load x/y s, the fault
// on and for how long, converging, checking), VUs, requests/s, confirm p95, errors, and while
// converging the outbox backlog and the consumer lag.
import type { RunProgress } from '../chaos/run.ts';
import { clock } from './progress.ts';

const int = (x: number | undefined) => (x === undefined ? '–' : String(Math.round(x)));

export function formatRunProgress(p: RunProgress): string {
  const parts: string[] = [];
  switch (p.phase) {
    case 'setup':
      parts.push('setup (fixtures)');
      break;
    case 'warm-up':
      parts.push('setup and warm-up');
      break;
    case 'load':
      parts.push(
        `load ${Math.floor(p.loadS)}${p.loadTotalS !== null ? `/${Math.round(p.loadTotalS)}` : ''} s`,
      );
      break;
    case 'converging':
      parts.push('converging');
      break;
    case 'checking':
      parts.push('checking invariants');
      break;
  }
  if (p.fault)
    parts.push(
      `fault ${p.fault.label} at ${Math.floor(p.fault.onS)}${p.fault.forS !== null ? ` of ${Math.round(p.fault.forS)}` : ''} s`,
    );
  else if (p.healed > 0 && p.phase === 'load')
    parts.push(`${p.healed} fault${p.healed > 1 ? 's' : ''} healed`);
  const loading = p.phase === 'load' || p.phase === 'warm-up';
  if (loading)
    parts.push(
      `${int(p.vus)} VUs`,
      `${int(p.rps)} req/s`,
      `confirm p95 ${p.confirmP95Ms === undefined ? '–' : `${Math.round(p.confirmP95Ms)} ms`}`,
    );
  parts.push(`${p.errors} errors`);
  if (p.phase === 'converging' || p.phase === 'checking')
    parts.push(`outbox backlog ${int(p.outboxBacklog)}`, `consumer lag ${int(p.lag)}`);
  return `[${clock(p.elapsedS)}] ${parts.join(' · ')}`;
}
