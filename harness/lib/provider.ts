// The fake payment provider: the harness's stand-in for Stripe & co. It captures a payment and
// tells the system with a signed webhook (system/contracts/webhook.ts, Stripe's scheme), the way real
// providers do: at least once (redeliveries carry the same event id), sometimes twice at once,
// late, or out of order. Every workload confirms payments through it; nothing else can.
import { randomUUID } from 'node:crypto';
import {
  devSecrets,
  type PaymentView,
  type ProviderWebhook,
  signatureHeader,
  signatureHeaderValue,
} from '../../system/contracts/index.ts';

export const webhookPath = '/webhooks/provider';

export interface ProviderOptions {
  /** Signing secrets (the system's WEBHOOK_SECRET); the dev secret by default. */
  readonly secrets?: readonly string[];
  /** Seconds added to the signature's timestamp (negative: an old, possibly stale, signature). */
  readonly clockSkewS?: number;
}

export function providerFromEnv(env: NodeJS.ProcessEnv = process.env): ProviderOptions {
  const s = env.WEBHOOK_SECRET?.split(',').filter(Boolean);
  return s && s.length > 0 ? { secrets: s } : {};
}

/** A capture of a payment (`payment_succeeded`) or its failure, as the provider reports it. */
export function providerEvent(
  payment: Pick<PaymentView, 'id' | 'amountCents' | 'currency'>,
  opts: {
    type?: ProviderWebhook['type'];
    providerPaymentId?: string;
    eventId?: string;
    amountCents?: number;
    currency?: string;
    created?: number;
  } = {},
): ProviderWebhook {
  return {
    id: opts.eventId ?? `evt_${randomUUID()}`,
    type: opts.type ?? 'payment_succeeded',
    created: opts.created ?? Math.floor(Date.now() / 1000),
    data: {
      paymentId: payment.id,
      providerPaymentId: opts.providerPaymentId ?? `pi_${randomUUID()}`,
      amountCents: opts.amountCents ?? payment.amountCents,
      currency: opts.currency ?? payment.currency,
    },
  };
}

/** The request the provider sends for an event: path, JSON body and signature header. */
export function signedWebhook(
  event: ProviderWebhook,
  opts: ProviderOptions = {},
): { path: string; json: ProviderWebhook; body: string; headers: Record<string, string> } {
  const body = JSON.stringify(event);
  const t = Math.floor(Date.now() / 1000) + (opts.clockSkewS ?? 0);
  return {
    path: webhookPath,
    json: event,
    body,
    headers: { [signatureHeader]: signatureHeaderValue(opts.secrets ?? [devSecrets.webhookSecret], t, body) },
  };
}

/**
 * A provider delivers an event again when it got no answer (status 0), a 5xx or a 429: the system
 * may not have recorded it. Any other answer is final.
 */
export function providerRedelivers(status: number): boolean {
  return status === 0 || status >= 500 || status === 429;
}

/** The wait before delivery `attempt` (1-based; 0 before the first): baseMs, then doubling. */
export function redeliveryDelayMs(attempt: number, baseMs = 200): number {
  return attempt <= 1 ? 0 : baseMs * 2 ** (attempt - 2);
}

/**
 * Delivers an event as a provider does: POST, and again (same event id, fresh signature) on a
 * network error or a 5xx / 429, up to `attempts` times. Returns the last answer.
 */
export async function deliverWebhook(
  baseUrl: string,
  event: ProviderWebhook,
  opts: ProviderOptions & { attempts?: number; backoffMs?: number } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const attempts = opts.attempts ?? 5;
  let last: { status: number; body: Record<string, unknown> } | undefined;
  for (let i = 0; i < attempts; i++) {
    const req = signedWebhook(event, opts);
    try {
      const res = await fetch(`${baseUrl}${req.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...req.headers },
        body: req.body,
      });
      last = { status: res.status, body: (await res.json()) as Record<string, unknown> };
      if (!providerRedelivers(res.status)) return last;
    } catch (err) {
      if (i === attempts - 1) throw err;
    }
    await new Promise((r) => setTimeout(r, redeliveryDelayMs(i + 2, opts.backoffMs)));
  }
  return last!;
}
