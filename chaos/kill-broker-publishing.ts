// Three brokers: the leader of the relay's busiest partition is SIGKILLed while the relay publishes
// into it, and stays down 20 s. The relay's in-flight batch fails or times out; it is retried on
// the new leader (the same event ids: the inbox absorbs a batch that had landed); the outbox marks
// rows published only after acks=all. Run with `--target native-cluster`.
import { killLeader } from '../harness/chaos/broker-faults.ts';
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
  name: 'kill-broker-publishing',
  description:
    "cluster: SIGKILL the leader of the relay's busiest partition mid-publish, down 20 s: relay fails over",
  hypothesis:
    "during: confirmations unaffected; the relay's batch to the dead leader is retried on the new one; after: outbox drained, nothing lost, re-publications absorbed",
  // Three JVMs share the 2 cores with everything else: 30 VUs, not the chaos default's 60.
  load: { vus: 30 },
  timeline: [{ at: '10s', for: '20s', fault: killLeader({ relayTopic: true }) }],
  steadyState: { probes: clusterProbes() },
  recoverWithin: '60s',
  expect: { run: ranAtAll, ...clusterExpect },
  invariants: { mayBeUnexercised: noLostAnswers },
  // A broker's failure is Kafka's business: PostgreSQL stays up, the API answers, nothing is dead-lettered.
  alerts: { fire: [], silent: [...bugAlerts, ...databaseUpAlerts] },
});
