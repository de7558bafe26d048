// result.json's published JSON Schema: generated from the TypeBox types (docs/result.schema.json
// is that output, byte for byte), accepts what the runners write, refuses the rest with errors that
// say where; writeResult checks every result it writes.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRunFolder, writeResult } from '../../harness/report/run-folder.ts';
import type { RunResult } from '../../harness/run/result.ts';
import { resultJsonSchema, resultSchemaErrors } from '../../harness/run/result-schema.ts';
import { repoRoot } from '../../harness/toolchain/toolchain.ts';

const fixture = JSON.parse(
  readFileSync(join(repoRoot, 'test/fixtures/report-run/result.json'), 'utf8'),
) as RunResult;
const root = mkdtempSync(join(tmpdir(), 'payproof-schema-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('result.json schema', () => {
  it('docs/result.schema.json is the schema generated from the TypeBox types', () => {
    const published = readFileSync(join(repoRoot, 'docs/result.schema.json'), 'utf8');
    // Regenerate with: node harness/run/result-schema.ts > docs/result.schema.json
    expect(JSON.parse(published)).toEqual(resultJsonSchema());
    expect(resultJsonSchema()).toMatchObject({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      additionalProperties: false,
    });
  });

  it('accepts the fixture run', () => {
    expect(resultSchemaErrors(fixture)).toEqual([]);
  });

  it('refuses wrong types, unknown keys and missing fields, saying where', () => {
    const { replay: _, ...noReplay } = fixture;
    const bad = {
      ...noReplay,
      verdict: 'MAYBE',
      startedAt: 'yesterday',
      surprise: 1,
      criteria: [{ ...fixture.criteria[0], pass: 'yes' }],
      invariants: [{ ...fixture.invariants[0], valid: 'perhaps', violations: -1 }],
      faults: [{ label: 'x', target: 't', kind: 'k', startS: 1 }],
    };
    const errors = resultSchemaErrors(bad);
    expect(errors).toContain("(root): unknown key 'surprise'");
    expect(errors).toContain("(root): must have required property 'replay'");
    expect(errors).toContain('/startedAt: must match format "date-time"');
    expect(errors).toContain('/criteria/0/pass: must be boolean');
    expect(errors).toContain('/invariants/0/violations: must be >= 0');
    expect(errors).toContain("/faults/0: must have required property 'endS'");
    expect(errors.some((e) => e.startsWith('/verdict: '))).toBe(true);
    expect(errors.some((e) => e.startsWith('/invariants/0/valid: '))).toBe(true);
  });

  it('writeResult writes the file, then refuses a result that breaks the schema', () => {
    const dir = createRunFolder('schema', root);
    expect(() => writeResult(dir, { ...fixture, durationS: -1 })).toThrow(
      /result\.json does not match docs\/result\.schema\.json:\n {2}\/durationS: must be >= 0/,
    );
    expect(existsSync(join(dir, 'result.json'))).toBe(true);
    expect(() => writeResult(dir, fixture)).not.toThrow();
  });
});
