// Starts one real stack for the whole test run (free ports, so it never collides with a stack a
// developer has running) and hands its endpoints to every test file. PAYPROOF_ATTACH=<stack.json>
// reuses a stack that is already up instead. PAYPROOF_TARGET picks what the services run on
// (harness/target/): native (default), native-cluster (three brokers), external:<file> (the
// services of a running deployment: its direct addresses), testcontainers (the services in
// containers, harness/target/testcontainers.ts), compose (Docker: not built).
import { readFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { type Endpoints, type Stack, startStack } from '../../harness/stack/stack.ts';
import { providerFor } from '../../harness/target/providers.ts';
import { parseTargetRef } from '../../harness/target/target.ts';
import { readTargetFile } from '../../harness/target/target-file.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: Endpoints;
  }
}

let stack: Stack | undefined;
let containers: import('../../harness/target/testcontainers.ts').ContainerStack | undefined;

export async function setup(project: TestProject) {
  // Unit tests need no services (npm run test:unit sets this).
  if (process.env.PAYPROOF_NO_STACK) return;
  const attach = process.env.PAYPROOF_ATTACH;
  if (attach) {
    project.provide(
      'stack',
      (JSON.parse(readFileSync(attach, 'utf8')) as { endpoints: Endpoints }).endpoints,
    );
    return;
  }
  const ref = parseTargetRef(process.env.PAYPROOF_TARGET);
  const unavailable = providerFor(ref).unavailable();
  if (unavailable)
    throw new Error(`PAYPROOF_TARGET=${ref.text}: ${unavailable.replace(/^--target \S+ /, '')}`);
  if (ref.provider === 'external') {
    // The tests isolate themselves (fresh topics, groups, databases, key prefixes) on the
    // deployment's services, through their direct addresses. Tests of the native stack itself
    // (its ports, its processes) need the native target.
    const t = readTargetFile(ref.file!);
    const direct = {
      databaseUrl: t.postgres.direct ?? t.postgres.url,
      kafkaBrokers: t.kafka.direct ?? t.kafka.brokers,
      redisUrl: t.redis.direct ?? t.redis.url,
    };
    project.provide('stack', {
      databaseUrl: t.postgres.url,
      kafkaBrokers: t.kafka.brokers,
      redisUrl: t.redis.url,
      toxiproxyUrl: t.toxiproxy?.url ?? '',
      direct,
      runDir: '',
    } as unknown as Endpoints);
    return;
  }
  if (ref.provider === 'testcontainers') {
    // The services in containers, proxied and provisioned (not the system: tests start what they
    // need). Tests of the native stack itself (its ports, its processes) need the native target.
    const { startContainers } = await import('../../harness/target/testcontainers.ts');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    containers = await startContainers(mkdtempSync(join(tmpdir(), 'payproof-containers-')), (l) =>
      console.log(`[containers] ${l}`),
    );
    project.provide('stack', containers.endpoints as unknown as Endpoints);
    return;
  }
  if (ref.provider !== 'native' && ref.provider !== 'native-cluster')
    throw new Error(
      `PAYPROOF_TARGET=${ref.text}: the test suite runs on native, native-cluster, testcontainers or external:<file>`,
    );
  stack = await startStack({
    ports: 'free',
    ...(ref.provider === 'native-cluster' ? { brokers: 3 } : {}),
    onProgress: (l) => console.log(`[stack] ${l}`),
  });
  project.provide('stack', stack.endpoints);
  const stop = () => stack?.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export async function teardown() {
  await stack?.stop();
  await containers?.stop();
}
