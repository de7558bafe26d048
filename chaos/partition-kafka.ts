// Kafka unreachable (proxy disabled) for 15 s under load. The API never talks to Kafka: it writes
// the payment and its outbox row in one statement, so confirmation stays fast and nothing fails;
// the outbox buffers, the relay retries, and after the heal everything drains and converges.
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
import { partition } from '../harness/chaos/network-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'partition-kafka',
  description: 'Kafka proxy disabled for 15 s: confirmation stays fast (the outbox buffers), then converges',
  hypothesis:
    'during: confirmations as fast as before (p95 < 3 s, < 1% failed: Kafka is not on the confirm path), the outbox backlog grows; after: the relay drains it, every group catches up, nothing lost or doubled',
  timeline: [{ at: '10s', for: '15s', fault: partition('kafka') }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000, errorPct: 2 } }) },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  alerts: {
    fire: [{ alert: 'PayproofOutboxBacklogGrowing', within: '20s', clearWithin: '30s' }],
    silent: [...bugAlerts, ...databaseUpAlerts],
  },
});
