// Planted bugs, switched on by PAYPROOF_FAULTS (comma separated). They exist so the harness can
// prove that its checks have teeth; a process refuses to start with any of them in production.
import { AppError } from './errors.ts';

export const plantedFaults = [
  'skip-inbox',
  'no-purchase-unique',
  'publish-before-commit',
  'random-downstream-ids',
  'skip-cache-invalidation',
  'allocate-without-lock',
  // Issue 12: one per invariant that had none, each a real behaviour change (docs/verification.md).
  'ignore-idempotency-key',
  'confirm-two-transactions',
  'dedupe-by-key',
  'no-allocation-unique',
  'no-session-unique',
  'trust-event',
  // Issue 14: real payments (docs/payments.md).
  'skip-signature-check',
  'trust-client-amount',
  'no-ownership-check',
  'absorb-repeat-capture',
  // Issue 12: the purchase names the wrong cause.
  'wrong-causation',
  // Issue 15: the relay marks events that went through the Redis Streams fallback as in Kafka too,
  // so they are never published to Kafka (Kafka's log misses every event of the outage).
  'no-kafka-republish',
  // Issue 13: the workers' outbox insert without ON CONFLICT: thrown constraint errors (the
  // PayproofConstraintViolations alert's planted cause).
  'bare-outbox-insert',
] as const;

export type PlantedFault = (typeof plantedFaults)[number];

export type FaultSet = ReadonlySet<PlantedFault>;

export function parseFaults(env: NodeJS.ProcessEnv = process.env): FaultSet {
  const raw = (env.PAYPROOF_FAULTS ?? '').trim();
  if (!raw) return new Set();
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(plantedFaults as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new AppError(
      'config_invalid',
      `PAYPROOF_FAULTS: unknown fault(s) ${unknown.join(', ')}; known: ${plantedFaults.join(', ')}`,
      false,
    );
  }
  if (env.NODE_ENV === 'production') {
    throw new AppError('faults_refused', `PAYPROOF_FAULTS=${raw} is refused with NODE_ENV=production`, false);
  }
  // An explicit opt-in, so that a stray variable alone cannot plant a bug anywhere.
  if (env.PAYPROOF_ALLOW_PLANTED_FAULTS !== 'yes-i-am-testing') {
    throw new AppError(
      'faults_refused',
      `PAYPROOF_FAULTS=${raw} needs PAYPROOF_ALLOW_PLANTED_FAULTS=yes-i-am-testing as well`,
      false,
    );
  }
  return new Set(names as PlantedFault[]);
}

/** Says loudly, at start-up, that this process runs with planted bugs. */
export function announceFaults(log: { warn: (o: object, msg: string) => void }, faults: FaultSet): void {
  if (faults.size === 0) return;
  log.warn(
    { plantedFaults: [...faults] },
    `PLANTED BUGS ACTIVE: ${[...faults].join(', ')}. This process is deliberately broken for testing (PAYPROOF_FAULTS).`,
  );
}
