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
  // The closed model (60 users thinking ~250 ms), the chaos default until 2026-12-02, not today's
  // 100 payments/s. What makes no-duplicate-sessions decide here is a TRAINER_ALLOCATED reaching the
  // session worker twice: a copy twice in its topic, or a rebalance. Both are chance, and more sends
  // in flight when a cut comes should make a second copy likelier. TRAINER_ALLOCATED twice in
  // Kafka / rebalances: 51 / 3 at 12:24 (60 users), 184 / 3 at 13:47 (100/s), 0 / 0 at 14:55
  // (100/s: UNKNOWN), 24 / 0 at 15:21 (60 users). At 60 users it passed in the four
  // `npm run verify` runs before (docs/chaos.md, fourth to seventh run). The fallback's
  // re-publications also reach a group twice (stream, then Kafka), but the checker counts copies in
  // Kafka only; counting those from the Redis streams is left for later.
  load: { vus: 60, duration: '60s' },
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
