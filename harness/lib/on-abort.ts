// One abort listener per signal, however many callers wait on it. The load engine's ~1000 virtual
// users all pass the run's one AbortSignal to every request and think-time sleep; a listener per
// call made each addEventListener / removeEventListener walk the others (2.1 s of the generator's
// CPU in a users-1000 run, docs/benchmarks.md, fifth round). Here registering and unregistering
// are a Set's add and delete.

const waiting = new WeakMap<AbortSignal, Set<() => void>>();

/** Calls `fn` once when `signal` aborts; returns the function that unregisters it. */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let set = waiting.get(signal);
  if (!set) {
    const fns = new Set<() => void>();
    set = fns;
    waiting.set(signal, fns);
    signal.addEventListener(
      'abort',
      () => {
        for (const f of [...fns]) f();
        fns.clear();
      },
      { once: true },
    );
  }
  const fns = set;
  fns.add(fn);
  return () => fns.delete(fn);
}
