// result.json's published JSON Schema, generated from the TypeBox schemas in result.ts, and the
// validator every writer of result.json goes through. docs/result.schema.json is this module's
// output (test/unit/result-schema.unit.test.ts fails when it is stale); regenerate it with
//   node harness/run/result-schema.ts > docs/result.schema.json
import { Ajv, type ErrorObject } from 'ajv';
import { RunResultSchema } from './result.ts';

/** The JSON Schema (draft-07) of result.json, as plain JSON. */
export function resultJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    ...(JSON.parse(JSON.stringify(RunResultSchema)) as Record<string, unknown>),
  };
}

const ajv = new Ajv({ allErrors: true, strict: false });
// ajv's format plugin is a separate package; ISO 8601 as Date.prototype.toISOString writes it.
ajv.addFormat(
  'date-time',
  (s: string) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s) &&
    !Number.isNaN(Date.parse(s)),
);
const validate = ajv.compile(resultJsonSchema());

/** Every way `value` breaks the schema, one line each (`/criteria/0/pass: must be boolean`); [] when valid. */
export function resultSchemaErrors(value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map(describe);
}

function describe(e: ErrorObject): string {
  const where = e.instancePath || '(root)';
  if (e.keyword === 'additionalProperties')
    return `${where}: unknown key '${(e.params as { additionalProperty: string }).additionalProperty}'`;
  return `${where}: ${e.message ?? e.keyword}`;
}

if (import.meta.main) process.stdout.write(`${JSON.stringify(resultJsonSchema(), null, 2)}\n`);
