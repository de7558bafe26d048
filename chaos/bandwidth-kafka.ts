// Kafka throttled to 32 KB/s each way for 20 s: produce and fetch crawl (a batch of envelopes is
// several KB). The outbox absorbs what the relay cannot send, the consumers fall behind, the API
// does not notice; after the heal the backlog drains.
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
import { bandwidth } from '../harness/chaos/network-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'bandwidth-kafka',
  description: 'Kafka bandwidth 32 KB/s each way for 20 s: backlog grows, the API unaffected, then drains',
  hypothesis:
    'during: confirmations unaffected, the outbox backlog grows; after: it drains and every group catches up',
  timeline: [{ at: '10s', for: '20s', fault: bandwidth('kafka', 32) }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000, errorPct: 2 } }) },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: notAboutRedelivery },
  // The relay's produce requests crawl: the outbox backlog grows. Quiet runs (docs/observability.md):
  // fired after 9 and 9 s, cleared 4 and 6 s after the heal.
  alerts: {
    fire: [{ alert: 'PayproofOutboxBacklogGrowing', within: '20s', clearWithin: '20s' }],
    silent: [...bugAlerts, ...databaseUpAlerts],
  },
});
