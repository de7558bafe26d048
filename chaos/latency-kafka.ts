// 200 ± 50 ms of latency each way on every Kafka connection for 20 s: produce round trips (acks=all)
// and fetches slow down. The API does not notice; the relay's batches grow, the backlog and the
// lag rise a little and drain after the heal.
import {
  apiUnaffected,
  bugAlerts,
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
  timeline: [{ at: '10s', for: '20s', fault: latency('kafka', 200, 50) }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000, errorPct: 2 } }) },
  recoverWithin: '30s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: notAboutRedelivery },
  // Fetches 400 ms slower: the groups fall behind. Quiet runs (docs/observability.md): fired after 3
  // and 3 s, cleared 5 and 4 s after the heal.
  alerts: {
    fire: [{ alert: 'PayproofConsumerLagGrowing', within: '10s', clearWithin: '20s' }],
    silent: [...bugAlerts, ...databaseUpAlerts],
  },
});
