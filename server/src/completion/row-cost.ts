/**
 * Whether drafts verified without a drafter (prompt lookup's, engine.promptLookup; a diverged
 * suggestion's rest) pay for this model on this machine: a draft of k tokens is verified in one
 * forward of 1 + k rows, which costs about one row where the
 * forward is bound by reading the weights (a 0.5B model on a CPU: 5 rows 1.1-1.4x one row) and
 * more where it is bound by arithmetic (the shipped 5.5M model, whose weights stay in cache: 5
 * rows 1.4-1.5x one row on an AVX-512 CPU, up to 2.2x on older kernels). At load the host times a forward of one row and one of 1 + k rows after a
 * context, alternating, the fastest of each kept, and turns lookup off where their ratio
 * exceeds LOOKUP_MAX_ROW_COST (docs/configuration.md, "Prompt lookup"; docs/performance.md,
 * "Lookup drafts"). 55-65 ms on the shipped model, 0.16-0.19 s at 0.5B q8_0 (bench/row-cost.ts prints it);
 * kept across starts beside mode auto's calibrations (calibration-store.ts).
 */
import type { Model } from '../../../native/lib/index.js';
import { mulberry32 } from '../mulberry32.js';

/**
 * The most a forward of 1 + k rows may cost, in single-row forwards, for prompt lookup to be on.
 * On the shipped model lookup measured 1.04-1.09x plain decoding over 48-token suggestions where 5
 * rows cost 1.7-1.85x one row (its bf16 attention on the generic kernel), and 1.15x where they cost
 * 1.4-1.5x (on the AVX-512 tile kernel); priced at the 0.5B shape's row costs (5 rows 1.1-1.4x)
 * the same steps come to 1.31x (docs/performance.md, "Lookup drafts", "Prompt lookup's bound
 * after the tile attention"). Every ratio measured so far paid; the bound keeps a margin below
 * where the gain would reach zero (~2x by those figures).
 */
export const LOOKUP_MAX_ROW_COST = 1.75;
/**
 * Context before the timed forwards: every row attends to it, as a request's rows attend to its
 * prompt, which makes the arithmetic of many rows dearer (the shipped model's 5 rows with its
 * attention on the generic kernel: 1.45-1.62x one row after 32 tokens, 1.71-1.77x after 256). Prefilled FIRST_CHUNK tokens, then
 * CONTEXT_CHUNK at a time, while the prefill so far took under PREFILL_BUDGET_MS, up to
 * CONTEXT_TOKENS: the shipped model reaches CONTEXT_TOKENS in 14-22 ms; a big model (whose
 * forwards are bound by reading the weights whatever the context) stops after a chunk or two, the
 * first one short so that a 7B one spends little on it. (An estimate from the first chunk's pace
 * instead read the first call's stalls and a busy machine's as a big model: 1.2-2.3 ms for 8
 * tokens of the shipped model against the 1.9 ms that reaching 256 allowed.)
 */
const FIRST_CHUNK = 8;
const CONTEXT_CHUNK = 32;
const CONTEXT_TOKENS = 256;
const PREFILL_BUDGET_MS = 60;
/**
 * Alternations of the two forwards, the fastest of each counting: at least MIN_ROUNDS, more while
 * they take under BUDGET_MS in all (a small model's forwards take a tenth of a millisecond, and
 * a few of them say little on a busy machine), at most MAX_ROUNDS. A big model's forwards (tens
 * to hundreds of ms, bound by the weights' stream) run MIN_ROUNDS times: its ratio sits far below
 * the bound.
 */
const MIN_ROUNDS = 2;
const MAX_ROUNDS = 64;
const BUDGET_MS = 40;

export interface RowCost {
  /** Rows of the many-row forward (1 + prompt lookup's draft tokens). */
  rows: number;
  /** Tokens before them. */
  context: number;
  /** Fastest single-row and many-row forward, ms. */
  oneMs: number;
  manyMs: number;
  /** manyMs / oneMs. */
  ratio: number;
  /** The whole measurement, prefill included, ms. */
  ms: number;
  /** When it was measured (ISO 8601). */
  measuredAt: string;
  /** 'measured' at this start, or 'cache': kept from an earlier start (calibration-store.ts). */
  source: 'measured' | 'cache';
}

/** Times forwards of 1 and `rows` rows on a session of its own (disposed after). */
export async function measureRowCost(model: Model, rows: number): Promise<RowCost> {
  const started = performance.now();
  // a model with a short context (tests' tiny ones) gets a shorter one here
  const contextCap = Math.max(1, Math.min(CONTEXT_TOKENS, model.info.maxPositionEmbeddings - rows - 1));
  const session = model.createSession({ maxContext: contextCap + rows + 1 });
  try {
    const next = mulberry32(20261207);
    const ids = (n: number): Int32Array => Int32Array.from({ length: n }, () => Math.floor(next() * model.info.vocabSize));
    while (session.length < contextCap && performance.now() - started < PREFILL_BUDGET_MS) {
      await session.forward(ids(Math.min(session.length === 0 ? FIRST_CHUNK : CONTEXT_CHUNK, contextCap - session.length)));
    }
    const context = session.length;
    let oneMs = Infinity;
    let manyMs = Infinity;
    const time = async (n: number): Promise<number> => {
      const t0 = performance.now();
      await session.forward(ids(n));
      const ms = performance.now() - t0;
      session.truncate(context);
      return ms;
    };
    await time(1);  // warm-up: each path's first call
    await time(rows);
    const t0 = performance.now();
    for (let r = 0; r < MAX_ROUNDS && (r < MIN_ROUNDS || performance.now() - t0 < BUDGET_MS); r++) {
      oneMs = Math.min(oneMs, await time(1));
      manyMs = Math.min(manyMs, await time(rows));
    }
    return { rows, context, oneMs, manyMs, ratio: manyMs / oneMs, ms: performance.now() - started, measuredAt: new Date().toISOString(), source: 'measured' };
  } finally {
    session.dispose();
  }
}

/** Whether the measured cost lets lookup drafts pay. */
export function lookupPays(cost: RowCost): boolean {
  return cost.ratio <= LOOKUP_MAX_ROW_COST;
}

/** What status and the log say about a measurement. */
export function rowCostReason(cost: RowCost): string {
  const verdict = lookupPays(cost) ? `at most ${LOOKUP_MAX_ROW_COST}x: on` : `over ${LOOKUP_MAX_ROW_COST}x: off`;
  const kept = cost.source === 'cache' ? `, measured by an earlier start on ${cost.measuredAt.slice(0, 10)}` : '';
  return `a forward of ${cost.rows} rows costs ${cost.ratio.toFixed(2)}x one row (${cost.manyMs.toFixed(2)} / ${cost.oneMs.toFixed(2)} ms after ${cost.context} tokens${kept}), ${verdict}`;
}
