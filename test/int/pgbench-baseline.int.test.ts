// The benchmarks' database baseline runs the API's own confirm statement (the provider webhook's,
// imported from system/api/payments.ts, not a copy that can drift): pgbench executes it against
// pending payments, every transaction confirms one payment and writes its outbox event.
import { describe, expect, inject, it } from 'vitest';
import { confirmScript, runPgbench } from '../../harness/bench/lib/pgbench.ts';

const stack = inject('stack');

describe('pgbench baseline', () => {
  it('is the webhook statement, and each of its transactions confirms one payment', async () => {
    const script = confirmScript();
    expect(script).toContain('INSERT INTO provider_events');
    expect(script).not.toMatch(/\$\d/);
    const r = await runPgbench({
      serverUrl: stack.direct.databaseUrl,
      clients: 2,
      durationS: 2,
      // Payments for 10,000/s: a quiet machine ran 3,400/s here, and a client that runs out confirms nothing.
      expectedTps: 10_000,
    });
    expect(r.failed).toBe(0);
    expect(r.transactions).toBeGreaterThan(0);
    expect(r.confirmed).toBe(r.transactions);
  }, 120_000);
});
