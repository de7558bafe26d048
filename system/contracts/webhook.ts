// The provider-webhook signature scheme and the public dev credentials: the contract between the
// payment provider (the harness's fake one) and the API, and between the dev token issuer and the
// API. Stripe's scheme: header `Payproof-Signature: t=<unix seconds>,v1=<hex>` where
// v1 = HMAC-SHA256(secret, `${t}.${raw body}`); several v1 entries during a secret rotation.
import { createHmac } from 'node:crypto';

export const signatureHeader = 'payproof-signature';

/** The v1 signature of a body at a time: hex HMAC-SHA256 over `${t}.${body}`. */
export function sign(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The header value a provider sends: `t=...,v1=...` (one v1 per secret). */
export function signatureHeaderValue(secrets: readonly string[], timestamp: number, body: string): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${sign(s, timestamp, body)}`)].join(',');
}

/** Dev-only values, public on purpose: never valid in production (NODE_ENV=production refuses them). */
export const devSecrets = {
  webhookSecret: 'whsec_payproof_dev_only_0123456789abcdef',
  jwtSecret: 'payproof-dev-only-jwt-signing-key-0123456789abcdef',
  issuer: 'payproof-dev-issuer',
  audience: 'payproof-api',
} as const;
