// What `npm run load` and `npm run chaos` print at the end of a run: the k6-style end-of-test
// summary of the load, then the verdict with what failed, the one-line table, where the report is.
import type { ChaosOutcome } from '../chaos/run.ts';
import { formatTable, summaryRow } from '../chaos/summary-table.ts';
import { describeMachine } from '../lib/machine-watch.ts';
import { formatSummary } from '../load/summary.ts';
import { writeSummaryExport } from '../load/summary-export.ts';

export function printOutcome(o: ChaosOutcome, opts: { readonly summaryExport?: string } = {}): void {
  const r = o.result;
  if (o.load) console.log(formatSummary(o.load));
  else console.log('\n  (no end-of-test summary: the load did not run)');
  if (opts.summaryExport) {
    if (o.load) {
      writeSummaryExport(opts.summaryExport, o.load);
      console.log(`  summary exported (k6 --summary-export shape): ${opts.summaryExport}`);
    } else console.error(`--summary-export ${opts.summaryExport}: nothing written, the load did not run`);
  }
  const machine = describeMachine(r.figures);
  if (machine) console.log(`\n  ${machine}`);
  if (typeof r.figures.machine_warning === 'string') console.log(`  ⚠ ${r.figures.machine_warning}`);
  console.log(`\n${r.verdict}  ${r.scenario}: ${r.reason}`);
  for (const c of r.criteria.filter((x) => !x.pass))
    console.log(
      `  ✗ ${c.name} ${c.threshold}: measured ${c.measured}${c.phase && c.phase !== 'run' ? ` [${c.phase}]` : ''}`,
    );
  for (const i of r.invariants.filter((x) => x.valid !== true)) {
    console.log(
      `  ${i.valid === false ? '✗' : '?'} ${i.name}: ${i.valid === false ? `${i.violations} violations` : i.unknownReason}`,
    );
    if (i.valid === false && i.examples[0])
      console.log(`      e.g. ${JSON.stringify(i.examples[0]).slice(0, 300)}`);
  }
  console.log(formatTable([summaryRow(r)]));
  console.log(`report: ${o.page ?? o.dir}\nreplay: ${r.replay}`);
}
