// CI's profile: the default load (1000 users, think ~1 s) for 30 s, on every submission.
import type { LoadProfile } from '../harness/load/profile.ts';
import { seedThresholds } from './shared/thresholds.ts';

const profile: LoadProfile = {
  name: 'short',
  description: 'CI: 1000 VUs, create → confirm → dashboard → think ~1 s, for 30 s',
  scenario: { executor: 'constant-vus', vus: 1000, duration: '30s', gracefulStop: '15s', startSpread: '1s' },
  workload: {
    thinkTime: '1s',
    thinkJitter: 0.25,
    repeatPurchase: 0.02,
    doubleConfirm: 0.05,
    idempotentRetry: 0.05,
    dashboardRead: 1,
  },
  thresholds: seedThresholds,
};

export default profile;
