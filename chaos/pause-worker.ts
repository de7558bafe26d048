// SIGSTOP the first purchase and allocation workers for 15 s, longer than the session timeout (10 s):
// the group coordinator evicts them and hands their partitions to the other instance. On SIGCONT
// the zombies wake up mid-batch with stale assignments: their commits must fail or be absorbed,
// never applied twice.
import {
  apiUnaffected,
  bugAlerts,
  catchUpLoad,
  databaseUpAlerts,
  noLostAnswers,
  ranAtAll,
  standardProbes,
  steadyAfter,
  steadyBefore,
} from '../harness/chaos/defaults.ts';
import { pause } from '../harness/chaos/process-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'pause-worker',
  description: 'SIGSTOP a purchase and an allocation worker for 15 s (> 10 s session timeout), then SIGCONT',
  hypothesis:
    'during: the group evicts the paused members and the other instances take over; after: the woken zombies rejoin, nothing applied twice, everything converges',
  system: { instances: { purchase: 2, allocation: 2, session: 1, cache: 1 } },
  // The open model of partition-kafka (catchUpLoad): with the closed default of then, 60 users (~130
  // payments/s, the whole machine) the 15 s of events the paused pair left behind were caught up only
  // when the load stopped, and EventProcessingSlow cleared 32.3-33.9 s after the heal (3 runs,
  // 2026-12-02). At 80/s: 8.5-8.6 s (3 runs), the same 4 rebalances.
  load: catchUpLoad,
  timeline: [{ at: '10s', for: '15s', fault: pause(['purchase', 'allocation']) }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000 } }) },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  mustExercise: { rebalances: 2 },
  // A stopped process answers no scrape: up == 0 for longer than the rule's `for`. Its events wait
  // in Kafka meanwhile: once it resumes it commits events older than 5 s, and the end-to-end p99
  // pages (a quiet run: fired 18 s after the pause began, 3 s after the resume; cleared 8 s after).
  alerts: {
    fire: [
      { alert: 'PayproofWorkerDown', within: '15s', clearWithin: '20s' },
      { alert: 'PayproofEventProcessingSlow', within: '30s', clearWithin: '30s' },
    ],
    silent: [...bugAlerts, ...databaseUpAlerts],
  },
});
