// Invariant 7: processed events / published events >= 99.9%, counted from the topics and
// processed_events, never from the system's own metrics. Published = distinct valid event ids in the
// event topics; processed = those recorded in processed_events by every group that consumes their
// type. A dead-lettered valid event counts as not processed; a message that is not a valid event is
// not an event (it is judged by events-processed and counted in `deadLettered`).
import { type CheckContext, wasProcessed } from './context.ts';
import { type CheckedInvariant, judge, notAvailable, type Violation } from './judge.ts';
import { groupsConsuming, inOwnTopic } from './topic-set.ts';

const name = 'processing-success-rate';
export const minSuccessRate = 0.999;
const description = `events processed by all their consumer groups / events published >= ${minSuccessRate}`;

export async function processingSuccessRate(ctx: CheckContext): Promise<CheckedInvariant> {
  if (!ctx.topicsRead) return notAvailable(name, description, 'topics not read');
  let published = 0;
  let processed = 0;
  const missed: Violation[] = [];
  for (const [eventId, copies] of ctx.copies) {
    const event = copies.find((m) => inOwnTopic(ctx.topicSet, m))?.event;
    if (!event) continue;
    published++;
    const missing = groupsConsuming(event.eventType).filter((g) => !wasProcessed(ctx, g, eventId));
    if (missing.length === 0) processed++;
    else
      missed.push({
        kind: 'not-processed',
        eventId,
        eventType: event.eventType,
        expected: 'processed by every consumer group',
        found: { missing },
      });
  }
  const rate = published === 0 ? 0 : processed / published;
  const result = judge({
    name,
    description: `${description} (measured ${processed}/${published})`,
    checked: published,
    violations: rate >= minSuccessRate ? [] : missed,
    measured: published === 0 ? undefined : rate,
  });
  // Below the bound every miss is a counterexample; above it, still show the misses.
  return result.valid === true && missed.length > 0 ? { ...result, examples: missed.slice(0, 5) } : result;
}
