// The checker reads the Redis Streams fallback as delivery evidence (harness/checker/read-streams.ts)
// against a real Redis: every entry of a topic's stream, paged past one XRANGE page, with the groups
// whose last-delivered-id reached it (XREADGROUP hands entries out in order); a stream that does not
// exist is no entry, and a value that is not an event's JSON has no event id. Fresh stream names per
// run (an isolated topic), so no other test sees them.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readStreams } from '../../harness/checker/read-streams.ts';
import { streamKey } from '../../system/contracts/streams.ts';

const stack = inject('stack');
const topic = `purchases.trainer-allocated.v1.read-streams-${randomUUID().slice(0, 8)}`;
const missing = `${topic}.never-written`;
const stream = streamKey(topic);
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(stack.direct.redisUrl);
});

afterAll(async () => {
  await redis?.del(stream);
  redis?.disconnect();
});

describe('readStreams', () => {
  it('reads every entry with the groups that were given it', async () => {
    const ids: string[] = [];
    const p = redis.pipeline();
    for (let i = 0; i < 1203; i++)
      p.xadd(stream, '*', 'key', `k${i}`, 'value', JSON.stringify({ eventId: `event-${i}` }));
    p.xadd(stream, '*', 'key', 'bad', 'value', '{not json');
    for (const [err, id] of (await p.exec()) ?? []) {
      expect(err).toBeNull();
      ids.push(String(id));
    }
    // Two groups from the start: one reads 700 entries, the other nothing.
    await redis.xgroup('CREATE', stream, 'session-worker', '0');
    await redis.xgroup('CREATE', stream, 'cache-worker', '0');
    const read = (await redis.call(
      'XREADGROUP',
      'GROUP',
      'session-worker',
      'c1',
      'COUNT',
      700,
      'STREAMS',
      stream,
      '>',
    )) as [string, unknown[]][];
    expect(read[0]![1]).toHaveLength(700);

    const copies = await readStreams(stack.direct.redisUrl, [missing, topic]);
    expect(copies).toHaveLength(1204);
    expect(copies.map((c) => c.id)).toEqual(ids);
    expect(copies.every((c) => c.stream === stream && c.topic === topic)).toBe(true);
    expect(copies[0]!.eventId).toBe('event-0');
    expect(copies[1202]!.eventId).toBe('event-1202');
    expect(copies[1203]!.eventId).toBeNull();
    expect(copies[699]!.deliveredTo).toEqual(['session-worker']);
    expect(copies[700]!.deliveredTo).toEqual([]);
    expect(copies.filter((c) => c.deliveredTo.length > 0)).toHaveLength(700);
  });
});
