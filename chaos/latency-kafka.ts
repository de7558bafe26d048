// 200 ± 50 ms of latency each way on every Kafka connection for 20 s: produce round trips (acks=all)
// and fetches slow down. The API does not notice; the relay's batches grow, the backlog and the
// lag rise a little and drain after the heal.
//
// The load is the open model of the catch-up scenarios (80 payments/s). It ran the closed default of
// then (60 users), which saturates the machine (~220 payments/s, 195% busy): the largest group's lag
// peaked at 244-680 before the fault. PayproofConsumerLagGrowing (lag > 100 and growing, for 6 s in
// a chaos run's compressed time) was then pending on noise before the fault in most runs, and the
// time it took to fire measured the noise (2.4-11.4 s over 7 runs), not the alert (docs/chaos.md,
// "Seventh run"). At 80 payments/s the lag stays mostly under 100 until the fault (single reads up
// to 194, never above 100 and growing for 6 s).
import {
  apiUnaffected,
  bugAlerts,
  catchUpLoad,
  databaseUpAlerts,
  notAboutRedelivery,
  ranAtAll,
  standardProbes,
  steadyAfter,
  steadyBefore,
} from '../harness/chaos/defaults.ts';
import { latency } from '../harness/chaos/network-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'latency-kafka',
  description: 'Kafka latency 200±50 ms each way for 20 s: the API unaffected, lag rises then drains',
  hypothesis:
    'during: confirmations unaffected (the outbox decouples them); after: backlog and lag back to the steady state',
  load: catchUpLoad,
  timeline: [{ at: '10s', for: '20s', fault: latency('kafka', 200, 50) }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000, errorPct: 2 } }) },
  recoverWithin: '30s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: notAboutRedelivery },
  // Fetches 400 ms slower: the groups fall behind. From a quiet steady state the alert fired 9.8-11.8 s
  // after the fault began (seven runs, 2026-12-02): the lag read (every 2 s, its round trips slowed
  // too) sees the growth after ~4 s, then the rule's `for` (6 s) runs. Cleared 1.8-4.8 s after the heal.
  alerts: {
    fire: [{ alert: 'PayproofConsumerLagGrowing', within: '15s', clearWithin: '20s' }],
    silent: [...bugAlerts, ...databaseUpAlerts],
  },
});
