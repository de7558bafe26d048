// The relay's one log line per published event (system/relay/relay.ts), on real PostgreSQL, Kafka and
// Redis: after each cycle, a line per row with its correlation id, event id, type, topic and batch
// size, at the configured level (EVENT_LOG_LEVEL), and the transport when it went through the Redis
// Streams fallback. It is the relay's part of an event's trace (the workers log theirs). Written for
// issue 12's mutation score: the relay tests run with the log off, so these fields went unread.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Producer } from 'kafkajs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scratchDatabases } from '../../harness/checker/scratch-database.ts';
import { createPool, type Pool } from '../../system/lib/db.ts';
import { createKafka } from '../../system/lib/kafka.ts';
import { createLogger } from '../../system/lib/log.ts';
import { TransportBreaker } from '../../system/relay/breaker.ts';
import { type RelayDeps, relayOnce, relayToStreamsOnce } from '../../system/relay/relay.ts';
import { connectedRedis } from '../support/redis.ts';

const stack = inject('stack');
const silent = createLogger('relay-event-lines', 'silent');
const kafka = createKafka([stack.kafkaBrokers], 'relay-event-lines-test', silent);
let dbs: Awaited<ReturnType<typeof scratchDatabases>>;
let pool: Pool;
let producer: Producer;

beforeAll(async () => {
  dbs = await scratchDatabases(stack.direct.databaseUrl);
  pool = createPool((await dbs.create()).url, 2);
  producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await pool?.end();
  await dbs?.close();
});

/** A pino logger at `level` whose lines land in `lines`, parsed. */
function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, log: pino({ level }, sink) };
}

describe('the relay’s line per published event', () => {
  it('names each row’s ids, type, topic and batch, and the fallback’s transport', async () => {
    const topic = `relay-event-lines.${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const rows = [randomUUID(), randomUUID()].map((correlationId) => ({
      correlationId,
      eventId: randomUUID(),
    }));
    const enqueue = async () => {
      for (const r of rows)
        await pool.query(
          `INSERT INTO outbox (event_id, event_type, topic, message_key, envelope) VALUES ($1, 'T_lines', $2, 'k', $3)`,
          [r.eventId, topic, JSON.stringify({ correlationId: r.correlationId })],
        );
    };
    const fields = (lines: Record<string, unknown>[], msg: string) =>
      lines
        .filter((l) => l.msg === msg)
        .map((l) => [l.level, l.correlationId, l.eventId, l.eventType, l.topic, l.transport, l.batch]);

    await enqueue();
    const kafkaSide = capture('info');
    expect(await relayOnce({ pool, producer, faults: new Set(), log: kafkaSide.log })).toBe(2);
    expect(fields(kafkaSide.lines, 'event published')).toEqual(
      rows.map((r) => [30, r.correlationId, r.eventId, 'T_lines', topic, undefined, 2]),
    );

    // Through the fallback, at the configured level (debug here).
    await pool.query('DELETE FROM outbox WHERE topic = $1', [topic]);
    rows.forEach((r) => {
      r.eventId = randomUUID();
    });
    await enqueue();
    const redis = await connectedRedis(stack.redisUrl, silent);
    const streamSide = capture('debug');
    try {
      const deps: RelayDeps = {
        pool,
        producer,
        faults: new Set(),
        log: streamSide.log,
        eventLogLevel: 'debug',
        fallback: {
          redis,
          breaker: new TransportBreaker({ openAfterMs: 0, closeAfterMs: 60_000 }),
          probeKafka: async () => {},
        },
      };
      expect(await relayToStreamsOnce(deps)).toBe(2);
      expect(fields(streamSide.lines, 'event published to the fallback')).toEqual(
        rows.map((r) => [20, r.correlationId, r.eventId, 'T_lines', topic, 'stream', 2]),
      );
    } finally {
      redis.disconnect();
      await pool.query('DELETE FROM outbox WHERE topic = $1', [topic]);
    }
  });
});
