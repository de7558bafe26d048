import { defineConfig } from 'vitest/config';
import { FastFirstSequencer } from './fast-first-sequencer.ts';

// The tests that kill mutants of system/ (npm run mutate): the handler-level and model-based
// properties and the integration tests that drive the real API, relay, consumer and handlers, one
// file at a time against one stack (PAYPROOF_ATTACH, started by harness/cli/mutate.ts). The
// properties run a few cases with a fixed seed and stop at the first failing case, without shrinking
// (harness/cli/mutate.ts sets the environment), so a mutant is killed or not the same way on every
// run. Files run fastest first, so a mutant a unit test kills never waits for a property.
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    include: (process.env.PAYPROOF_MUTATION_TESTS ?? '').split(',').filter(Boolean),
    fileParallelism: false,
    sequence: { sequencer: FastFirstSequencer },
    // A test without its own limit takes at most 2 s on a quiet machine: a mutant that makes one
    // hang (a route that never replies) fails it here rather than at Stryker's own limit, which
    // restarts the test runner. 15 s, not less: at a load average of 30 the top-up test took over 8 s
    // in a dry run. The properties set their own.
    testTimeout: 15_000,
    hookTimeout: 120_000,
  },
});
