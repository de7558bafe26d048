// Network faults through Toxiproxy: a partition (proxy disabled), a black hole (timeout toxic),
// and the other toxics (latency with jitter, reset_peer, bandwidth, slow_close). Overlapping
// faults on one proxy are counted (Holds): a partition heals only when the last one ends, and each
// fault's toxics carry its own id, so a heal never removes another fault's toxic.
import type { ProxyName } from '../stack/stack.ts';
import { addToxic, blackHoleToxics, healProxy, type Stream, setEnabled, type Toxic } from './proxy.ts';
import type { Fault, FaultContext, Heal } from './scenario.ts';

const bothStreams: readonly Stream[] = ['upstream', 'downstream'];

/** The proxy is disabled: listener closed, open connections cut, new connections refused. */
export function partition(proxy: ProxyName): Fault {
  return {
    label: `partition ${proxy}`,
    kind: 'partition',
    target: proxy,
    async inject(ctx) {
      const key = `disabled:${proxy}`;
      if (ctx.holds.acquire(key) === 1) await setEnabled(ctx.toxiproxyUrl, proxy, false);
      return once(async () => {
        if (ctx.holds.release(key) === 0)
          await healProxy(ctx.toxiproxyUrl, proxy, { toxics: [], enable: true });
      });
    },
  };
}

/** Adds toxics (named after this fault instance) and returns the heal that removes exactly them. */
async function withToxics(ctx: FaultContext, proxy: ProxyName, toxics: readonly Toxic[]): Promise<Heal> {
  const named = toxics.map((t) => ({ ...t, name: `${t.name}-${ctx.id}` }));
  const added: string[] = [];
  const heal = once(async () => {
    await healProxy(ctx.toxiproxyUrl, proxy, { toxics: added, enable: false });
  });
  try {
    for (const t of named) {
      await addToxic(ctx.toxiproxyUrl, proxy, t);
      added.push(t.name);
    }
  } catch (err) {
    await heal();
    throw err;
  }
  return heal;
}

/** Black hole: every byte dropped both ways, connections stay open: clients see timeouts, not errors. */
export function blackHole(proxy: ProxyName): Fault {
  return {
    label: `black hole ${proxy}`,
    kind: 'blackhole',
    target: proxy,
    inject: (ctx) => withToxics(ctx, proxy, blackHoleToxics()),
  };
}

/** Latency (ms) with jitter (ms) on both directions: a round trip costs about 2 × latency. */
export function latency(proxy: ProxyName, latencyMs: number, jitterMs = 0): Fault {
  return {
    label: `latency ${proxy} ${latencyMs}±${jitterMs}ms`,
    kind: 'latency',
    target: proxy,
    inject: (ctx) =>
      withToxics(
        ctx,
        proxy,
        bothStreams.map((stream) => ({
          name: `latency-${stream}`,
          type: 'latency',
          stream,
          toxicity: 1,
          attributes: { latency: latencyMs, jitter: jitterMs },
        })),
      ),
  };
}

/** TCP RST: a share (`toxicity`) of connections is reset `afterMs` after it sends data. */
export function resetPeer(proxy: ProxyName, afterMs: number, toxicity = 1): Fault {
  return {
    label: `reset peer ${proxy} after ${afterMs}ms (${Math.round(toxicity * 100)}%)`,
    kind: 'reset_peer',
    target: proxy,
    inject: (ctx) =>
      withToxics(ctx, proxy, [
        {
          name: 'reset-peer',
          type: 'reset_peer',
          stream: 'upstream',
          toxicity,
          attributes: { timeout: afterMs },
        },
      ]),
  };
}

/** Bandwidth limit in KB/s on both directions. */
export function bandwidth(proxy: ProxyName, rateKBps: number): Fault {
  return {
    label: `bandwidth ${proxy} ${rateKBps} KB/s`,
    kind: 'bandwidth',
    target: proxy,
    inject: (ctx) =>
      withToxics(
        ctx,
        proxy,
        bothStreams.map((stream) => ({
          name: `bandwidth-${stream}`,
          type: 'bandwidth',
          stream,
          toxicity: 1,
          attributes: { rate: rateKBps },
        })),
      ),
  };
}

/** A closing connection lingers `delayMs` before it really closes (half-dead sockets). */
export function slowClose(proxy: ProxyName, delayMs: number): Fault {
  return {
    label: `slow close ${proxy} ${delayMs}ms`,
    kind: 'slow_close',
    target: proxy,
    inject: (ctx) =>
      withToxics(
        ctx,
        proxy,
        bothStreams.map((stream) => ({
          name: `slow-close-${stream}`,
          type: 'slow_close',
          stream,
          toxicity: 1,
          attributes: { delay: delayMs },
        })),
      ),
  };
}

/** Wraps a heal so that a second call does nothing (the runner's finally may call it again). */
export function once(heal: Heal): Heal {
  let done: Promise<void> | undefined;
  return () => {
    done ??= heal();
    return done;
  };
}
