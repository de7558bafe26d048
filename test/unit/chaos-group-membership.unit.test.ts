// Rebalances counted from the broker's view of each group (DescribeGroups member ids), minus the
// startup baseline: the joins of a system starting up are not exercise.
import { describe, expect, it } from 'vitest';
import { GroupMembership } from '../../harness/chaos/group-membership.ts';

describe('GroupMembership', () => {
  it('counts nothing for a group that only started up and stayed stable', () => {
    const m = new GroupMembership();
    m.observe('purchase-worker', 'PreparingRebalance', ['a']);
    m.observe('purchase-worker', 'CompletingRebalance', ['a', 'b']);
    m.observe('purchase-worker', 'Stable', ['a', 'b']);
    m.observe('purchase-worker', 'Stable', ['b', 'a']);
    expect(m.baselined('purchase-worker')).toBe(true);
    expect(m.total()).toBe(0);
  });

  it('counts each change of a stable membership after the baseline (a kill, an eviction, a rejoin)', () => {
    const m = new GroupMembership();
    m.observe('allocation-worker', 'Stable', ['a', 'b']);
    // b paused and evicted, then rejoins with a new member id.
    m.observe('allocation-worker', 'PreparingRebalance', ['a', 'b']);
    m.observe('allocation-worker', 'Stable', ['a']);
    m.observe('allocation-worker', 'Stable', ['a', 'c']);
    m.observe('cache-worker', 'Stable', ['x']);
    m.observe('cache-worker', 'Stable', ['y']);
    expect(m.perGroup()).toEqual({ 'allocation-worker': 2, 'cache-worker': 1 });
    expect(m.total()).toBe(3);
  });

  it('ignores empty or unsettled groups (no baseline until a stable membership is seen)', () => {
    const m = new GroupMembership();
    m.observe('session-worker', 'Empty', []);
    m.observe('session-worker', 'Dead', []);
    expect(m.baselined('session-worker')).toBe(false);
    m.observe('session-worker', 'Stable', ['s']);
    expect(m.total()).toBe(0);
  });
});
