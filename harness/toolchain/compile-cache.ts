// Node's compile cache for the system's processes (issue 11, memory). The launcher starts every
// system process with NODE_COMPILE_CACHE set to `systemCompileCacheDir` (harness/system/launcher.ts,
// the same path): a process whose modules' stripped source is in the cache never loads Node's
// TypeScript stripper, a wasm module that stays resident (~17 MiB per process). system/main.ts
// writes the cache once a process has started, but the first start of each process after a fresh
// install or an edit would still load the stripper: `warmSystemCompileCache` fills the cache
// before the system starts, in a child process that loads every module of system/ without running
// any (harness/toolchain/warm-compile-cache.ts). It is cheap when nothing changed (a stamp of the
// files' sizes and times), and never fails a run: a cold cache only costs memory.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from './toolchain.ts';

/** Where the system's processes keep Node's compile cache (NODE_COMPILE_CACHE). */
export const systemCompileCacheDir = join(repoRoot, 'node_modules', '.cache', 'payproof-node-compile');

/** Every module of system/ (tests excluded), absolute paths, sorted. */
export function systemModules(dir = join(repoRoot, 'system')): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...systemModules(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

function stampOf(files: readonly string[]): string {
  const lines = files.map((f) => {
    const s = statSync(f);
    return `${relative(repoRoot, f)} ${s.size} ${s.mtimeMs}`;
  });
  return [process.version, ...lines].join('\n');
}

/** Fills the compile cache for every module of system/, unless it already holds this code. */
export async function warmSystemCompileCache(log: (line: string) => void = () => {}): Promise<void> {
  const stampFile = join(systemCompileCacheDir, 'payproof-stamp.txt');
  try {
    const files = systemModules();
    const stamp = stampOf(files);
    let previous = '';
    try {
      previous = readFileSync(stampFile, 'utf8');
    } catch {}
    if (previous === stamp) return;
    mkdirSync(systemCompileCacheDir, { recursive: true });
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [join(import.meta.dirname, 'warm-compile-cache.ts'), ...files], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_COMPILE_CACHE: systemCompileCacheDir },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d) => {
        err += String(d);
      });
      child.on('error', reject);
      child.on('exit', (c) => {
        if (c !== 0) log(`[stack] compile cache not warmed (exit ${c}): ${err.trim().slice(0, 300)}`);
        resolve(c);
      });
    });
    if (code === 0) writeFileSync(stampFile, stamp);
  } catch (err) {
    log(`[stack] compile cache not warmed: ${(err as Error).message}`);
  }
}
