// Network faults on the stack's Toxiproxy proxies, for the fault tests: the same bounded actions
// the chaos scenarios use (harness/chaos/proxy.ts: partition, black hole, a heal that falls back
// to POST /reset because removing a toxic can hang, Shopify/toxiproxy#412), in the Endpoints shape.
import {
  blackHole,
  disableProxy,
  heal,
  isHealthy,
  type ProxyState,
  proxyState as stateAt,
} from '../../harness/chaos/proxy.ts';
import type { Endpoints, ProxyName } from '../../harness/stack/stack.ts';

export { blackHole, disableProxy, heal, isHealthy, type ProxyState };

export function proxyState(stack: Endpoints, name: ProxyName): Promise<ProxyState> {
  return stateAt(stack.toxiproxyUrl, name);
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
