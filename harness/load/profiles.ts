// Finds profiles by name: `scenarios/<name>.ts` exports a LoadProfile as default, and
// `scenarios/flood/<name>.ts` a FloodProfile. Adding a profile means adding one file.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FloodProfile } from './flood-plan.ts';
import type { LoadProfile } from './profile.ts';
import { validateProfile } from './profile.ts';

const scenariosDir = new URL('../../scenarios/', import.meta.url);
const validName = /^[a-z0-9][a-z0-9-]*$/;

function namesIn(dir: URL): string[] {
  try {
    return readdirSync(fileURLToPath(dir))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.slice(0, -3))
      .filter((n) => validName.test(n))
      .sort();
  } catch {
    return [];
  }
}

/** Names of the load profiles in scenarios/. */
export function listProfiles(): string[] {
  return namesIn(scenariosDir);
}

/** Loads and validates `scenarios/<name>.ts`; the error lists the profiles that exist. */
export async function loadProfile(name: string): Promise<LoadProfile> {
  if (!validName.test(name) || !listProfiles().includes(name)) {
    throw new Error(`unknown load profile '${name}'; profiles: ${listProfiles().join(', ')}`);
  }
  const mod = (await import(new URL(`${name}.ts`, scenariosDir).href)) as { default?: LoadProfile };
  if (!mod.default) throw new Error(`scenarios/${name}.ts must export a LoadProfile as default`);
  validateProfile(mod.default);
  return mod.default;
}

/** Names of the flood profiles in scenarios/flood/. */
export function listFloodProfiles(): string[] {
  return namesIn(new URL('flood/', scenariosDir));
}

export async function loadFloodProfile(name: string): Promise<FloodProfile> {
  if (!validName.test(name) || !listFloodProfiles().includes(name)) {
    throw new Error(`unknown flood profile '${name}'; profiles: ${listFloodProfiles().join(', ')}`);
  }
  const mod = (await import(new URL(`flood/${name}.ts`, scenariosDir).href)) as { default?: FloodProfile };
  if (!mod.default) throw new Error(`scenarios/flood/${name}.ts must export a FloodProfile as default`);
  return mod.default;
}
