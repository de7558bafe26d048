// Whether a Docker engine answers here: the Docker-based targets say in one line when it does not.
import { spawnSync } from 'node:child_process';
import type { TargetRef } from './target.ts';

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

/** undefined when `ref` can run here; else one line: Docker is missing, and the native default. */
export function dockerUnavailableMessage(ref: TargetRef, why = dockerUnavailable()): string | undefined {
  return why
    ? `--target ${ref.text} needs Docker: ${why}; the default target is native (--target native)`
    : undefined;
}
