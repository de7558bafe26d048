// Network faults on the stack's Toxiproxy proxies, over its REST API with every call bounded:
// a partition (proxy disabled), toxics (latency, timeout / black hole, reset_peer, bandwidth,
// slow_close), and a heal that is itself bounded, because removing a toxic can hang
// (Shopify/toxiproxy#412). POST /reset, with a timeout, is the last resort.

/** Bound on every Toxiproxy API call: a fault that cannot be injected or healed is an error, not a hang. */
export const apiTimeoutMs = 5_000;

export type ToxicType =
  | 'latency'
  | 'timeout'
  | 'reset_peer'
  | 'bandwidth'
  | 'slow_close'
  | 'slicer'
  | 'limit_data';
export type Stream = 'upstream' | 'downstream';

/** One toxic as Toxiproxy stores it. */
export interface Toxic {
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: Stream;
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

/** What Toxiproxy reports about one proxy. */
export interface ProxyState {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly Toxic[];
}

async function call(
  toxiproxyUrl: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  timeoutMs = apiTimeoutMs,
): Promise<unknown> {
  const res = await fetch(`${toxiproxyUrl}${path}`, {
    method,
    signal: AbortSignal.timeout(timeoutMs),
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

export async function proxyState(toxiproxyUrl: string, name: string): Promise<ProxyState> {
  return (await call(toxiproxyUrl, 'GET', `/proxies/${name}`)) as ProxyState;
}

export function isHealthy(s: Pick<ProxyState, 'enabled' | 'toxics'>): boolean {
  return s.enabled && s.toxics.length === 0;
}

/** Partition: Toxiproxy closes the listener and every open connection; new connects are refused. */
export async function setEnabled(toxiproxyUrl: string, name: string, enabled: boolean): Promise<void> {
  const p = await proxyState(toxiproxyUrl, name);
  await call(toxiproxyUrl, 'POST', `/proxies/${name}`, { enabled, listen: p.listen, upstream: p.upstream });
}

export async function addToxic(toxiproxyUrl: string, proxy: string, toxic: Toxic): Promise<void> {
  await call(toxiproxyUrl, 'POST', `/proxies/${proxy}/toxics`, toxic);
}

/** Removes one toxic; a toxic that is already gone counts as removed. */
export async function removeToxic(toxiproxyUrl: string, proxy: string, toxicName: string): Promise<void> {
  try {
    await call(toxiproxyUrl, 'DELETE', `/proxies/${proxy}/toxics/${toxicName}`);
  } catch (err) {
    if (!/HTTP 404/.test((err as Error).message)) throw err;
  }
}

/**
 * Black hole: connections stay open (and new ones are accepted) but every byte in either
 * direction is dropped, so clients see timeouts, not errors. Removing the toxics closes the
 * connections they held, so clients reconnect on heal.
 */
export function blackHoleToxics(prefix = 'blackhole'): Toxic[] {
  return (['upstream', 'downstream'] as const).map((stream) => ({
    name: `${prefix}-${stream}`,
    type: 'timeout',
    stream,
    toxicity: 1,
    attributes: { timeout: 0 },
  }));
}

/** POST /reset: every proxy enabled, every toxic removed. Bounded. */
export async function resetAll(toxiproxyUrl: string, timeoutMs = apiTimeoutMs): Promise<void> {
  await call(toxiproxyUrl, 'POST', '/reset', undefined, timeoutMs);
}

/**
 * Puts one proxy back to healthy: removes the named toxics (all of them when `toxics` is omitted)
 * and re-enables it when asked, each call bounded; if that fails or hangs, falls back to
 * POST /reset (which heals every proxy). Throws only when the proxy is still unhealthy after both.
 * Returns the path that healed it.
 */
export async function healProxy(
  toxiproxyUrl: string,
  name: string,
  opts: { toxics?: readonly string[]; enable?: boolean } = {},
): Promise<'clean' | 'healed' | 'reset'> {
  const enable = opts.enable ?? opts.toxics === undefined;
  try {
    const before = await proxyState(toxiproxyUrl, name);
    const toRemove = before.toxics.filter((t) => opts.toxics === undefined || opts.toxics.includes(t.name));
    if (toRemove.length === 0 && (before.enabled || !enable)) return 'clean';
    for (const t of toRemove) await removeToxic(toxiproxyUrl, name, t.name);
    if (enable && !before.enabled) await setEnabled(toxiproxyUrl, name, true);
    const after = await proxyState(toxiproxyUrl, name);
    const left = after.toxics.filter((t) => toRemove.some((r) => r.name === t.name));
    if (left.length === 0 && (after.enabled || !enable)) return 'healed';
  } catch {
    // Fall through to the reset below.
  }
  await resetAll(toxiproxyUrl);
  const after = await proxyState(toxiproxyUrl, name);
  if (!isHealthy(after))
    throw new Error(`proxy ${name} still unhealthy after reset: ${JSON.stringify(after)}`);
  return 'reset';
}

/** Compatibility helpers with the shape the fault tests use (an Endpoints-like object). */
export const disableProxy = (stack: { toxiproxyUrl: string }, name: string) =>
  setEnabled(stack.toxiproxyUrl, name, false);

export async function blackHole(stack: { toxiproxyUrl: string }, name: string): Promise<void> {
  for (const t of blackHoleToxics()) await addToxic(stack.toxiproxyUrl, name, t);
}

export const heal = (stack: { toxiproxyUrl: string }, name: string) => healProxy(stack.toxiproxyUrl, name);
