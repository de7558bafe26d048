// Deterministic ids (UUIDv5, RFC 9562): an event announcing an entity always carries the same id,
// so a re-emission after a crash is recognised as the same event and deduplicated.
import { createHash } from 'node:crypto';
import type { EventType } from './topics.ts';

/** payproof's namespace for UUIDv5 names. */
export const payproofNamespace = '6f1c4a52-2b7e-4f43-9a55-2f0d7c1e9b10';

export function uuidv5(name: string, namespace: string = payproofNamespace): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The one event id that announces an entity: PURCHASE_CONFIRMED ← paymentId,
 * PURCHASE_CREATED ← purchaseId, TRAINER_ALLOCATED ← allocationId.
 */
export function eventIdFor(type: EventType, entityId: string): string {
  return uuidv5(`${type}:${entityId}`);
}

/** The purchase a payment creates, derived so that a replay after a crash finds the same row. */
export function purchaseIdFor(paymentId: string): string {
  return uuidv5(`purchase:${paymentId}`);
}

/** The allocation a purchase leads to. */
export function allocationIdFor(purchaseId: string): string {
  return uuidv5(`allocation:${purchaseId}`);
}

/** The one refund request a capture can lead to (a capture is the provider's payment id). */
export function refundIdFor(providerPaymentId: string): string {
  return uuidv5(`refund:${providerPaymentId}`);
}
