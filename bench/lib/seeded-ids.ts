/**
 * Seeded token ids for benchmark prompts (mulberry32), so every run of a benchmark feeds the
 * engine the same prompt.
 */

/** n token ids drawn uniformly from [lo, hi) by a mulberry32 generator seeded with `seed`. */
export function seededIds(n: number, lo: number, hi: number, seed: number): Int32Array {
  let a = seed >>> 0;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo));
  }
  return out;
}
