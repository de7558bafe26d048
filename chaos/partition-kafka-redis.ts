// Kafka AND Redis unreachable (issue 15): both transports gone. The relay's breaker opens, but its
// appends to the streams fail too, so nothing is marked and the outbox keeps every row; Redis comes
// back first (at 25 s) and the fallback takes the backlog; Kafka comes back at 35 s and gets every
// event. Nothing lost, nothing doubled, the caches converge (invalidations parked while Redis was away).
import {
  apiUnaffected,
  bugAlerts,
  noLostAnswers,
  ranAtAll,
  standardProbes,
  steadyAfter,
  steadyBefore,
} from '../harness/chaos/defaults.ts';
import { partition } from '../harness/chaos/network-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'partition-kafka-redis',
  description:
    'Kafka and Redis proxies disabled together (Redis back after 15 s, Kafka after 25 s): the outbox buffers, nothing lost',
  hypothesis:
    'during: confirmations unaffected, no transport takes the outbox rows while both are down (nothing marked), the fallback takes them once Redis is back; after: Kafka gets every event, every group converges, caches converge, nothing lost or doubled',
  load: { duration: '55s' },
  timeline: [
    { at: '10s', for: '25s', fault: partition('kafka') },
    { at: '10s', for: '15s', fault: partition('redis') },
  ],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000, errorPct: 2 } }) },
  recoverWithin: '60s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  transport: { maxSwitches: 2 },
  checker: { convergenceTimeout: '90s' },
  // While both are down no transport takes the rows: the backlog grows and pages (the one scenario
  // where it must, since the fallback; the planted alerting bug alert-wrong-metric is caught here).
  // After the heals the relay re-publishes the fallback-only rows to Kafka first and fresh rows
  // wait behind them: the backlog alert may fire again then (a run, 18:45: fired +10 s, last seen
  // 26 s after the last heal).
  alerts: {
    fire: [
      { alert: 'PayproofOnFallbackTransport', within: '20s', clearWithin: '30s' },
      { alert: 'PayproofOutboxBacklogGrowing', within: '20s', clearWithin: '40s' },
    ],
    silent: [...bugAlerts, 'PayproofApiUnavailable'],
  },
});
