/**
 * Chi-square goodness of fit for the sampling tests (exact distributions vs empirical counts):
 * the statistic with sparse cells pooled, and the 0.001 critical value. Token ids are the cells.
 */

/** Upper 0.001 critical value of chi-square with df degrees of freedom (Wilson-Hilferty). */
export function chi2Critical001(df: number): number {
  const z = 3.090232;
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/** Chi-square statistic and degrees of freedom, pooling cells whose expected count is below 5. */
export function chiSquare(observed: Map<number, number>, expected: Map<number, number>, n: number): { stat: number; df: number } {
  let stat = 0;
  let cells = 0;
  let poolO = 0;
  let poolE = 0;
  for (const [k, p] of expected) {
    const e = p * n;
    const o = observed.get(k) ?? 0;
    if (e < 5) {
      poolO += o;
      poolE += e;
      continue;
    }
    stat += (o - e) ** 2 / e;
    cells++;
  }
  for (const [k, o] of observed) if (!expected.has(k)) poolO += o;  // impossible tokens land in the pool
  if (poolE > 0 || poolO > 0) {
    stat += poolE > 0 ? (poolO - poolE) ** 2 / poolE : Infinity;
    cells++;
  }
  return { stat, df: cells - 1 };
}
