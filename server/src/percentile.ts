/**
 * The one percentile definition of the project: `slipstream/status` (completion/traces.ts), the
 * benchmarks and the demo all report with it, so the same latencies give the same p50 everywhere.
 * Nearest rank: the p-th percentile of n values is the ceil(p/100 * n)-th smallest (1-based),
 * clamped to [1, n]; p = 0 gives the minimum and p = 100 the maximum. No interpolation.
 */

/** The p-th percentile (nearest rank, 0 <= p <= 100) of `values`, or null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  return percentileOfSorted([...values].sort((a, b) => a - b), p);
}

/** The same for values already sorted ascending (no copy). */
export function percentileOfSorted(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
