import { backoffMs, sleep } from '../../lib/backoff.ts';
import { intFromEnv } from '../../lib/config.ts';
import { isTransient } from '../../lib/errors.ts';
import { metrics } from '../../lib/metrics.ts';
import { runWorker } from '../../lib/worker.ts';
import { handleTrainerAllocated } from './handler.ts';
import { topUp } from './topup.ts';

await runWorker({
  group: 'session-worker',
  setup: async ({ pool, dashboards, log, clockSkewMs, env }) => {
    const intervalMs = intFromEnv(env, 'TOPUP_INTERVAL_MS', 5_000, 100);
    const minAgeMs = intFromEnv(env, 'TOPUP_MIN_AGE_MS', 30_000, 0);
    const stop = new AbortController();
    const loop = (async () => {
      let failures = 0;
      while (!stop.signal.aborted) {
        try {
          const n = await topUp(pool, dashboards, { skewMs: clockSkewMs, minAgeMs });
          if (n > 0) {
            metrics.sessionsToppedUp.inc(n);
            log.info({ created: n }, 'top-up');
          }
          failures = 0;
          await sleep(intervalMs, stop.signal);
        } catch (err) {
          if (!isTransient(err)) log.error({ err }, 'top-up failed');
          metrics.retries.inc({ component: 'session-topup', reason: 'error' });
          await sleep(backoffMs(failures++, { maxMs: intervalMs }), stop.signal);
        }
      }
    })();
    return {
      handler: handleTrainerAllocated,
      close: async () => {
        stop.abort();
        await loop;
      },
    };
  },
});
