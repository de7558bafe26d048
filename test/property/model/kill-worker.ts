// kill worker: the relay publishes, then a worker of one group takes its whole backlog as one chunk
// and dies. `abort`: at statement `failAt` of the transaction (or at COMMIT): nothing of the chunk
// exists, the backlog stays. `after-commit`: after COMMIT, before the offset commit: the chunk's
// effects exist and the backlog stays, so the next delivery brings the same events again.
import fc from 'fast-check';
import { type FlowModel, type Group, groups, parseKey, readers } from './model.ts';
import { expectMatch, type RealFlow } from './real.ts';

export class KillWorkerCommand implements fc.AsyncCommand<FlowModel, RealFlow> {
  readonly group: Group;
  readonly mode: 'abort' | 'after-commit';
  readonly failAt: number;
  constructor(group: Group, mode: 'abort' | 'after-commit', failAt: number) {
    this.group = group;
    this.mode = mode;
    this.failAt = failAt;
  }
  check(m: Readonly<FlowModel>): boolean {
    const unpublished = m.outbox.slice(m.published);
    return (
      m.backlog[this.group].length > 0 ||
      unpublished.some((k) => readers[parseKey(k).type].includes(this.group))
    );
  }
  async run(m: FlowModel, r: RealFlow): Promise<void> {
    m.publish();
    if (this.mode === 'after-commit') for (const key of m.backlog[this.group]) m.handle(this.group, key);
    await r.killWorker(this.group, this.mode, this.failAt);
    await expectMatch(m, r, this.toString());
  }
  toString(): string {
    return `killWorker(${this.group}, ${this.mode === 'abort' ? `abort at statement ${this.failAt}` : 'after commit'})`;
  }
}

export const killWorkerArb = fc
  .tuple(
    fc.constantFrom(...groups),
    fc.constantFrom('abort' as const, 'after-commit' as const),
    fc.integer({ min: 1, max: 12 }),
  )
  .map(([g, mode, at]) => new KillWorkerCommand(g, mode, at));
