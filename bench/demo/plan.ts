/**
 * The demo's typing plan, pure: where an editor would ask for a suggestion while the file is
 * typed (token-ish boundaries: where a word starts or ends, after a newline), and how much of a
 * suggestion a user would accept given what they were about to type.
 */

const WORD = /[A-Za-z0-9_$]/;

/** Offsets in `text` where a request is made: word/non-word boundaries outside indentation. */
export function requestPoints(text: string): number[] {
  const points: number[] = [];
  let lineStart = 0;
  for (let i = 1; i <= text.length; i++) {
    const prev = text[i - 1]!;
    if (prev === '\n') lineStart = i;
    const inIndent = text.slice(lineStart, i).trim() === '' && i !== lineStart;
    if (inIndent) continue;
    const cur = text[i] ?? '\n';
    const boundary = prev === '\n' || WORD.test(prev) !== WORD.test(cur) || prev === '(' || prev === '.';
    if (boundary && cur !== '\n') points.push(i);
  }
  return points;
}

/** Keeps about `n` of the points, evenly spread. */
export function thin(points: number[], n: number): number[] {
  if (n >= points.length) return points;
  if (n <= 0) return [];
  const out: number[] = [];
  const step = points.length / n;
  for (let k = 0; k < n; k++) out.push(points[Math.floor(k * step)]!);
  return out;
}

export type Acceptance = { kind: 'full'; length: number } | { kind: 'partial'; length: number } | { kind: 'none' };

/**
 * How much of `suggestion` a user typing `upcoming` accepts: all of it when it is exactly what
 * comes next; else the longest prefix that ends at a word end and is at least 3 characters.
 */
export function acceptance(suggestion: string, upcoming: string): Acceptance {
  if (suggestion.length === 0) return { kind: 'none' };
  if (upcoming.startsWith(suggestion)) return { kind: 'full', length: suggestion.length };
  let n = 0;
  while (n < suggestion.length && n < upcoming.length && suggestion[n] === upcoming[n]) n++;
  // Back off to the end of a word (or punctuation run) so a partial accept is a whole token.
  while (n > 0 && WORD.test(suggestion[n - 1]!) && n < suggestion.length && WORD.test(suggestion[n]!)) n--;
  return n >= 3 ? { kind: 'partial', length: n } : { kind: 'none' };
}
