// Experiment flags shared by the benchmark scripts: run the system differently from how the harness
// deploys it, to measure what one factor costs. Printed at the top of the output, kept in bench.json.
export interface Experiment {
  readonly lines: readonly string[];
  readonly options: {
    readonly nodeOptions?: string;
    readonly env?: Readonly<Record<string, string>>;
    readonly direct?: boolean;
  };
}

/** `--env=A=1,B=2` → { A: '1', B: '2' }. */
function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new Error(`--env ${text}: expected KEY=VALUE[,KEY=VALUE]`);
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

export function experimentOptions(
  nodeOptions: string | undefined,
  env: string | undefined,
  proxied: boolean,
): Experiment {
  // The deployment the goals are judged on talks to the services directly, as `npm run load`
  // does (no fault to inject); the Toxiproxy hop is what a chaos run adds, measured on demand.
  const direct = !proxied;
  const lines: string[] = [];
  if (nodeOptions) lines.push(`every system process runs with NODE_OPTIONS ${nodeOptions}`);
  const parsed = env ? parseEnv(env) : undefined;
  if (parsed)
    lines.push(
      `every system process gets ${Object.entries(parsed)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
  if (proxied)
    lines.push('the system connects to PostgreSQL, Kafka and Redis through Toxiproxy, as in a chaos run');
  return {
    lines,
    options: {
      ...(nodeOptions ? { nodeOptions } : {}),
      ...(parsed ? { env: parsed } : {}),
      ...(direct ? { direct } : {}),
    },
  };
}
