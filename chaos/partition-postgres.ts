// PostgreSQL unreachable (proxy disabled) for 10 s under load. The API must answer 503 fast
// (no request hangs on a dead pool), nothing may be half-applied (a payment answered with an error
// has no effect or a complete one), the workers retry transient errors and never dead-letter
// them; after the heal everything converges.
import {
  bugAlerts,
  notAboutRedelivery,
  ranAtAll,
  standardProbes,
  steadyAfter,
  steadyBefore,
} from '../harness/chaos/defaults.ts';
import { partition } from '../harness/chaos/network-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'partition-postgres',
  description:
    'PostgreSQL proxy disabled for 10 s: the API answers 503 fast, nothing half-applied, then converges',
  hypothesis:
    'during: failed answers come back fast (p95 < 1 s), no payment half-done, no dead letter from a transient error; after: confirmations succeed again and every flow completes',
  timeline: [{ at: '10s', for: '10s', fault: partition('postgres') }],
  steadyState: { probes: standardProbes() },
  recoverWithin: '30s',
  // The workers retry their transactions in place: nothing has to redeliver a TRAINER_ALLOCATED
  // (a quiet run delivered 206 duplicates, none of them of that type).
  invariants: { mayBeUnexercised: notAboutRedelivery },
  alerts: {
    silent: bugAlerts,
    fire: [
      { alert: 'PayproofDependencyDown', within: '12s', clearWithin: '20s' },
      { alert: 'PayproofApiUnavailable', within: '12s', clearWithin: '20s' },
    ],
  },
  expect: {
    run: ranAtAll,
    before: steadyBefore,
    during: { 'http_req_duration{expected_response:false}': ['p(95)<1000'], http_req_failed: ['rate>0.5'] },
    after: steadyAfter,
  },
});
