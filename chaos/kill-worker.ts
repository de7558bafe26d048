// SIGKILL one instance of each worker kind, twice, mid-batch (under load a batch is nearly always in
// flight): its open transaction rolls back, its uncommitted offsets are redelivered to the
// survivor or to the restarted process, and the inbox absorbs every redelivery. Two instances of
// the purchase and allocation workers, so a kill also moves partitions.
import {
  apiUnaffected,
  bugAlerts,
  databaseUpAlerts,
  noLostAnswers,
  ranAtAll,
  standardProbes,
  steadyAfter,
  steadyBefore,
} from '../harness/chaos/defaults.ts';
import { kill } from '../harness/chaos/process-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

const everyWorker = ['purchase', 'allocation', 'session', 'cache'] as const;

export default defineScenario({
  name: 'kill-worker',
  description: 'SIGKILL one instance of each worker kind mid-batch, twice: restarted, redeliveries absorbed',
  hypothesis:
    'during: confirmations unaffected; the killed workers are restarted by the supervisor; after: every redelivered event absorbed by the inbox (no duplicate effect), everything converges',
  system: { instances: { purchase: 2, allocation: 2, session: 1, cache: 1 } },
  timeline: [
    { at: '10s', fault: kill(everyWorker) },
    { at: '20s', fault: kill(everyWorker, 'last') },
  ],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000 } }) },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  mustExercise: { restarts: 8 },
  // A restart within two seconds is too quick for `up == 0` to last; the restart itself pages.
  // Fired 7.0 s and 11.2 s after the first kill in the runs docs/observability.md records, 17.4 s
  // in the CI rehearsal of 2026-12-02 00:03 (the restarted worker must start on a saturated machine
  // and be scraped, then the rule evaluated): 15 s became 25 s.
  alerts: {
    fire: [{ alert: 'PayproofWorkerRestarted', within: '25s', clearWithin: '45s' }],
    silent: [...bugAlerts, ...databaseUpAlerts],
  },
});
