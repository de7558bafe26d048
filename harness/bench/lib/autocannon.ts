// The independent cross-check: the same confirm-only load from autocannon (npm, programmatic API),
// fixed connections, no think time, each request confirming the next pre-created payment.
import { createRequire } from 'node:module';
import { providerEvent, signedWebhook } from '../../lib/provider.ts';
import { benchPriceCents } from './payments.ts';

interface AutocannonHistogram {
  readonly average: number;
  readonly p50: number;
  readonly p90: number;
  readonly p97_5: number;
  readonly p99: number;
  readonly p99_9: number;
  readonly max: number;
  readonly total: number;
}

interface AutocannonResult {
  readonly latency: AutocannonHistogram;
  readonly requests: AutocannonHistogram;
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly '2xx': number;
}

interface AutocannonRequest {
  method?: string;
  path?: string;
  body?: string;
  headers?: Record<string, string>;
}

type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;

export interface AutocannonFigures {
  readonly connections: number;
  readonly durationS: number;
  readonly requests: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly perS: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  /** Requests past the end of the payment list (would re-confirm the last one): should be 0. */
  readonly exhausted: number;
}

export async function runAutocannon(o: {
  readonly apiUrl: string;
  readonly ids: readonly string[];
  readonly tag: string;
  readonly connections: number;
  readonly durationS: number;
}): Promise<AutocannonFigures> {
  let next = 0;
  let exhausted = 0;
  const result = await autocannon({
    url: o.apiUrl,
    connections: o.connections,
    duration: o.durationS,
    pipelining: 1,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req: AutocannonRequest) => {
          const i = next++;
          const id = o.ids[Math.min(i, o.ids.length - 1)]!;
          if (i >= o.ids.length) exhausted++;
          const webhook = signedWebhook(
            providerEvent(
              { id, amountCents: benchPriceCents, currency: 'EUR' },
              { providerPaymentId: `ac_${o.tag}_${Math.min(i, o.ids.length - 1)}` },
            ),
          );
          req.path = webhook.path;
          req.body = webhook.body;
          req.headers = { 'content-type': 'application/json', ...webhook.headers };
          return req;
        },
      },
    ],
  });
  return {
    connections: o.connections,
    durationS: result.duration,
    requests: result['2xx'] + result.non2xx,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    perS: result['2xx'] / Math.max(0.001, result.duration),
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    p999: result.latency.p99_9,
    max: result.latency.max,
    exhausted,
  };
}
