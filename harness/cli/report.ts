// npm run report [-- <run folder>...]: rebuilds index.html and junit.xml of the given run folders
// (every run folder under reports/ when none is given) from their data files, then the index
// reports/index.html and the reports/latest link. Prints every path it wrote.
import { existsSync, readlinkSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { listRuns, renderIndex } from '../report/index-page.ts';
import { writeJunit } from '../report/junit.ts';
import { renderRunPage } from '../report/render.ts';
import { defaultReportsRoot } from '../report/run-folder.ts';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run report [-- <run folder>...]
  Rebuilds <run folder>/index.html and junit.xml from result.json, samples.jsonl and history.jsonl,
  then reports/index.html and reports/latest. Without a folder: every run under reports/.`);
  process.exit(0);
}

const show = (p: string) => {
  const rel = relative(process.cwd(), p);
  return rel.startsWith('..') ? p : rel || '.';
};
const dirs = args.length ? args.map((a) => resolve(a)) : listRuns(defaultReportsRoot).map((r) => r.dir);
for (const dir of dirs)
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    console.error(`report: ${dir} is not a run folder`);
    process.exit(1);
  }

const roots = new Set<string>(args.length ? dirs.map((d) => dirname(d)) : [defaultReportsRoot]);
let failed = 0;
for (const dir of dirs) {
  try {
    console.log(`${show(renderRunPage(dir))}\n${show(writeJunit(dir))}`);
  } catch (err) {
    failed++;
    console.error(`report: ${show(dir)}: ${(err as Error).stack ?? err}`);
  }
}
for (const root of roots) {
  const { index, latest } = renderIndex(root);
  console.log(`${show(index)}${latest ? `\n${show(latest)} -> ${readlinkSync(latest)}` : ''}`);
}
if (dirs.length === 0) console.log(`no run folder under ${show(defaultReportsRoot)} yet`);
process.exit(failed ? 1 : 0);
