/**
 * Fewer, surer automatic suggestions (completion.minTokenProbability): the engine reports each
 * token's probability (the model's own, at temperature 1: native/lib GenerateOptions.logprobs), a
 * suggestion ends before the first token below the bound, and one cut inside its first line so
 * short that the line has fewer than UNSURE_MIN_CHARS characters is not shown at all. Automatic requests only:
 * asking explicitly gets the whole suggestion. The trade-off, measured on the shipped model
 * (docs/performance.md, "Fewer, surer suggestions"): higher bounds show fewer suggestions, each
 * more often right, and leave fewer characters to accept in part; at the default 0.1 a third
 * fewer suggestions show, twice as many of them right, as many right in all.
 */

/** A suggestion cut inside its first line is shown only with at least this many characters on it. */
export const UNSURE_MIN_CHARS = 6;

/** Index of the first log-probability below log(minProbability), or -1 (none, or the bound is 0). */
export function firstUnsure(logprobs: ArrayLike<number>, minProbability: number): number {
  if (!(minProbability > 0)) return -1;
  const bound = Math.log(minProbability);
  for (let i = 0; i < logprobs.length; i++) if (logprobs[i]! < bound) return i;
  return -1;
}

/**
 * Whether a suggestion cut before an unsure token is worth showing: its first line is whole (the
 * cut came after its line break), or has UNSURE_MIN_CHARS characters (blanks aside). `raw`: the
 * generated text, before post-processing trims a trailing line break.
 */
export function worthShowingCut(raw: string): boolean {
  return raw.includes('\n') || raw.trim().length >= UNSURE_MIN_CHARS;
}
