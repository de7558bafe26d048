// npm run report -- [run folder...]: rebuilds index.html and junit.xml of the given run folders
// (every run folder under reports/ when none is given) from their data files, then the index
// reports/index.html and the reports/latest link. Prints every path it wrote.
import { existsSync, readlinkSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { listRuns, renderIndex } from '../report/index-page.ts';
import { writeJunit } from '../report/junit.ts';
import { renderRunPage } from '../report/render.ts';
import { defaultReportsRoot } from '../report/run-folder.ts';
import { type CommandSpec, type Parsed, runCommand, UsageError } from './command.ts';

export const reportCommand: CommandSpec = {
  invocation: 'npm run report --',
  summary:
    'Rebuilds <run folder>/index.html and junit.xml from result.json, samples.jsonl and history.jsonl, then\nreports/index.html and reports/latest. Without a folder: every run under reports/.',
  usage: ['[<run folder>...]'],
  options: {},
  positionals: { name: 'run folder', max: 1_000, description: 'a reports/<stamp>-<name>/ folder' },
  examples: [
    'npm run report                                    # every run folder, then the index',
    'npm run report -- reports/latest                  # the newest run',
    'npm run report -- reports/20261130-091500-chaos-kill-worker',
  ],
  exits: '0 every page rebuilt, 1 a folder could not be rendered, 64 usage error (e.g. not a folder)',
};

async function main(args: Parsed): Promise<number> {
  const show = (p: string) => {
    const rel = relative(process.cwd(), p);
    return rel.startsWith('..') ? p : rel || '.';
  };
  const given = args.positionals;
  const dirs = given.length ? given.map((a) => resolve(a)) : listRuns(defaultReportsRoot).map((r) => r.dir);
  for (const dir of dirs)
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a run folder`);

  const roots = new Set<string>(given.length ? dirs.map((d) => dirname(d)) : [defaultReportsRoot]);
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
  return failed ? 1 : 0;
}

if (import.meta.main) await runCommand(reportCommand, main);
