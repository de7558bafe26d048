// The value of a prom-client metric in this process, summed over the series whose labels include
// `labels` (and, for a histogram or summary, whose series name is `metricName`, e.g. `_count`).
// The int tests read the system's metrics in-process with it.

export type Metric = {
  get(): Promise<{ values: { labels: object; value: number; metricName?: string }[] }>;
};

export async function sum(m: Metric, labels: object, metricName?: string): Promise<number> {
  return (await m.get()).values
    .filter((v) => metricName === undefined || v.metricName === metricName)
    .filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))
    .reduce((s, v) => s + v.value, 0);
}
