// `npm run load`: 1000 concurrent users, each creating and confirming a payment, reading the
// dashboard, then thinking about a second (so roughly 1,000 payments/s). The seed's thresholds.
import type { LoadProfile } from '../harness/load/profile.ts';
import { seedThresholds } from './shared/thresholds.ts';

const profile: LoadProfile = {
  name: 'default',
  description: '1000 VUs: create → confirm → dashboard → think ~1 s, for 60 s (closed model)',
  scenario: { executor: 'constant-vus', vus: 1000, duration: '60s', gracefulStop: '30s', startSpread: '1s' },
  workload: {
    thinkTime: '1s',
    thinkJitter: 0.25,
    repeatPurchase: 0.02,
    doubleConfirm: 0.05,
    idempotentRetry: 0.05,
    dashboardRead: 1,
    // A few attacks among the users: forged provider webhooks, reads of another student's dashboard.
    forgedWebhook: 0.01,
    foreignRead: 0.01,
    // The provider's realism: a capture delivered again later, and a payment_failed after it.
    lateProviderEvents: 0.01,
  },
  thresholds: seedThresholds,
};

export default profile;
