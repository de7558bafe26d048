// Redis unreachable (proxy disabled) for 60 s, longer than any retry loop. The workers park every
// invalidation Redis refuses in pending_invalidations instead of retrying inside the consume loop
// (no heartbeat missed, no partition held), and their sweepers deliver them within about a second
// of Redis coming back: no dashboard stays stale (cache-converged), nothing waits for the 1 h TTL.
import {
  apiUnaffected,
  bugAlerts,
  noLostAnswers,
  ranAtAll,
  standardProbes,
  steadyAfter,
  steadyBefore,
} from '../harness/chaos/defaults.ts';
import { partition } from '../harness/chaos/network-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'partition-redis-long',
  description:
    'Redis proxy disabled for 60 s: invalidations parked durably, delivered after, caches converge',
  hypothesis:
    'during: confirmations unaffected, the consumers keep up (invalidations parked, not retried in the loop), the dependency alert fires; after: the parked invalidations are delivered within seconds and every cached dashboard equals the database view',
  load: { duration: '85s' },
  timeline: [{ at: '10s', for: '60s', fault: partition('redis') }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000, errorPct: 2 } }) },
  recoverWithin: '30s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  // Nothing here redelivers a TRAINER_ALLOCATED: the session duplicate guard may go unexercised.
  invariants: { mayBeUnexercised: [...noLostAnswers, 'no-duplicate-sessions'] },
  alerts: {
    fire: [{ alert: 'PayproofDependencyDown', within: '15s', clearWithin: '20s' }],
    silent: [...bugAlerts, 'PayproofApiUnavailable'],
  },
});
