// Network faults on the stack's Toxiproxy proxies, for the fault tests: a partition (proxy
// disabled), a black hole (`timeout` toxic with timeout 0 on both streams), and a heal that is
// itself bounded, because removing a toxic can hang (Shopify/toxiproxy#412).
import { type Timeout, type Proxy as ToxiProxy, Toxiproxy } from 'toxiproxy-node-client';
import { withTimeout } from '../../harness/lib/wait-for.ts';
import type { Endpoints, ProxyName } from '../../harness/stack/stack.ts';

/** Bound on every Toxiproxy API call: a fault that cannot be injected or healed fails the test. */
const apiTimeoutMs = 5_000;

/** What Toxiproxy reports about one proxy. */
export interface ProxyState {
  readonly enabled: boolean;
  readonly toxics: readonly { readonly name: string; readonly type: string; readonly stream: string }[];
}

function proxyOf(stack: Endpoints, name: ProxyName): Promise<ToxiProxy> {
  return withTimeout(`toxiproxy get ${name}`, apiTimeoutMs, new Toxiproxy(stack.toxiproxyUrl).get(name));
}

export async function proxyState(stack: Endpoints, name: ProxyName): Promise<ProxyState> {
  const res = await fetch(`${stack.toxiproxyUrl}/proxies/${name}`, {
    signal: AbortSignal.timeout(apiTimeoutMs),
  });
  if (!res.ok) throw new Error(`toxiproxy GET /proxies/${name}: HTTP ${res.status}`);
  return (await res.json()) as ProxyState;
}

/** Partition: Toxiproxy closes the listener and every open connection; new connects are refused. */
export async function disableProxy(stack: Endpoints, name: ProxyName): Promise<void> {
  const p = await proxyOf(stack, name);
  await withTimeout(
    `disable proxy ${name}`,
    apiTimeoutMs,
    p.update({ enabled: false, listen: p.listen, upstream: p.upstream }),
  );
}

/**
 * Black hole: connections stay open (and new ones are accepted) but every byte in either
 * direction is dropped, so clients see timeouts, not errors. Removing the toxic closes the
 * connections it held, so clients reconnect on heal.
 */
export async function blackHole(stack: Endpoints, name: ProxyName): Promise<void> {
  const p = await proxyOf(stack, name);
  for (const stream of ['upstream', 'downstream'] as const) {
    await withTimeout(
      `add black hole ${stream} on ${name}`,
      apiTimeoutMs,
      p.addToxic<Timeout>({
        name: `blackhole-${stream}`,
        type: 'timeout',
        stream,
        toxicity: 1,
        attributes: { timeout: 0 },
      }),
    );
  }
}

/**
 * Puts one proxy back to healthy: removes its toxics and re-enables it, each call bounded; if
 * that fails or hangs, falls back to POST /reset (every proxy enabled, every toxic removed).
 * Throws only when the proxy is still unhealthy after both. Returns the path that healed it.
 */
export async function heal(stack: Endpoints, name: ProxyName): Promise<'clean' | 'healed' | 'reset'> {
  try {
    const before = await proxyState(stack, name);
    if (before.enabled && before.toxics.length === 0) return 'clean';
    await withTimeout(
      `heal proxy ${name}`,
      apiTimeoutMs,
      (async () => {
        const p = await proxyOf(stack, name);
        for (const t of before.toxics) await (await p.getToxic(t.name)).remove();
        if (!before.enabled) await p.update({ enabled: true, listen: p.listen, upstream: p.upstream });
      })(),
    );
    if (isHealthy(await proxyState(stack, name))) return 'healed';
  } catch {
    // Fall through to the reset below.
  }
  const res = await fetch(`${stack.toxiproxyUrl}/reset`, {
    method: 'POST',
    signal: AbortSignal.timeout(apiTimeoutMs),
  });
  if (!res.ok) throw new Error(`toxiproxy POST /reset: HTTP ${res.status}`);
  const after = await proxyState(stack, name);
  if (!isHealthy(after))
    throw new Error(`proxy ${name} still unhealthy after reset: ${JSON.stringify(after)}`);
  return 'reset';
}

export function isHealthy(s: ProxyState): boolean {
  return s.enabled && s.toxics.length === 0;
}

/** Runs `fn` and returns how long it took to reject; throws if it resolved instead. */
export async function timeToFailure(fn: () => Promise<unknown>): Promise<{ ms: number; error: Error }> {
  const t0 = performance.now();
  try {
    await fn();
  } catch (err) {
    return { ms: performance.now() - t0, error: err instanceof Error ? err : new Error(String(err)) };
  }
  throw new Error(`expected the operation to fail, but it succeeded after ${performance.now() - t0} ms`);
}
