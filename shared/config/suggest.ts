/**
 * "Did you mean" for config keys and values: the closest allowed spelling of a typo.
 */

/** Edit distance (insertions, deletions, substitutions), two rows of the classic table. */
const levenshtein = (a: string, b: string): number => {
  if (a === b) return 0;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? Math.max(a.length, b.length);
};

/**
 * The allowed value closest to `input`, or undefined when none is close enough to be a typo.
 * Case differences, a dropped or added suffix (`timeout` for `timeout_seconds`) and a few
 * wrong characters (one for short words, two up to five characters, three beyond) count as
 * close.
 *
 * @example
 * suggest('webhok', ['name', 'webhook', 'filters']); // 'webhook'
 */
const suggest = (input: string, candidates: readonly string[]): string | undefined => {
  const lower = input.toLowerCase();
  const exactIgnoringCase = candidates.find((candidate) => candidate.toLowerCase() === lower);
  if (exactIgnoringCase !== undefined) return exactIgnoringCase;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = levenshtein(lower, candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  const allowed = input.length <= 3 ? 1 : input.length <= 5 ? 2 : 3;
  if (best !== undefined && best.distance <= allowed) return best.candidate;
  const byPrefix = candidates.find((candidate) => {
    const other = candidate.toLowerCase();
    return (
      Math.min(other.length, lower.length) >= 3 &&
      (lower.startsWith(other) || other.startsWith(lower))
    );
  });
  return byPrefix;
};

export { levenshtein, suggest };
