// 1000 payments fired at once: every one acknowledged, none duplicated (the checker proves the
// second half). Latency here is queueing by construction (Little's law): the bounds are about twice
// the highest p99 measured on a 2-core machine in CI's clean-clone rehearsals of 2026-12-04 (create
// 0.90-1.44 s, confirm 0.30-0.66 s in six; docs/benchmarks.md, twenty-third round), so a slower burst fails
// CI while the machine's run-to-run spread does not. Issue 11's goal (p95 ≤ 300 ms, p99 ≤ 500 ms)
// is not met on 2 cores; these are not that goal.
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
    'http_req_duration{op:create}': ['p(99)<3000'],
    'http_req_duration{op:confirm}': ['p(99)<1500'],
  },
};

export default profile;
