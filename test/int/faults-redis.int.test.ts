// Redis behind a faulty proxy: a command fails within a bounded time, works again after the heal,
// and every acknowledged write is still there. Also pins down an ioredis default that matters to
// the cache invariant: a command that timed out can still be applied after the heal.
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../harness/lib/wait-for.ts';
import {
  blackHole,
  disableProxy,
  heal,
  isHealthy,
  proxyState,
  timeToFailure,
} from '../support/proxy-faults.ts';

const stack = inject('stack');
const faultBoundMs = 10_000;

/**
 * Bounded everywhere (1 s to connect, 1 s per command, one retry per request). With no offline
 * queue and no resend of unanswered commands, a rejected command is never sent later behind the
 * caller's back; a timeout still means "may have been applied" in general.
 */
const bounded: RedisOptions = {
  connectTimeout: 1_000,
  commandTimeout: 1_000,
  maxRetriesPerRequest: 1,
  retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
};

function client(url: string, options: RedisOptions): Redis {
  const r = new Redis(url, { lazyConnect: true, ...options });
  // Connection errors during a fault are expected; commands report them to their callers.
  r.on('error', () => {});
  return r;
}

async function directGet(keys: string[]): Promise<(string | null)[]> {
  const r = client(stack.direct.redisUrl, { connectTimeout: 2_000, commandTimeout: 2_000 });
  await r.connect();
  try {
    return await r.mget(keys);
  } finally {
    r.disconnect();
  }
}

async function faultThenHeal(fault: () => Promise<void>) {
  const prefix = `faults:${randomUUID()}:`;
  const r = client(stack.redisUrl, bounded);
  const acked: string[] = [];
  const unknown: string[] = [];
  let failure: { ms: number; error: Error };
  try {
    await r.connect();
    await r.set(`${prefix}before`, 'v');
    acked.push('before');
    await fault();
    failure = await timeToFailure(() => r.set(`${prefix}during`, 'v'));
    await heal(stack, 'redis');
    let attempt = 0;
    await waitFor(
      'a SET to succeed after the heal',
      async () => {
        const key = `after-${++attempt}`;
        try {
          await r.set(`${prefix}${key}`, 'v');
        } catch (err) {
          unknown.push(key);
          throw err;
        }
        acked.push(key);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  } finally {
    await heal(stack, 'redis');
    r.disconnect();
  }

  expect(failure.ms).toBeLessThan(faultBoundMs);
  const values = await directGet(acked.map((k) => prefix + k));
  expect(values.every((v) => v === 'v')).toBe(true);
  // The SET rejected during the fault never reached the server (the proxy refused or dropped it)
  // and the client was told not to send it again.
  expect(await directGet([`${prefix}during`])).toEqual([null]);
  return failure;
}

describe('redis commands through a faulty proxy (connectTimeout, commandTimeout, maxRetriesPerRequest set)', () => {
  afterEach(async () => {
    await heal(stack, 'redis');
    expect(isHealthy(await proxyState(stack, 'redis'))).toBe(true);
  });

  it('proxy disabled: a command fails within 10 s; re-enabled: commands succeed and no acknowledged write is lost', async () => {
    const failure = await faultThenHeal(() => disableProxy(stack, 'redis'));
    expect(failure.error.message).toMatch(/writeable|ECONNREFUSED|closed|retries/i);
  });

  it('black hole (timeout toxic, timeout 0, both streams): a command times out within 10 s; after removing the toxic commands succeed and nothing is lost', async () => {
    const failure = await faultThenHeal(() => blackHole(stack, 'redis'));
    expect(failure.error.message).toMatch(/timed out/i);
  });

  it("with ioredis's default autoResendUnfulfilledCommands, a SET that timed out in the black hole is applied after the heal: a timeout is 'info', never 'fail'", async () => {
    const key = `faults:${randomUUID()}:resent`;
    const r = client(stack.redisUrl, {
      connectTimeout: 1_000,
      commandTimeout: 1_000,
      maxRetriesPerRequest: 1,
    });
    try {
      await r.connect();
      await blackHole(stack, 'redis');
      const failure = await timeToFailure(() => r.set(key, 'late'));
      expect(failure.error.message).toMatch(/timed out/i);
      expect(await directGet([key])).toEqual([null]);
      await heal(stack, 'redis');
      // Removing the toxic closes the connection; ioredis reconnects and resends the unanswered SET.
      const late = await waitFor('the timed-out SET to land', async () => (await directGet([key]))[0], {
        timeoutMs: 10_000,
      });
      expect(late).toBe('late');
    } finally {
      await heal(stack, 'redis');
      r.disconnect();
    }
  });
});
