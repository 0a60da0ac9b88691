/** Docker's "did you mean" hints for a mistyped instruction or flag (buildkit util/suggest). */

/** buildkit's suggest: the closest known name within an edit distance of 2, as ` (did you mean x?)`. */
export function suggestion(value: string, options: readonly string[]): string {
  const lower = value.toLowerCase();
  let best = '';
  let bestDistance = 3;
  for (const option of options) {
    if (option === lower) return '';
    const distance = levenshtein(lower, option);
    if (distance < bestDistance) {
      best = option;
      bestDistance = distance;
    }
  }
  if (best === '') return '';
  const cased = value === value.toUpperCase() ? best.toUpperCase() : best;
  return ` (did you mean ${cased}?)`;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
