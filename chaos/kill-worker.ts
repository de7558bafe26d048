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
  alerts: {
    fire: [{ alert: 'PayproofWorkerRestarted', within: '15s', clearWithin: '45s' }],
    silent: [...bugAlerts, ...databaseUpAlerts],
  },
});
