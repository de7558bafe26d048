// Three brokers: the busiest leader is cut off from every client (its Toxiproxy proxy disabled)
// for 15 s while the brokers still replicate among themselves. Its partitions take no writes from
// the relay and serve no fetches to the workers until the heal: the outbox buffers, then drains.
// Run with `--target native-cluster`.
import { isolateLeader } from '../harness/chaos/broker-faults.ts';
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
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'isolate-broker',
  description:
    'cluster: one broker (the busiest leader) unreachable by clients for 15 s: buffered, then drained',
  hypothesis:
    'during: confirmations unaffected (the outbox buffers what the isolated leader cannot take); after: backlog drains, nothing lost or doubled',
  // Three JVMs share the 2 cores with everything else: 30 VUs, not the chaos default's 60.
  load: { vus: 30 },
  timeline: [{ at: '10s', for: '15s', fault: isolateLeader() }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000 } }) },
  recoverWithin: '60s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  // A broker's failure is Kafka's business: PostgreSQL stays up, the API answers, nothing is dead-lettered.
  alerts: { fire: [], silent: [...bugAlerts, ...databaseUpAlerts] },
});
