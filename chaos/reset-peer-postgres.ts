// TCP resets on PostgreSQL connections for 10 s: half of the connections are reset (RST) 100 ms
// after they send data. Statements die mid-flight: the API may answer 5xx (outcome unknown: the
// commit may or may not have happened), the workers see connection loss (transient: retried).
// Nothing may be half-done, nothing lost, nothing dead-lettered.
import {
  bugAlerts,
  notAboutRedelivery,
  ranAtAll,
  standardProbes,
  steadyAfter,
  steadyBefore,
} from '../harness/chaos/defaults.ts';
import { resetPeer } from '../harness/chaos/network-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'reset-peer-postgres',
  description: 'PostgreSQL connections reset (RST) mid-statement for 10 s: unknown outcomes stay whole',
  hypothesis:
    'during: some requests fail or time out; every such payment ends with no effect or a complete one; after: no dead letter, everything converges',
  timeline: [{ at: '10s', for: '10s', fault: resetPeer('postgres', 100, 0.5) }],
  steadyState: { probes: standardProbes() },
  recoverWithin: '30s',
  expect: { run: ranAtAll, before: steadyBefore, after: steadyAfter },
  invariants: { mayBeUnexercised: notAboutRedelivery },
  alerts: { fire: [], silent: bugAlerts },
});
