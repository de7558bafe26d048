// Open model: a new payment every 1/1000 s whether or not earlier ones finished, so a slow
// response cannot hide latency (no coordinated omission). Dropped iterations mean the generator
// could not offer the rate: then the latency figures do not describe 1000/s and the run fails.
import type { LoadProfile } from '../harness/load/profile.ts';
import { seedThresholds } from './shared/thresholds.ts';

const profile: LoadProfile = {
  name: 'arrival-1000',
  description: '1000 payments/s (constant-arrival-rate), create → confirm, 20% dashboard reads, 60 s',
  scenario: {
    executor: 'constant-arrival-rate',
    rate: 1000,
    timeUnit: '1s',
    duration: '60s',
    preAllocatedVUs: 400,
    maxVUs: 4000,
    gracefulStop: '15s',
  },
  workload: { repeatPurchase: 0.02, doubleConfirm: 0.05, idempotentRetry: 0.05, dashboardRead: 0.2 },
  thresholds: { ...seedThresholds, dropped_iterations: ['count==0'] },
};

export default profile;
