// Reads the system processes' own /metrics (prom-client): where their resident memory goes (V8
// heap, external buffers) and what each worker reports, to explain the /proc figures.
import type { RunningSystem } from '../../system/launcher.ts';

/** Sum of every sample of `name` in a Prometheus text exposition, optionally filtered by a label. */
export function metricSum(text: string, name: string, label?: { key: string; value: string }): number | null {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (label && !rest.includes(`${label.key}="${label.value}"`)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) {
      sum += v;
      found = true;
    }
  }
  return found ? sum : null;
}

export interface NodeMemory {
  readonly name: string;
  readonly rssMiB: number | null;
  readonly heapUsedMiB: number | null;
  readonly heapTotalMiB: number | null;
  readonly externalMiB: number | null;
}

/** Memory as each system process reports it (process_resident_memory_bytes, nodejs_heap_*). */
export async function nodeMemory(sys: RunningSystem): Promise<NodeMemory[]> {
  const out: NodeMemory[] = [];
  const mb = (x: number | null) => (x === null ? null : x / 2 ** 20);
  for (const p of sys.processes) {
    try {
      const r = await fetch(`http://127.0.0.1:${p.metricsPort}/metrics`, {
        signal: AbortSignal.timeout(3_000),
      });
      const text = await r.text();
      out.push({
        name: p.name.replace(/#\d+$/, ''),
        rssMiB: mb(metricSum(text, 'process_resident_memory_bytes')),
        heapUsedMiB: mb(metricSum(text, 'nodejs_heap_size_used_bytes')),
        heapTotalMiB: mb(metricSum(text, 'nodejs_heap_size_total_bytes')),
        externalMiB: mb(metricSum(text, 'nodejs_external_memory_bytes')),
      });
    } catch {
      // a process between restarts: no figure
    }
  }
  return out;
}
