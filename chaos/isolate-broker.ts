// Three brokers: the broker coordinating the most worker groups is cut off from every client (its
// Toxiproxy proxy disabled) for 15 s while the brokers still replicate among themselves. Its
// groups' members cannot heartbeat and are expired after the 10 s session timeout, so they join
// again after the heal (a rebalance); its partitions take no writes from the relay and serve no
// fetches until then: the outbox buffers, then drains. (Choosing the busiest leader instead left
// the groups alone: at 21:12 on 2026-11-30 nothing was redelivered and no group rebalanced, so
// no-duplicate-sessions came out unknown, not exercised.) Run with `--target native-cluster`.
import { isolateLeader } from '../harness/chaos/broker-faults.ts';
import {
  bugAlerts,
  clusterExpect,
  clusterProbes,
  databaseUpAlerts,
  noLostAnswers,
  ranAtAll,
} from '../harness/chaos/defaults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'isolate-broker',
  description:
    'cluster: one broker (the coordinator of most worker groups) unreachable by clients for 15 s: buffered, rejoined, drained',
  hypothesis:
    'during: confirmations unaffected (the outbox buffers what the isolated broker cannot take); after: the expired groups join again, backlog drains, nothing lost or doubled',
  // Three JVMs share the 2 cores with everything else: 30 VUs, not the chaos default's 60.
  load: { vus: 30 },
  timeline: [{ at: '10s', for: '15s', fault: isolateLeader() }],
  steadyState: { probes: clusterProbes() },
  recoverWithin: '60s',
  expect: { run: ranAtAll, ...clusterExpect },
  invariants: { mayBeUnexercised: noLostAnswers },
  // A broker's failure is Kafka's business: PostgreSQL stays up, the API answers, nothing is dead-lettered.
  alerts: { fire: [], silent: [...bugAlerts, ...databaseUpAlerts] },
});
