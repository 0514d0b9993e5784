// "did you mean" for config typos: the nearest candidate by Damerau–Levenshtein distance (the optimal
// string alignment variant: a swap of two neighbours, `retyr` → `retry`, costs 1).

/** Edit distance with insertions, deletions, substitutions and adjacent transpositions. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  // Flat matrix: d[i * cols + j] is the distance between a[0..i) and b[0..j).
  const d = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return at(a.length, b.length);
}

/** Longest word a suggestion is looked for. */
export const MAX_SUGGEST_LENGTH = 256;

/**
 * The candidate closest to `word`, when it is close enough to be a plausible typo: distance at most
 * max(2, len/3), and not a complete rewrite (`ab` is not a typo of `id`). Ties go to the earlier candidate.
 * Comparison ignores case so `Retry` finds `retry`.
 */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  // A client-sent name can be megabytes long: the distance table is (len+1)², so no suggestion for such words
  // (no typo of a real name is that long), and a candidate whose length alone is too far is not compared.
  if (word.length > MAX_SUGGEST_LENGTH) return undefined;
  const limit = Math.max(2, Math.floor(word.length / 3));
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word || Math.abs(candidate.length - word.length) > limit) continue;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance > limit || distance >= Math.max(word.length, candidate.length)) continue;
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
