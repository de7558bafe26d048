// Messages that can never be processed (malformed JSON, schema violations) produced straight into
// PURCHASE_CONFIRMED's topic at 40 msg/s for 10 s under load: every one goes to purchase-worker.dlq
// with its reason, no worker crashes, no partition blocks, and the dead-letter alert pages while
// the DLQ grows, then clears once its window has passed.
import {
  apiUnaffected,
  noLostAnswers,
  ranAtAll,
  standardProbes,
  steadyAfter,
  steadyBefore,
} from '../harness/chaos/defaults.ts';
import { poisonFlood } from '../harness/chaos/poison-fault.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'poison-flood',
  description: '400 unprocessable messages (bad JSON, schema violations) in 10 s: dead-lettered, alert fires',
  hypothesis:
    'during: each poison message is dead-lettered with its reason, valid events keep flowing, confirmations unaffected; the DLQ alert fires; after: it clears, everything converges',
  timeline: [{ at: '10s', for: '10s', fault: poisonFlood({ ratePerS: 40, maxMessages: 400 }) }],
  steadyState: { probes: standardProbes({ during: { confirmP95Ms: 5000 } }) },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, during: apiUnaffected, after: steadyAfter },
  // Nothing here redelivers a TRAINER_ALLOCATED: the session duplicate guard is not exercised.
  invariants: { mayBeUnexercised: [...noLostAnswers, 'no-duplicate-sessions'] },
  alerts: {
    fire: [{ alert: 'PayproofDeadLetterQueueGrowing', within: '15s', clearWithin: '45s' }],
    silent: ['PayproofConstraintViolations', 'PayproofApiUnavailable'],
  },
});
