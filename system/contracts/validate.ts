// Validation of messages on the way in. Never throws: a bad message gets a reason, so that the
// consumer can dead-letter it and move on instead of crashing or blocking its partition.
import { Ajv } from 'ajv';
import { type DomainEvent, eventSchemas, maxMessageBytes } from './events.ts';
import type { EventType } from './topics.ts';

const ajv = new Ajv({ allErrors: false, strict: false });
// ajv's own format plugin is a separate package; these two are all the contracts use.
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
ajv.addFormat(
  'date-time',
  (s: string) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) &&
    !Number.isNaN(Date.parse(s)),
);

const validators = Object.fromEntries(
  Object.entries(eventSchemas).map(([type, schema]) => [type, ajv.compile(schema)]),
) as Record<EventType, ReturnType<typeof ajv.compile>>;

/** Why a message was rejected: a machine-readable code and a human-readable detail. */
export type RejectCode =
  | 'oversized'
  | 'malformed_json'
  | 'unknown_event_type'
  | 'schema_violation'
  | 'wrong_topic';

export type ParseResult =
  | { readonly ok: true; readonly event: DomainEvent }
  | { readonly ok: false; readonly code: RejectCode; readonly detail: string };

/** Parses and validates a raw message value; `expected` restricts the accepted event types. */
export function parseEvent(raw: Buffer | string | null, expected?: readonly EventType[]): ParseResult {
  if (raw === null) return { ok: false, code: 'malformed_json', detail: 'empty message value' };
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > maxMessageBytes)
    return { ok: false, code: 'oversized', detail: `${size} bytes > ${maxMessageBytes}` };
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (err) {
    return { ok: false, code: 'malformed_json', detail: (err as Error).message };
  }
  const type = (value as { eventType?: unknown } | null)?.eventType;
  if (typeof type !== 'string' || !(type in validators)) {
    return { ok: false, code: 'unknown_event_type', detail: `eventType ${JSON.stringify(type)}` };
  }
  if (expected && !expected.includes(type as EventType)) {
    return { ok: false, code: 'wrong_topic', detail: `${type} is not consumed here` };
  }
  const validate = validators[type as EventType];
  if (!validate(value)) {
    const e = validate.errors?.[0];
    return {
      ok: false,
      code: 'schema_violation',
      detail: `${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`,
    };
  }
  return { ok: true, event: value as DomainEvent };
}
