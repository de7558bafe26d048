// duplicate-flood: every event re-injected 3 times, shuffled within 50 positions, with one bad
// message of each dead-letter reason mixed in.
import type { FloodProfile } from '../../harness/load/flood-plan.ts';

const profile: FloodProfile = {
  name: 'duplicates-x3',
  description: 'each envelope ×3, reorder window 50, 500 msg/s, one bad message per DLQ reason',
  duplication: 3,
  reorderWindow: 50,
  ratePerS: 500,
  maxMessages: 30_000,
  maxDuration: '90s',
  bad: { malformed_json: 1, unknown_event_type: 1, schema_violation: 1, oversized: 1, wrong_topic: 1 },
};

export default profile;
