// `--target` → a provider. Docker-based providers say in one line when this machine cannot run them.
import { spawnSync } from 'node:child_process';
import { externalProvider } from './external.ts';
import { nativeProvider } from './native.ts';
import { parseTargetRef, type TargetProvider, type TargetRef } from './target.ts';

/** undefined when a Docker engine answers; else why not, in one line. */
export function dockerUnavailable(executable = process.env.PAYPROOF_DOCKER ?? 'docker'): string | undefined {
  const r = spawnSync(executable, ['info', '--format', '{{.ServerVersion}}'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (r.error)
    return `no docker command on the PATH (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  if (r.status !== 0)
    return `no Docker engine answers (docker info: ${(r.stderr || r.stdout).trim().split('\n')[0]})`;
  return undefined;
}

function dockerProvider(ref: TargetRef): TargetProvider {
  return {
    ref,
    lacks: {},
    unavailable: () => {
      const why = dockerUnavailable();
      return why
        ? `--target ${ref.text} needs Docker: ${why}; the default target is native (--target native)`
        : undefined;
    },
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
    case 'testcontainers':
      return dockerProvider(r);
  }
}
