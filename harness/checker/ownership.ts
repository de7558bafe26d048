// Invariant (issue 14): ownership. No answer carried another student's data: every request the
// history records with its principal (the student whose token it carried) was either refused or
// answered with that student's own payment or dashboard. From the history alone.
import type { CheckContext } from './context.ts';
import { type CheckedInvariant, judge, notAvailable, type Violation } from './judge.ts';

const name = 'ownership';
const description = "no response carried another student's payment or dashboard";

function studentOf(body: unknown): string | undefined {
  const b = body as { studentId?: unknown; response?: { studentId?: unknown } } | null | undefined;
  const s = b?.studentId ?? b?.response?.studentId;
  return typeof s === 'string' ? s : undefined;
}

export async function ownership(ctx: CheckContext): Promise<CheckedInvariant> {
  if (!ctx.historyRead) return notAvailable(name, description, 'no client history');
  const violations: Violation[] = [];
  let checked = 0;
  let foreign = 0;
  for (const o of ctx.ops) {
    const principal = o.ids.principal;
    if (!principal || (o.op !== 'dashboard' && o.op !== 'get-payment' && o.op !== 'create')) continue;
    checked++;
    if (o.ids.studentId && o.ids.studentId !== principal) foreign++;
    if (o.outcome !== 'ok') continue;
    const owner = studentOf(o.response) ?? o.ids.studentId;
    if (owner && owner !== principal)
      violations.push({
        kind: 'foreign-data-returned',
        op: o.index,
        principal,
        expected: `only ${principal}'s data, or a refusal`,
        found: `${o.op} of ${owner}`,
      });
  }
  return judge({
    name,
    description,
    checked,
    violations,
    notExercised: foreign === 0 ? "no request asked for another student's data" : undefined,
  });
}
