// Many allocations competing for few trainers: 3 trainers with 300 seats each for thousands of
// purchases, and two more allocation workers added for 20 s (three allocators on three rows).
// Contention must turn into waits and retries (capacity_contended, 40P01, 40001), never into a
// trainer over capacity, a lost allocation or a dead letter; once the seats are gone, purchases
// are waitlisted with a reason.
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
import { extraInstances } from '../harness/chaos/process-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'deadlock-storm',
  description:
    '3 trainers × 300 seats, three allocation workers fighting for them: retries, never over capacity',
  hypothesis:
    'during: allocators contend on three rows and retry; after: no trainer over capacity, the counters equal the real counts, the rest waitlisted with a reason',
  system: { instances: { allocation: 1 }, seed: { trainers: 3, trainerCapacity: 300 } },
  timeline: [
    { at: '8s', for: '20s', fault: extraInstances('allocation', [{}, {}], '+2 allocation workers') },
  ],
  steadyState: { probes: standardProbes({ lag: 3_000, during: { confirmP95Ms: 5000 } }) },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: notAboutRedelivery },
  mustExercise: { capacityReached: 1, transactionsRolledBack: 1 },
  alerts: { fire: [], silent: [...bugAlerts, ...databaseUpAlerts] },
});
