// A stand-in for a test runner: starts a whole stack on free ports, prints one JSON line with what
// it started, then waits to be killed (stack-lifecycle.int.test.ts SIGKILLs it and checks that the
// guardian stops everything). If its parent goes away first (stdin closes) it stops the stack itself.
import { guardianPid } from '../../harness/stack/process.ts';
import { startStack } from '../../harness/stack/stack.ts';

/** The line this script prints once its stack is up. */
export interface ChildReport {
  readonly pids: Record<string, number>;
  readonly guardianPid: number | undefined;
  readonly ports: Record<string, number>;
  readonly runDir: string;
  readonly dataRoot: string;
}

const stack = await startStack({ ports: 'free', migrate: false });
const report: ChildReport = {
  pids: stack.pids(),
  guardianPid: guardianPid(),
  ports: stack.endpoints.ports,
  runDir: stack.endpoints.runDir,
  dataRoot: stack.dataRoot,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
process.stdin.on('end', () => void stack.stop().finally(() => process.exit(0)));
process.stdin.resume();
