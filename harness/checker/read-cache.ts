// Reads the cached dashboards and their generations from Redis (the cache keys of
// docs/semantics.md: `dashboard:v1:<studentId>` and `dashboard:v1:<studentId>:gen`).
import { Redis } from 'ioredis';
import { dashboardCacheKey } from '../../system/contracts/api.ts';

/** One cached dashboard as found in Redis. */
export interface CachedDashboard {
  readonly studentId: string;
  readonly key: string;
  /** The raw cached string. */
  readonly raw: string;
  /** The generation the cache entry claims (`{gen, view}`), null when absent or unparseable. */
  readonly cachedGen: number | null;
  /** The cached view, undefined when the entry is not `{gen, view}` JSON. */
  readonly view: unknown;
  /** The current generation counter (`...:gen`), 0 when the key does not exist. */
  readonly currentGen: number;
}

export interface CacheSnapshot {
  readonly dashboards: readonly CachedDashboard[];
  /** Generation counter of every student that has one: how often the cache worker invalidated. */
  readonly generations: ReadonlyMap<string, number>;
}

const prefix = dashboardCacheKey('');

/** Parses one cache entry (pure; exported for unit tests). */
export function parseCacheEntry(studentId: string, raw: string, currentGen: number): CachedDashboard {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  const entry = parsed as { gen?: unknown; view?: unknown } | undefined;
  const gen = entry && typeof entry === 'object' ? Number(entry.gen) : Number.NaN;
  return {
    studentId,
    key: dashboardCacheKey(studentId),
    raw,
    cachedGen: Number.isFinite(gen) ? gen : null,
    view: entry && typeof entry === 'object' && 'view' in entry ? entry.view : undefined,
    currentGen,
  };
}

/** Every dashboard cache key and generation counter in the Redis at `redisUrl`. */
export async function readCache(redisUrl: string): Promise<CacheSnapshot> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    const unique = [...new Set(keys)];
    const values = unique.length > 0 ? await redis.mget(unique) : [];
    const generations = new Map<string, number>();
    const entries: { studentId: string; raw: string }[] = [];
    unique.forEach((key, i) => {
      const v = values[i];
      if (v === null || v === undefined) return;
      const rest = key.slice(prefix.length);
      if (rest.endsWith(':gen')) generations.set(rest.slice(0, -':gen'.length), Number(v) || 0);
      else if (!rest.includes(':')) entries.push({ studentId: rest, raw: v });
    });
    return {
      dashboards: entries.map((e) => parseCacheEntry(e.studentId, e.raw, generations.get(e.studentId) ?? 0)),
      generations,
    };
  } finally {
    redis.disconnect();
  }
}
