// 20 ± 15 ms of latency each way on every PostgreSQL connection for 20 s (jitter reorders nothing
// inside one TCP stream but spreads the round trips). Every statement costs ~40 ms more: the
// confirm latency rises with it, nothing fails, nothing is lost.
import {
  bugAlerts,
  notAboutRedelivery,
  ranAtAll,
  standardProbes,
  steadyAfter,
  steadyBefore,
} from '../harness/chaos/defaults.ts';
import { latency } from '../harness/chaos/network-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'latency-postgres',
  description: 'PostgreSQL latency 20±15 ms each way (jitter) for 20 s: slower, never wrong',
  hypothesis:
    'during: confirm p95 grows by a few round trips but stays < 4 s and < 1% fail; after: back to the steady state, every flow complete',
  timeline: [{ at: '10s', for: '20s', fault: latency('postgres', 20, 15) }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000, errorPct: 2 } }) },
  recoverWithin: '30s',
  expect: {
    run: ranAtAll,
    before: steadyBefore,
    during: { 'http_req_duration{op:confirm}': ['p(95)<4000'], http_req_failed: ['rate<0.01'] },
    after: steadyAfter,
  },
  invariants: { mayBeUnexercised: notAboutRedelivery },
  alerts: { fire: [], silent: bugAlerts },
});
