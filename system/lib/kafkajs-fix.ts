// A fix to kafkajs 2.2.4 applied at load: every process that imports it (system/lib/kafka.ts and
// harness/lib/kafka.ts do) gets it before it opens a connection.
//
// The bug: a connection's RequestQueue re-arms a 1 ms timer forever once it has had one answer.
// `scheduleCheckPendingRequests` arms a timer for `throttledUntil - Date.now()` ms, and
// `throttledUntil` is -1 unless the broker throttled the client: a delay of about minus the epoch,
// which Node sets to 1 ms (Node 24 also prints `TimeoutNegativeWarning`, tulios/kafkajs#1751). The
// timer's callback (`checkPendingRequests`) calls it again, so the loop never ends: about 1,000
// wake-ups a second for nothing, in every process with a kafkajs client (the unit test prints them:
// 175 in 200 ms). Measured: a scratch script holding one idle queue used 43 ms of CPU a second (a
// mutation run shared the machine); `npm run bench:idle` on the whole system: each worker 1.1 s of
// CPU per 20 s idle before, 0.6-0.7 s after (docs/benchmarks.md, seventh round).
// The proposed upstream fixes (#1755, #1768) only clamp the delay and keep the loop; this one is the
// one #1768's review suggests: with nothing pending and no throttle in effect, arm no timer.
// Nothing is lost by it: `push()` sends a request at once or queues it and calls this again (a
// timer is then armed), every answer and every timeout call `checkPendingRequests`, and a throttle
// with nothing pending still gets its timer at the throttle's end, as before.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The version whose RequestQueue this replaces a method of; another one must be read again. */
export const fixedKafkajsVersion = '2.2.4';

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL: the poll while requests wait for an in-flight slot. */
const checkPendingIntervalMs = 10;

interface RequestQueue {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  canSendSocketRequestImmediately(): boolean;
}

export const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as {
  new (options: Record<string, unknown>): RequestQueue;
  prototype: RequestQueue;
};

const { version } = require('kafkajs/package.json') as { version: string };

/** True when the fix is in place (kafkajs is the version it was written for). */
export const kafkajsFixed = version === fixedKafkajsVersion;

/** kafkajs's own method, kept for the test that shows the loop. */
export const kafkajsSchedule = RequestQueue.prototype.scheduleCheckPendingRequests;

if (kafkajsFixed) {
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(
    this: RequestQueue,
  ) {
    if (this.throttleCheckTimeoutId) return;
    const untilUnthrottled = this.throttledUntil - Date.now();
    let delay: number;
    if (this.pending.length > 0) delay = untilUnthrottled > 0 ? untilUnthrottled : checkPendingIntervalMs;
    else if (untilUnthrottled > 0) delay = untilUnthrottled;
    else return; // nothing waits and nothing throttles: the next push() or answer checks again
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, delay);
  };
}
