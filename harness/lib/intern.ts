// One copy of each distinct string. A run's evidence names the same ids over and over (a payment in
// its create, its confirm, the three events of its chain and every processed_events row of them;
// an event id in its own message, as the cause of the next and in each group's processed row):
// kept once, a bench's check holds a fraction of the strings it read (issue 11, goal 6).

/** A function returning the first string equal to its argument that it was given. */
export type Intern = (s: string) => string;

export function interner(): Intern {
  const seen = new Map<string, string>();
  return (s) => {
    const first = seen.get(s);
    if (first !== undefined) return first;
    seen.set(s, s);
    return s;
  };
}

/**
 * Interns, in place, the string values of a parsed JSON object and of the objects within it (not
 * arrays), down to `maxDepth` levels below it, except those under a key in `skip` (values that
 * never repeat, such as a timestamp, would only grow the table).
 */
export function internValues(
  v: unknown,
  intern: Intern,
  keep: (key: string) => boolean = () => true,
  maxDepth = 2,
  depth = 0,
): void {
  if (depth > maxDepth || v === null || typeof v !== 'object' || Array.isArray(v)) return;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const x = o[k];
    if (typeof x === 'string') {
      if (keep(k)) o[k] = intern(x);
    } else internValues(x, intern, keep, maxDepth, depth + 1);
  }
}
