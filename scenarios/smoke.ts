// A few users for 10 s: does the flow work at all before a heavier profile is worth running?
import type { LoadProfile } from '../harness/load/profile.ts';

const profile: LoadProfile = {
  name: 'smoke',
  description: '5 VUs for 10 s, every risky path switched on often',
  scenario: { executor: 'constant-vus', vus: 5, duration: '10s', gracefulStop: '10s' },
  workload: {
    thinkTime: '500ms',
    repeatPurchase: 0.2,
    doubleConfirm: 0.2,
    idempotentRetry: 0.2,
    dashboardRead: 1,
  },
  thresholds: {
    checks: ['rate==1'],
    http_req_failed: ['rate==0'],
    'http_req_duration{op:confirm}': ['p(95)<250'],
    iterations: ['count>0'],
  },
};

export default profile;
