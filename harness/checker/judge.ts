// Turns what an invariant found into an InvariantResult: false on any violation, else 'unknown'
// when nothing was examined or the risky path was never exercised (a vacuous pass is not a pass),
// else true.
import type { InvariantResult } from '../run/result.ts';

/** A counterexample: the ids involved, what was expected, what was found. `kind` names the rule broken. */
export type Violation = { readonly kind: string } & Readonly<Record<string, unknown>>;

/** An invariant's result, with the measured figure for the ones that measure one. */
export type CheckedInvariant = InvariantResult & { readonly measured?: number };

export const maxExamples = 5;

export interface Judgement {
  readonly name: string;
  readonly description: string;
  readonly checked: number;
  readonly violations: readonly Violation[];
  /** Why the risky path counts as not exercised; undefined when it was exercised. */
  readonly notExercised?: string | undefined;
  readonly measured?: number;
}

/** Up to `maxExamples` violations, one of each kind first so that every broken rule shows. */
export function pickExamples(violations: readonly Violation[]): Violation[] {
  const picked: Violation[] = [];
  const kinds = new Set<string>();
  for (const v of violations) {
    if (picked.length >= maxExamples) break;
    if (!kinds.has(v.kind)) {
      kinds.add(v.kind);
      picked.push(v);
    }
  }
  for (const v of violations) {
    if (picked.length >= maxExamples) break;
    if (!picked.includes(v)) picked.push(v);
  }
  return picked;
}

export function judge(j: Judgement): CheckedInvariant {
  const base = {
    name: j.name,
    description: j.description,
    checked: j.checked,
    ...(j.measured === undefined ? {} : { measured: j.measured }),
  };
  if (j.violations.length > 0)
    return { ...base, valid: false, violations: j.violations.length, examples: pickExamples(j.violations) };
  if (j.checked === 0)
    return {
      ...base,
      valid: 'unknown',
      violations: 0,
      examples: [],
      unknownReason: j.notExercised ?? 'nothing to check',
    };
  if (j.notExercised !== undefined)
    return { ...base, valid: 'unknown', violations: 0, examples: [], unknownReason: j.notExercised };
  return { ...base, valid: true, violations: 0, examples: [] };
}

/** The result of an invariant whose inputs were not available (e.g. the topics were not read). */
export function notAvailable(name: string, description: string, why: string): CheckedInvariant {
  return { name, description, valid: 'unknown', violations: 0, examples: [], checked: 0, unknownReason: why };
}
