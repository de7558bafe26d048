// Rebalances as the BROKER saw them, not as the workers report them. Kafka's DescribeGroups carries
// no generation id (KAFKA-5639 was never done for classic groups), so the count is taken from what
// it does carry: the member ids of each group. Every rebalance that admits or drops a consumer
// (a restart, an eviction after a pause, a scale up or down) leaves the group with a different set
// of member ids (a rejoining consumer gets a new id). Only Stable groups are compared, and the
// first Stable membership of each group is the startup baseline: the joins of a system starting up
// are not exercise. Polling (once a second) can merge two rebalances into one change, so the count
// is a lower bound.

export class GroupMembership {
  /** group → sorted member ids of its last Stable observation. */
  readonly #last = new Map<string, string>();
  readonly #changes = new Map<string, number>();

  /** One DescribeGroups answer for one group. */
  observe(group: string, state: string, memberIds: readonly string[]): void {
    if (state !== 'Stable' || memberIds.length === 0) return;
    const key = [...memberIds].sort().join(',');
    const last = this.#last.get(group);
    this.#last.set(group, key);
    if (last !== undefined && last !== key) this.#changes.set(group, (this.#changes.get(group) ?? 0) + 1);
  }

  /** Whether `group` has a baseline yet (a Stable membership was seen). */
  baselined(group: string): boolean {
    return this.#last.has(group);
  }

  /** Membership changes since the baseline, per group. */
  perGroup(): Record<string, number> {
    return Object.fromEntries(this.#changes);
  }

  /** Membership changes since the baseline, every group. */
  total(): number {
    let n = 0;
    for (const v of this.#changes.values()) n += v;
    return n;
  }
}
