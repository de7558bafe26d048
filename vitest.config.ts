import { defineConfig } from 'vitest/config';

// Three kinds of test, named by suffix (STYLE.md): *.unit.test.ts (pure logic), *.int.test.ts
// (real Postgres / Kafka / Redis / Toxiproxy), *.e2e.test.ts (the whole system). Integration and
// end-to-end files run one at a time, and the three groups one after the other (groupOrder):
// they share one stack and some of them inject faults into it.
// The global setup lives at the root only (not inherited by the projects) so it runs once.
// GITHUB_STEP_SUMMARY is emptied: the runs the tests make must not write to a CI job's page.
const common = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
  teardownTimeout: 60_000,
  env: { GITHUB_STEP_SUMMARY: '' },
};

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    ...common,
    projects: [
      { test: { ...common, name: 'unit', include: ['test/**/*.unit.test.ts'], sequence: { groupOrder: 0 } } },
      {
        test: {
          ...common,
          name: 'int',
          include: ['test/**/*.int.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...common,
          name: 'e2e',
          include: ['test/**/*.e2e.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
