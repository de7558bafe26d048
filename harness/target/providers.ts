// `--target` → a provider. Docker-based providers say in one line when this machine cannot run them.
import { composeProvider } from './compose.ts';
import { externalProvider } from './external.ts';
import { nativeProvider } from './native.ts';
import { parseTargetRef, type TargetProvider, type TargetRef } from './target.ts';
import { testcontainersProvider } from './testcontainers.ts';

export { dockerUnavailable } from './docker-engine.ts';

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
