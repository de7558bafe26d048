// SIGKILL the outbox relay twice. A kill between the broker's acknowledgement and the
// `published_at` update re-publishes the same event ids after the restart (duplicates in the
// topics, absorbed by the inbox); a kill before the publish leaves the rows for the next relay.
// Confirmations never wait for the relay.
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
import { kill } from '../harness/chaos/process-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'kill-relay',
  description: 'SIGKILL the outbox relay twice: restarted, nothing lost, re-publications absorbed',
  hypothesis:
    'during: confirmations unaffected, the backlog grows until the restart; after: it drains, nothing lost or doubled',
  timeline: [
    { at: '10s', fault: kill(['relay']) },
    { at: '22s', fault: kill(['relay']) },
  ],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000 } }) },
  recoverWithin: '30s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  mustExercise: { restarts: 2 },
  alerts: { fire: [], silent: [...bugAlerts, ...databaseUpAlerts] },
});
