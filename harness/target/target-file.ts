// The target file of `--target external:<file>`: a deployment someone else runs, described for the
// harness. Versioned (`version: 1`), checked against its JSON Schema before anything starts (unknown
// keys refused by name). docs/target.schema.json is this module's output (a unit test fails when it
// is stale); regenerate it with
//   node harness/target/target-file.ts > docs/target.schema.json
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { processKinds } from '../../system/contracts/processes.ts';

export const targetFileVersion = 1;

const Url = (description: string) => Type.String({ minLength: 1, description });

const direct = (what: string) =>
  Type.Optional(
    Url(
      `${what} without any proxy: the harness's checks read the truth here while a fault is on (default: the address the system uses)`,
    ),
  );

const Postgres = Type.Object(
  {
    url: Url('what the system uses to reach PostgreSQL (through its Toxiproxy proxy, when there is one)'),
    direct: direct('PostgreSQL'),
  },
  { additionalProperties: false },
);
const Kafka = Type.Object(
  {
    brokers: Url(
      'comma-separated bootstrap addresses the system uses (through the proxies, when there are some)',
    ),
    direct: direct('Kafka'),
  },
  { additionalProperties: false },
);
const Redis = Type.Object(
  {
    url: Url('what the system uses to reach Redis (through its Toxiproxy proxy, when there is one)'),
    direct: direct('Redis'),
  },
  { additionalProperties: false },
);

const ProcessEntry = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'instance name, e.g. `purchase-worker#1`' }),
    kind: Type.Union(
      processKinds.map((k) => Type.Literal(k)),
      { description: 'the process kind (system/contracts/processes.ts)' },
    ),
    metricsUrl: Type.Optional(
      Url('base URL of its /metrics and /healthz (the API: its own URL), e.g. http://127.0.0.1:9401'),
    ),
    pidFile: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'native controller: file holding the live pid, rewritten by the supervisor on every restart (`node system/main.ts supervise` writes <PAYPROOF_PID_DIR>/<instance>.pid)',
      }),
    ),
    pid: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'native controller: a fixed pid (no restart can be followed)',
      }),
    ),
    container: Type.Optional(
      Type.String({ minLength: 1, description: 'docker controller: the container name or id' }),
    ),
  },
  { additionalProperties: false },
);

export const TargetFileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    version: Type.Literal(targetFileVersion, { description: 'the target file format version' }),
    name: Type.Optional(Type.String({ description: 'shown in reports' })),
    api: Type.Object(
      { url: Url('the payment API, e.g. http://127.0.0.1:3000') },
      { additionalProperties: false },
    ),
    postgres: Postgres,
    kafka: Kafka,
    redis: Redis,
    toxiproxy: Type.Optional(
      Type.Object(
        {
          url: Url('the Toxiproxy HTTP API, e.g. http://127.0.0.1:8474'),
          proxies: Type.Object(
            {
              postgres: Type.Optional(Type.String({ minLength: 1 })),
              redis: Type.Optional(Type.String({ minLength: 1 })),
              kafka: Type.Optional(
                Type.Array(Type.String({ minLength: 1 }), {
                  minItems: 1,
                  description:
                    'one proxy per broker, in broker order (kafka-1, kafka-2, ... name them one at a time)',
                }),
              ),
            },
            { additionalProperties: false, description: 'the Toxiproxy proxy in front of each service' },
          ),
        },
        { additionalProperties: false },
      ),
    ),
    processes: Type.Object(
      {
        controller: Type.Union([Type.Literal('native'), Type.Literal('docker'), Type.Literal('none')], {
          description:
            'how the harness kills and pauses processes: native (signals to pids on this machine), docker (docker kill / pause / unpause by container), none (no process faults)',
        }),
        docker: Type.Optional(
          Type.Object(
            {
              executable: Type.Optional(
                Type.String({ minLength: 1, description: 'default: docker on the PATH' }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        list: Type.Array(ProcessEntry, { description: 'every process of the system' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, title: 'payproof target file' },
);

export type TargetFile = Static<typeof TargetFileSchema>;
export type TargetProcess = Static<typeof ProcessEntry>;

export function targetJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    ...(JSON.parse(JSON.stringify(TargetFileSchema)) as Record<string, unknown>),
  };
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(targetJsonSchema());

function describe(e: ErrorObject): string {
  const where = e.instancePath || '(root)';
  if (e.keyword === 'additionalProperties')
    return `${where}: unknown key '${(e.params as { additionalProperty: string }).additionalProperty}'`;
  if (e.keyword === 'const' || e.keyword === 'enum')
    return `${where}: ${e.message} ${JSON.stringify((e.params as { allowedValue?: unknown }).allowedValue ?? '')}`;
  return `${where}: ${e.message ?? e.keyword}`;
}

/** Every way `value` is not a target file, one line each; [] when it is one. */
export function targetFileErrors(value: unknown): string[] {
  const errors: string[] = [];
  if (!validate(value))
    errors.push(...(validate.errors ?? []).filter((e) => e.keyword !== 'anyOf').map(describe));
  if (errors.length > 0) return errors;
  const t = value as TargetFile;
  const need: Record<TargetFile['processes']['controller'], (p: TargetProcess) => string | undefined> = {
    native: (p) => (p.pidFile || p.pid ? undefined : `${p.name}: the native controller needs pidFile or pid`),
    docker: (p) => (p.container ? undefined : `${p.name}: the docker controller needs container`),
    none: () => undefined,
  };
  for (const p of t.processes.list) {
    const e = need[t.processes.controller](p);
    if (e) errors.push(`/processes/list: ${e}`);
  }
  const names = t.processes.list.map((p) => p.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) errors.push(`/processes/list: ${dup} named twice`);
  return errors;
}

/** Reads and checks a target file; throws one message listing every problem. */
export function readTargetFile(path: string): TargetFile {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`target file ${path}: ${(err as Error).message}`);
  }
  const errors = targetFileErrors(value);
  if (errors.length > 0)
    throw new Error(
      `target file ${path} is not a payproof target file (docs/targets.md):\n  ${errors.join('\n  ')}`,
    );
  return value as TargetFile;
}

if (import.meta.main) process.stdout.write(`${JSON.stringify(targetJsonSchema(), null, 2)}\n`);
