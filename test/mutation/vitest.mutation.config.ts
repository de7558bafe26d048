import { defineConfig } from 'vitest/config';

// The tests that kill mutants of system/ (npm run mutate): the handler-level and model-based
// properties and the integration tests that drive the real API, relay, consumer and handlers, one
// file at a time against one stack (PAYPROOF_ATTACH, started by harness/cli/mutate.ts). The
// properties run a few cases with a fixed seed (harness/cli/mutate.ts sets the environment), so a
// mutant is killed or not the same way on every run.
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    include: (process.env.PAYPROOF_MUTATION_TESTS ?? '').split(',').filter(Boolean),
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
