// `--target` → a provider. Docker-based providers say in one line when this machine cannot run them.
import { dockerUnavailableMessage } from './docker-engine.ts';
import { externalProvider } from './external.ts';
import { nativeProvider } from './native.ts';
import { parseTargetRef, type TargetProvider, type TargetRef } from './target.ts';
import { testcontainersProvider } from './testcontainers.ts';

export { dockerUnavailable } from './docker-engine.ts';

function dockerProvider(ref: TargetRef): TargetProvider {
  return {
    ref,
    lacks: {},
    unavailable: () => dockerUnavailableMessage(ref),
    open: async () => {
      throw new Error(
        `--target ${ref.text}: starting it is not built yet (docs/targets.md, "What is left"); use --target native, or start docker-compose.yml yourself and use --target external:<file> with the docker controller`,
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
      return dockerProvider(r);
    case 'testcontainers':
      return testcontainersProvider(r);
  }
}
