// A worker killed while it consumes from the Redis Streams fallback (issue 15): Kafka is cut for
// 30 s, the relay moves to the streams, and at 20 s and 28 s one instance of each worker kind is
// SIGKILLed mid-chunk. Its open transaction rolls back; the entries it took stay pending in the
// consumer group (XACK comes only after the commit) and are claimed by the surviving instance or the
// restarted process after FALLBACK_CLAIM_IDLE_MS (10 s); the inbox absorbs every copy, and after
// the heal Kafka gets every event of the outage once more.
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
import { kill } from '../harness/chaos/process-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

const everyWorker = ['purchase', 'allocation', 'session', 'cache'] as const;

export default defineScenario({
  name: 'kill-worker-fallback',
  description:
    'Kafka cut for 30 s and workers SIGKILLed while consuming from the Redis Streams fallback: pending entries claimed, nothing lost',
  hypothesis:
    'during: confirmations unaffected, the relay on the fallback, the killed workers restarted, their unacknowledged stream entries claimed by another consumer; after: every event in Kafka too, every copy absorbed by the inbox, nothing lost or doubled',
  system: { instances: { purchase: 2, allocation: 2, session: 1, cache: 1 } },
  load: { duration: '60s' },
  timeline: [
    { at: '10s', for: '30s', fault: partition('kafka') },
    { at: '20s', fault: kill(everyWorker) },
    { at: '28s', fault: kill(everyWorker, 'last') },
  ],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000, errorPct: 2 } }) },
  recoverWithin: '60s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  // Eight restarts (the harness's process control), and events delivered through the streams and
  // again through Kafka (the Redis streams' evidence): 12,009 in the verify of 2026-12-02 16:37.
  mustExercise: { restarts: 8, deliveredViaStreams: 100 },
  transport: { maxSwitches: 2, minStreamPublished: 1 },
  checker: { convergenceTimeout: '90s' },
  alerts: {
    fire: [
      { alert: 'PayproofOnFallbackTransport', within: '20s', clearWithin: '30s' },
      { alert: 'PayproofWorkerRestarted', within: '25s', clearWithin: '45s' },
    ],
    silent: [...bugAlerts, ...databaseUpAlerts],
  },
});
