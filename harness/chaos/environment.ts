// Where a chaos run happens is a target (harness/target/): `native` by default (a fresh stack and
// system of its own), or any other provider. `--attach` is the older spelling of an external
// target built from a running `npm run system`'s stack.json (network faults only).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SystemFile } from '../system/metrics-endpoints.ts';
import { externalProvider, targetFileFromStackJson } from '../target/external.ts';
import type { Target, TargetProvider } from '../target/target.ts';
import type { TargetFile } from '../target/target-file.ts';
import { repoRoot } from '../toolchain/toolchain.ts';

export { kindOfName } from '../target/native.ts';

/** What a run talks to and faults: a target that is up. */
export type RunEnvironment = Target;

/** The newest `.runs/<name>/stack.json` (what `npm run system` and `npm run stack` write). */
export function newestStackJson(root = join(repoRoot, '.runs')): string | undefined {
  if (!existsSync(root)) return undefined;
  return readdirSync(root)
    .map((d) => join(root, d, 'stack.json'))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
}

export interface AttachOptions {
  /** A stack.json; default: the newest under .runs/. */
  readonly stackJson?: string;
  /** The stack's endpoints themselves (tests hand over the shared test stack's). */
  readonly endpoints?: Target['endpoints'];
  /** The API; default http://127.0.0.1:$PORT or :3000 (npm run system's default). */
  readonly apiUrl?: string;
}

/** `--attach`: a stack and system someone else started, as an external target with no process control. */
export function attachProvider(o: AttachOptions): TargetProvider {
  const path = o.endpoints ? undefined : (o.stackJson ?? newestStackJson());
  if (!o.endpoints && (!path || !existsSync(path))) {
    throw new Error(
      '--attach: no stack.json found (start one with `npm run system`, or pass --stack <path/to/stack.json>)',
    );
  }
  const endpoints =
    o.endpoints ?? (JSON.parse(readFileSync(path!, 'utf8')) as { endpoints: Target['endpoints'] }).endpoints;
  const apiUrl = o.apiUrl ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  const file = targetFileFromStackJson({ endpoints }, apiUrl, systemProcesses(path));
  return externalProvider({ provider: 'external', text: `attached:${path ?? 'endpoints'}` }, file);
}

/**
 * The processes `npm run system` wrote beside its stack.json (system.json), for their metrics: the
 * system's own counters (events processed, the breaker's switches and fallback publications) that
 * a scenario's criteria read. None (an older run, `npm run stack` alone): none are read.
 */
export function systemProcesses(stackJson: string | undefined): TargetFile['processes']['list'] {
  if (!stackJson) return [];
  const file = join(dirname(stackJson), 'system.json');
  if (!existsSync(file)) return [];
  return [...(JSON.parse(readFileSync(file, 'utf8')) as SystemFile).processes];
}
