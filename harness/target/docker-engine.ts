// Is there a Docker engine here? One answer, one line, for every Docker-based target (compose,
// testcontainers). The executable is `docker` on the PATH, or PAYPROOF_DOCKER.
import { spawnSync } from 'node:child_process';
import type { TargetRef } from './target.ts';

/** The docker CLI the Docker-based targets run: PAYPROOF_DOCKER, else `docker` on the PATH. */
export function dockerExecutable(env: NodeJS.ProcessEnv = process.env): string {
  return env.PAYPROOF_DOCKER || 'docker';
}

/** undefined when a Docker engine answers; else why not, in one line. */
export function dockerUnavailable(executable = dockerExecutable()): string | undefined {
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

/** A provider's `unavailable()`: the one line naming the native default, or undefined. */
export function needsDocker(ref: TargetRef, executable = dockerExecutable()): string | undefined {
  const why = dockerUnavailable(executable);
  return why
    ? `--target ${ref.text} needs Docker: ${why}; the default target is native (--target native)`
    : undefined;
}
