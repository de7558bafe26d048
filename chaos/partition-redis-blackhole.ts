// Redis black-holed (timeout toxic, both directions) for 15 s: connections stay open and every
// command times out instead of failing fast. Worse than a partition for a client without timeouts:
// here the bounded clients (commandTimeout) must keep the API answering and the cache worker
// retrying; after the heal the caches converge.
import {
  bugAlerts,
  notAboutRedelivery,
  ranAtAll,
  standardProbes,
  steadyAfter,
  steadyBefore,
} from '../harness/chaos/defaults.ts';
import { blackHole } from '../harness/chaos/network-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'partition-redis-blackhole',
  description:
    'Redis black hole (timeout toxic) for 15 s: clients time out, payments unaffected, caches converge',
  hypothesis:
    'during: confirmations succeed (they never touch Redis); dashboard reads may slow by the command timeout but answer; after: no stale dashboard',
  timeline: [{ at: '10s', for: '15s', fault: blackHole('redis') }],
  steadyState: { probes: standardProbes({ during: { errorPct: 5 } }) },
  recoverWithin: '30s',
  expect: {
    run: ranAtAll,
    before: steadyBefore,
    during: { 'http_req_failed{op:confirm}': ['rate<0.01'], payments_confirmed: ['count>50'] },
    after: steadyAfter,
  },
  invariants: { mayBeUnexercised: notAboutRedelivery },
  alerts: {
    fire: [{ alert: 'PayproofDependencyDown', within: '15s', clearWithin: '30s' }],
    silent: [...bugAlerts, 'PayproofApiUnavailable'],
  },
});
