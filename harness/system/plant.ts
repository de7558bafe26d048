// Planted bugs that need a schema change are planted here, by the harness with its owner
// connection: the system connects as payproof_app, which cannot change the schema (a real
// deployment never could). Each is "as if the migration that creates the guard had never run".
import pg from 'pg';

/** The seed's guard on sessions, (allocation, date, time): the table's primary key since migration 18. */
export const sessionSlotConstraint = 'tutoring_sessions_allocation_id_scheduled_date_scheduled_ti_key';

const schemaFaults: Record<string, string> = {
  'no-purchase-unique': 'DROP INDEX IF EXISTS student_course_purchases_one_active',
  'no-allocation-unique': 'DROP INDEX IF EXISTS trainer_allocations_one_live',
  'no-session-unique': `ALTER TABLE tutoring_sessions DROP CONSTRAINT IF EXISTS ${sessionSlotConstraint}`,
};

/** The planted bugs of this list that change the schema. */
export function schemaFaultsOf(faults: Iterable<string>): string[] {
  return [...faults].filter((f) => f in schemaFaults);
}

/** Drops the guards the planted bugs name, with the owner's connection (idempotent). */
export async function plantSchemaFaults(
  ownerDatabaseUrl: string,
  faults: Iterable<string>,
): Promise<string[]> {
  const planted = schemaFaultsOf(faults);
  if (planted.length === 0) return planted;
  const client = new pg.Client({ connectionString: ownerDatabaseUrl });
  await client.connect();
  try {
    for (const f of planted) await client.query(schemaFaults[f]!);
  } finally {
    await client.end();
  }
  return planted;
}

/** The role the system connects as (migrations create it with only the grants it needs). */
export const applicationRole = 'payproof_app';

/** The same database as the owner's URL, as the application role (the local stack trusts loopback). */
export function applicationDatabaseUrl(ownerDatabaseUrl: string, role = applicationRole): string {
  const u = new URL(ownerDatabaseUrl);
  u.username = role;
  u.password = '';
  return u.toString();
}
