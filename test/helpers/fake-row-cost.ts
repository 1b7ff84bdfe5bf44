/**
 * FAKE row-cost checks for NativeEngineHost (server/src/completion/row-cost.ts): a check that reads
 * `ratio` for any rows, so a test on the shipped model (whose rows cost nearly what separate steps
 * do) can run drafts without a drafter as on a model bound by reading its weights (ratio 1.1-1.3).
 */
import type { RowCost } from '../../server/src/completion/row-cost.js';

export function fakeRowCost(ratio: number): (model: unknown, rows: number) => Promise<RowCost> {
  return async (_model, rows) => ({ rows, context: 256, oneMs: 10, manyMs: 10 * ratio, ratio, ms: 0, measuredAt: new Date().toISOString(), source: 'measured' });
}
