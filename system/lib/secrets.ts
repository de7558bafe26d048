// The secrets of the payment API: the provider's webhook signing secret and the key that signs
// students' tokens. Production refuses to start without them; elsewhere they default to public dev
// values (the harness's dev issuer and fake provider use the same ones) and the log says so loudly.
import { devSecrets } from '../contracts/webhook.ts';
import { AppError } from './errors.ts';

export interface Secrets {
  /** HMAC-SHA256 secrets of the provider's webhooks; several during a rotation (comma separated). */
  readonly webhookSecrets: readonly string[];
  /** HS256 key of students' tokens. */
  readonly jwtSecret: string;
  readonly issuer: string;
  readonly audience: string;
  /** Bearer token of /metrics for callers outside loopback; none: loopback only. */
  readonly adminToken: string | undefined;
  /** True when a dev default is in use (the API logs a warning at start-up). */
  readonly usesDevDefaults: boolean;
}

export function loadSecrets(env: NodeJS.ProcessEnv = process.env): Secrets {
  const production = env.NODE_ENV === 'production';
  const missing = ['WEBHOOK_SECRET', 'AUTH_JWT_SECRET'].filter((n) => !env[n]);
  if (production && missing.length > 0)
    throw new AppError('config_invalid', `${missing.join(', ')} must be set with NODE_ENV=production`, false);
  const webhookSecrets = (env.WEBHOOK_SECRET ?? devSecrets.webhookSecret)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const jwtSecret = env.AUTH_JWT_SECRET ?? devSecrets.jwtSecret;
  if (jwtSecret.length < 32)
    throw new AppError('config_invalid', 'AUTH_JWT_SECRET: at least 32 characters (HS256 key)', false);
  if (webhookSecrets.length === 0 || webhookSecrets.some((s) => s.length < 16))
    throw new AppError('config_invalid', 'WEBHOOK_SECRET: at least 16 characters per secret', false);
  const usesDevDefaults =
    webhookSecrets.includes(devSecrets.webhookSecret) || jwtSecret === devSecrets.jwtSecret;
  if (production && usesDevDefaults)
    throw new AppError(
      'config_invalid',
      'the public dev secrets are refused with NODE_ENV=production',
      false,
    );
  return {
    webhookSecrets,
    jwtSecret,
    issuer: env.AUTH_ISSUER ?? devSecrets.issuer,
    audience: env.AUTH_AUDIENCE ?? devSecrets.audience,
    adminToken: env.ADMIN_TOKEN || undefined,
    usesDevDefaults,
  };
}
