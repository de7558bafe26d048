// `--target` → a provider. Docker-based providers say in one line when this machine cannot run them.
import { composeProvider } from './compose.ts';
import { needsDocker } from './docker-engine.ts';
import { externalProvider } from './external.ts';
import { nativeProvider } from './native.ts';
import { parseTargetRef, type TargetProvider, type TargetRef } from './target.ts';

export { dockerUnavailable } from './docker-engine.ts';

function testcontainersProvider(ref: TargetRef): TargetProvider {
  return {
    ref,
    lacks: {},
    unavailable: () => needsDocker(ref),
    open: async () => {
      throw new Error(
        `--target ${ref.text}: starting it is not built yet (docs/targets.md, "What is left"); use --target native, or --target compose`,
      );
    },
  };
}

export function providerFor(ref: TargetRef | string | undefined): TargetProvider {
  const r = typeof ref === 'object' ? ref : parseTargetRef(ref);
  switch (r.provider) {
    case 'native':
      return nativeProvider(r);
    case 'native-cluster':
      return nativeProvider(r, { brokers: 3 });
    case 'external':
      return externalProvider(r);
    case 'compose':
      return composeProvider(r);
    case 'testcontainers':
      return testcontainersProvider(r);
  }
}
