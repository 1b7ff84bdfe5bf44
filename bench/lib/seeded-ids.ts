/**
 * Seeded token ids for benchmark prompts (mulberry32), so every run of a benchmark feeds the
 * engine the same prompt.
 */
import { mulberry32 } from '../../server/src/mulberry32.js';

/** n token ids drawn uniformly from [lo, hi) by a mulberry32 generator seeded with `seed`. */
export function seededIds(n: number, lo: number, hi: number, seed: number): Int32Array {
  const next = mulberry32(seed);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + Math.floor(next() * (hi - lo));
  return out;
}
