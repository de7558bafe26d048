// Two more session workers join for 20 s with clocks 3 hours ahead and 3 hours behind
// (PAYPROOF_CLOCK_SKEW_MS): their top-up jobs and their handling of TRAINER_ALLOCATED compute the
// rolling window from a skewed "now". The window may reach as far as the fastest clock says, never
// beyond it, never hold two sessions for one slot, and never lose one.
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

const skewMs = 3 * 3_600_000;

export default defineScenario({
  name: 'clock-skew',
  description: 'session workers with clocks ±3 h join for 20 s: the rolling window stays consistent',
  hypothesis:
    'during: top-up jobs on skewed clocks run side by side; after: every window consistent with the clock within the skew, no duplicate session',
  timeline: [
    {
      at: '10s',
      for: '20s',
      fault: extraInstances(
        'session',
        [{ PAYPROOF_CLOCK_SKEW_MS: String(skewMs) }, { PAYPROOF_CLOCK_SKEW_MS: String(-skewMs) }],
        'session workers ±3 h',
      ),
    },
  ],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000 } }) },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: notAboutRedelivery },
  checker: { clockToleranceMs: skewMs },
  alerts: { fire: [], silent: [...bugAlerts, ...databaseUpAlerts] },
});
