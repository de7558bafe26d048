// 1000 payments fired at once: every one acknowledged, none duplicated (the checker proves the
// second half). Latency here is queueing by construction (Little's law), so it is bounded loosely.
import type { LoadProfile } from '../harness/load/profile.ts';

const profile: LoadProfile = {
  name: 'burst-1000',
  description: '1000 VUs × 1 iteration started at the same instant',
  scenario: {
    executor: 'per-vu-iterations',
    vus: 1000,
    iterations: 1,
    maxDuration: '60s',
    gracefulStop: '30s',
  },
  workload: { doubleConfirm: 0.1, idempotentRetry: 0.1, dashboardRead: 0.2 },
  thresholds: {
    checks: ['rate>0.999'],
    http_req_failed: ['rate<0.001'],
    iterations: ['count==1000'],
    payments_confirmed: ['count==1000'],
    'http_req_duration{op:confirm}': ['p(99)<5000'],
  },
};

export default profile;
