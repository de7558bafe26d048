// Network faults through Toxiproxy: a partition (proxy disabled), a black hole (timeout toxic),
// and the other toxics (latency with jitter, reset_peer, bandwidth, slow_close). Overlapping
// faults on one proxy are counted (Holds): a partition heals only when the last one ends, and each
// fault's toxics carry its own id, so a heal never removes another fault's toxic.
// A fault names a logical proxy (`kafka`, `postgres`, `redis`, or one broker, `kafka-2`); the target
// says which Toxiproxy proxies that is (`ctx.proxies`): every broker's proxy for `kafka` on a
// three-broker cluster, the names of a target file on an external deployment.
import { addToxic, blackHoleToxics, healProxy, type Stream, setEnabled, type Toxic } from './proxy.ts';
import type { Fault, FaultContext, Heal, LogicalProxy } from './scenario.ts';

const bothStreams: readonly Stream[] = ['upstream', 'downstream'];

/** The proxy is disabled: listener closed, open connections cut, new connections refused. */
export function partition(proxy: LogicalProxy): Fault {
  return {
    label: `partition ${proxy}`,
    kind: 'partition',
    target: proxy,
    needs: ['network'],
    async inject(ctx) {
      const names = ctx.proxies(proxy);
      for (const name of names) {
        if (ctx.holds.acquire(`disabled:${name}`) === 1) await setEnabled(ctx.toxiproxyUrl, name, false);
      }
      return once(async () => {
        for (const name of names) {
          if (ctx.holds.release(`disabled:${name}`) === 0)
            await healProxy(ctx.toxiproxyUrl, name, { toxics: [], enable: true });
        }
      });
    },
  };
}

/** Adds toxics (named after this fault instance) and returns the heal that removes exactly them. */
async function withToxics(ctx: FaultContext, proxy: LogicalProxy, toxics: readonly Toxic[]): Promise<Heal> {
  const named = toxics.map((t) => ({ ...t, name: `${t.name}-${ctx.id}` }));
  const added: { proxy: string; toxic: string }[] = [];
  const heal = once(async () => {
    for (const name of new Set(added.map((a) => a.proxy)))
      await healProxy(ctx.toxiproxyUrl, name, {
        toxics: added.filter((a) => a.proxy === name).map((a) => a.toxic),
        enable: false,
      });
  });
  try {
    for (const name of ctx.proxies(proxy)) {
      for (const t of named) {
        await addToxic(ctx.toxiproxyUrl, name, t);
        added.push({ proxy: name, toxic: t.name });
      }
    }
  } catch (err) {
    await heal();
    throw err;
  }
  return heal;
}

/** Black hole: every byte dropped both ways, connections stay open: clients see timeouts, not errors. */
export function blackHole(proxy: LogicalProxy): Fault {
  return {
    label: `black hole ${proxy}`,
    kind: 'blackhole',
    needs: ['network'],
    target: proxy,
    inject: (ctx) => withToxics(ctx, proxy, blackHoleToxics()),
  };
}

/** Latency (ms) with jitter (ms) on both directions: a round trip costs about 2 × latency. */
export function latency(proxy: LogicalProxy, latencyMs: number, jitterMs = 0): Fault {
  return {
    label: `latency ${proxy} ${latencyMs}±${jitterMs}ms`,
    kind: 'latency',
    needs: ['network'],
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
export function resetPeer(proxy: LogicalProxy, afterMs: number, toxicity = 1): Fault {
  return {
    label: `reset peer ${proxy} after ${afterMs}ms (${Math.round(toxicity * 100)}%)`,
    kind: 'reset_peer',
    needs: ['network'],
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
export function bandwidth(proxy: LogicalProxy, rateKBps: number): Fault {
  return {
    label: `bandwidth ${proxy} ${rateKBps} KB/s`,
    kind: 'bandwidth',
    needs: ['network'],
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
export function slowClose(proxy: LogicalProxy, delayMs: number): Fault {
  return {
    label: `slow close ${proxy} ${delayMs}ms`,
    kind: 'slow_close',
    needs: ['network'],
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
