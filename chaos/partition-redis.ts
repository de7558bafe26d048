// Redis unreachable (proxy disabled) for 15 s. Redis holds caches only: payments and the flow do not
// need it. The cache worker cannot invalidate (it retries), dashboards are read from PostgreSQL; after
// the heal every cached dashboard equals the database view.
import {
  apiUnaffected,
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
  name: 'partition-redis',
  description: 'Redis proxy disabled for 15 s: payments unaffected, caches converge after the heal',
  hypothesis:
    'during: confirmations as fast as before and no failed request (the cache is optional on every path); after: the cache worker catches up and no dashboard is stale',
  timeline: [{ at: '10s', for: '15s', fault: partition('redis') }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000, errorPct: 2 } }) },
  recoverWithin: '30s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: notAboutRedelivery },
  alerts: {
    fire: [{ alert: 'PayproofDependencyDown', within: '15s', clearWithin: '30s' }],
    silent: [...bugAlerts, 'PayproofApiUnavailable'],
  },
});
