// Thresholds shared by the profiles (STYLE: shared load settings in one module). The seed's goals:
// confirmation p95 < 100 ms, checks > 99.9%, and almost no failed requests.
import type { Thresholds } from '../../harness/load/thresholds.ts';

/** The seed's success criteria, k6 syntax. */
export const seedThresholds: Thresholds = {
  'http_req_duration{op:confirm}': ['p(95)<100', 'p(99)<250'],
  checks: ['rate>0.999'],
  http_req_failed: ['rate<0.001'],
};
