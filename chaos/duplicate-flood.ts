// Every event the system has emitted so far re-injected 3 times, shuffled within 50 positions,
// straight into the topics at 400 msg/s while the load runs: duplicates and reorderings at a scale
// the relay never produces. Every copy must be absorbed by the inbox (or by the domain's unique
// guards), with no second effect and no dead letter.
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
import { duplicateFlood } from '../harness/chaos/flood-fault.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'duplicate-flood',
  description: 'every emitted event re-injected ×3 out of order (window 50) at 400 msg/s: all absorbed',
  hypothesis:
    'during: the consumers absorb thousands of duplicates, confirmations unaffected; after: no duplicate effect anywhere, everything converges',
  timeline: [
    {
      at: '12s',
      for: '20s',
      fault: duplicateFlood({ duplication: 3, reorderWindow: 50, ratePerS: 400, maxMessages: 8_000 }),
    },
  ],
  steadyState: { probes: standardProbes({ lag: 3_000, during: { confirmP95Ms: 5000 } }) },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  mustExercise: { duplicatesDelivered: 1000, idempotencyHits: 1000 },
  alerts: { fire: [], silent: [...bugAlerts, ...databaseUpAlerts] },
});
