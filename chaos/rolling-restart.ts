// Three brokers restarted one after the other under load, each back in sync before the next (an
// upgrade). Leadership moves three times; consumer groups lose their coordinator at least once.
// Nothing acknowledged may be lost, nothing applied twice. Run with `--target native-cluster`.
import { rollingRestart } from '../harness/chaos/broker-faults.ts';
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
  name: 'rolling-restart',
  description: 'cluster: every broker restarted in turn, each back in sync before the next: nothing lost',
  hypothesis:
    'during: confirmations unaffected; leadership moves to followers in sync; after: every replica in sync, converged, nothing lost or doubled',
  // Three JVMs share the 2 cores with everything else: 30 VUs, not the chaos default's 60.
  load: { duration: '90s', vus: 30 },
  timeline: [{ at: '12s', fault: rollingRestart() }],
  steadyState: { probes: clusterProbes() },
  // 90 s, not the 60 s first written before any run: three runs here (2026-11-30, 21:17-21:33,
  // load average 2-30) recovered in 63.1, 66.9 and 68.0 s, invariants all held. What takes the time
  // is measured, not guessed: the relay moves to the Redis Streams during the roll and re-publishes
  // every row sent only there once Kafka is back (14-19k rows), and the workers' kafkajs consumers
  // rejoin their groups (two were restarted by the stall watchdog in the last run). A recovery past
  // 90 s still FAILS.
  recoverWithin: '90s',
  expect: { run: ranAtAll, ...clusterExpect },
  invariants: { mayBeUnexercised: noLostAnswers },
  // A broker's failure is Kafka's business: PostgreSQL stays up, the API answers, nothing is dead-lettered.
  alerts: { fire: [], silent: [...bugAlerts, ...databaseUpAlerts] },
});
