// The catalogue: every file in chaos/ is one scenario, named after the file, registered by being
// there (adding a scenario = adding one file, as each Toxiproxy toxic is one file).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../toolchain/toolchain.ts';
import type { ChaosScenario } from './scenario.ts';

export const catalogueDir = join(repoRoot, 'chaos');

/** Scenario names, sorted: the file names of chaos/*.ts. */
export function scenarioNames(dir = catalogueDir): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

export async function loadScenario(name: string, dir = catalogueDir): Promise<ChaosScenario> {
  const names = scenarioNames(dir);
  if (!names.includes(name)) {
    throw new Error(
      `no chaos scenario named ${JSON.stringify(name)}; the catalogue has: ${names.join(', ')}`,
    );
  }
  const mod = (await import(pathToFileURL(join(dir, `${name}.ts`)).href)) as { default?: ChaosScenario };
  const s = mod.default;
  if (!s || typeof s !== 'object' || !Array.isArray(s.timeline)) {
    throw new Error(`chaos/${name}.ts must \`export default defineScenario({...})\``);
  }
  if (s.name !== name)
    throw new Error(`chaos/${name}.ts declares the name ${JSON.stringify(s.name)}: use the file name`);
  return s;
}

export async function loadCatalogue(dir = catalogueDir): Promise<ChaosScenario[]> {
  return Promise.all(scenarioNames(dir).map((n) => loadScenario(n, dir)));
}
