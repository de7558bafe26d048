// Half-dead sockets: for 20 s every connection to PostgreSQL, Kafka and Redis lingers 3 s after it
// is closed (slow_close), and meanwhile the relay and the purchase worker are killed, so their
// connections close and reopen through the slow proxies. Nothing may hang for good: clients and
// pools must not wait on a socket that is closing.
import {
  bugAlerts,
  noLostAnswers,
  ranAtAll,
  standardProbes,
  steadyAfter,
  steadyBefore,
} from '../harness/chaos/defaults.ts';
import { slowClose } from '../harness/chaos/network-faults.ts';
import { kill } from '../harness/chaos/process-faults.ts';
import { defineScenario } from '../harness/chaos/scenario.ts';

export default defineScenario({
  name: 'slow-close',
  description:
    'every connection lingers 3 s on close (slow_close on all proxies) while the relay and a worker are killed',
  hypothesis:
    'during: no request hangs, the killed processes come back; after: everything converges, nothing lost or doubled',
  timeline: [
    { at: '10s', for: '20s', fault: slowClose('postgres', 3000) },
    { at: '10s', for: '20s', fault: slowClose('kafka', 3000) },
    { at: '10s', for: '20s', fault: slowClose('redis', 3000) },
    { at: '15s', fault: kill(['relay', 'purchase']) },
  ],
  steadyState: { probes: standardProbes() },
  recoverWithin: '45s',
  expect: { run: ranAtAll, before: steadyBefore, after: steadyAfter },
  invariants: { mayBeUnexercised: noLostAnswers },
  alerts: { fire: [], silent: bugAlerts },
});
