// Structural comparison of JSON values: key order never matters (jsonb reorders keys), anything
// else does. Used for envelope copies, cached views and replayed responses.

/** JSON with object keys sorted at every level: equal strings iff equal values. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .sort()
        .map((k) => [k, sortKeys(obj[k])]),
    );
  }
  return value;
}

export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The first place two JSON values differ, as a path and both values; undefined when equal. */
export function firstDifference(
  expected: unknown,
  found: unknown,
  path = '$',
): { path: string; expected: unknown; found: unknown } | undefined {
  if (sameJson(expected, found)) return undefined;
  const bothArrays = Array.isArray(expected) && Array.isArray(found);
  const bothObjects =
    !bothArrays &&
    expected !== null &&
    found !== null &&
    typeof expected === 'object' &&
    typeof found === 'object' &&
    !Array.isArray(expected) &&
    !Array.isArray(found);
  if (bothArrays) {
    const e = expected as unknown[];
    const f = found as unknown[];
    for (let i = 0; i < Math.max(e.length, f.length); i++) {
      const d = firstDifference(e[i], f[i], `${path}[${i}]`);
      if (d) return d;
    }
  }
  if (bothObjects) {
    const e = expected as Record<string, unknown>;
    const f = found as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(e), ...Object.keys(f)])].sort()) {
      const d = firstDifference(e[k], f[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return { path, expected, found };
}
