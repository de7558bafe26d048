// Test files in the order that kills a mutant soonest (npm run mutate): Stryker stops at the first
// failing test (bail), so unit tests, then the small integration tests, then the properties (a
// handler-level case costs seconds). Vitest's default runs the slowest file first.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const rank = (file: string) =>
  file.includes('.unit.test.') ? 0 : file.includes('/property/') ? (file.includes('model') ? 3 : 2) : 1;

export class FastFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort(
      (a, b) => rank(a.moduleId) - rank(b.moduleId) || a.moduleId.localeCompare(b.moduleId),
    );
  }
}
