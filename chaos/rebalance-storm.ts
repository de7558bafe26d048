// Consumers scaled up and down for 20 s: one more purchase, allocation and cache worker joins, the
// groups settle, it leaves, the groups settle, and again: rebalance after rebalance while events
// flow. Partitions move mid-batch; every revoked batch is redelivered to its new owner and absorbed.
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
import { rebalanceStorm } from '../harness/chaos/process-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'rebalance-storm',
  description:
    'purchase, allocation and cache workers scaled up and down every 4 s for 20 s: rebalances galore',
  hypothesis:
    'during: confirmations unaffected, groups keep rebalancing; after: nothing lost or doubled, everything converges',
  timeline: [{ at: '10s', for: '20s', fault: rebalanceStorm(['purchase', 'allocation', 'cache'], 2_000) }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000 } }) },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  mustExercise: { rebalances: 6 },
  alerts: { fire: [], silent: [...bugAlerts, ...databaseUpAlerts] },
});
