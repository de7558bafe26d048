// Ramps the arrival rate to find the knee: the per-second samples show the highest rate at which
// confirm p99 stays under 100 ms. Judged on correctness only; latency is what it measures.
import type { LoadProfile } from '../harness/load/profile.ts';

const profile: LoadProfile = {
  name: 'ramp',
  description: 'ramping-arrival-rate 100 → 500 → 1000 → 2000 → 3000 payments/s, 20 s per stage',
  scenario: {
    executor: 'ramping-arrival-rate',
    startRate: 100,
    timeUnit: '1s',
    stages: [
      { target: 500, duration: '20s' },
      { target: 1000, duration: '20s' },
      { target: 2000, duration: '20s' },
      { target: 3000, duration: '20s' },
    ],
    preAllocatedVUs: 500,
    maxVUs: 5000,
    gracefulStop: '15s',
  },
  workload: { repeatPurchase: 0.02, doubleConfirm: 0.05, idempotentRetry: 0.05, dashboardRead: 0.1 },
  http: { timeout: '10s' },
  thresholds: { checks: ['rate>0.99'], http_req_failed: ['rate<0.01'] },
};

export default profile;
