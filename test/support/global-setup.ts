// Starts one real stack for the whole test run (free ports, so it never collides with a stack a
// developer has running) and hands its endpoints to every test file. PAYPROOF_ATTACH=<stack.json>
// reuses a stack that is already up instead.
import { readFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { type Endpoints, type Stack, startStack } from '../../harness/stack/stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: Endpoints;
  }
}

let stack: Stack | undefined;

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
  stack = await startStack({ ports: 'free', onProgress: (l) => console.log(`[stack] ${l}`) });
  project.provide('stack', stack.endpoints);
  const stop = () => stack?.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export async function teardown() {
  await stack?.stop();
}
