// Kafka flapping (issue 15): cut for 4 s, back for 4 s, five times. The breaker needs 3 s of
// failures to open and 10 s of health to close, so it opens once and stays on the Redis Streams
// fallback through the flapping (never back on a Kafka that is up for 4 s at a time), then closes
// once Kafka has been steady for 10 s: two switches in all, not ten.
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
  name: 'flap-kafka',
  description:
    'Kafka proxy cut 4 s / back 4 s, five times: the breaker moves to the fallback once and back once (hysteresis), nothing lost',
  hypothesis:
    'during: confirmations unaffected, the relay moves to the Redis Streams fallback once and stays there while Kafka flaps; after: back on Kafka once, every fallback-only event re-published, nothing lost or doubled',
  load: { duration: '60s' },
  timeline: [0, 8, 16, 24, 32].map((s) => ({
    at: `${10 + s}s`,
    for: '4s',
    fault: partition('kafka'),
  })),
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000, errorPct: 2 } }) },
  recoverWithin: '60s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  transport: { maxSwitches: 2, minStreamPublished: 1 },
  checker: { convergenceTimeout: '90s' },
  // A 4 s cut barely trips a breaker that needs 3 s of failures seen by a probe every second: the
  // first run (18:25, load average 10-13) moved on the second cut, 12 s after the first injection.
  alerts: {
    fire: [{ alert: 'PayproofOnFallbackTransport', within: '30s', clearWithin: '30s' }],
    silent: [...bugAlerts, ...databaseUpAlerts],
  },
});
