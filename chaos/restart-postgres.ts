// PostgreSQL stopped by an immediate shutdown (SIGQUIT: every backend killed, no checkpoint) and
// started 3 s later (crash recovery from the WAL). Every open transaction is lost mid-flight: a
// confirmation in progress either committed whole (payment + outbox row, one statement) or not at
// all; the API answers 503 meanwhile; the workers and the relay reconnect and retry.
import { bugAlerts, ranAtAll, standardProbes, steadyAfter, steadyBefore } from '../harness/chaos/defaults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';
import { restartPostgres } from '../harness/chaos/service-faults.ts';

export default defineScenario({
  name: 'restart-postgres',
  description: 'PostgreSQL immediate shutdown (SIGQUIT) and restart 3 s later: nothing half-done, converges',
  hypothesis:
    'during: the API fails fast (503) and nothing is half-applied; after: crash recovery keeps every committed payment, the flow resumes and converges',
  timeline: [{ at: '10s', for: '3s', fault: restartPostgres() }],
  steadyState: { probes: standardProbes() },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, after: steadyAfter },
  // The API answers 503 while the database is away. Three seconds down is shorter than
  // PayproofDependencyDown's compressed `for` (6 s): only the 5xx rate pages. Runs
  // (docs/observability.md): fired after 6 and 5 s, cleared 6 and 6 s after the heal.
  alerts: {
    fire: [{ alert: 'PayproofApiUnavailable', within: '12s', clearWithin: '20s' }],
    silent: bugAlerts,
  },
});
