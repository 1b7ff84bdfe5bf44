/**
 * Alternatives for an explicitly invoked completion (completion.alternatives): after the usual
 * suggestion, up to N - 1 more, each a full request of its own through the provider (trigger
 * 'alternative': the same prompt, post-processing and session, so its prefill is mostly the KV
 * the first one left) sampled at ALTERNATIVE_TEMPERATURE with seed 1, 2, ... so the same document
 * and cursor give the same list on every start: alternatives always run plain decoding (ReDrafter's
 * exact sampling draws other samples for a seed, and mode auto may choose it). Only suggestions that differ
 * from every one before are kept.
 * On an engine that decodes branches together (the native one: EngineHost.decodesTogether) they
 * are branches of one generation with the first suggestion (branch-batch.ts: invokedSeats), one
 * forward per step for all of them, each exactly the sample it would be alone; they take their seats
 * once the first is known and read what their branches produced meanwhile. On other engines (a
 * remote one) they are computed one after another once the first is ready (at once, llama-server
 * spread them over slots that prefilled the prompt again: docs/performance.md). They run under one hold
 * of the document (provider.holdDocument) and stop at once when the request is cancelled, the
 * document changes or another request of the document arrives (none starts when one is in flight).
 * An editor cycles through them (VS Code: Alt+] and Alt+[).
 */
import type { BranchBatch, SeatSampling } from './branch-batch.js';
import type { CompletionProvider, CompletionRequest, CompletionResult } from './provider.js';

/** Hot enough to leave the greedy path often, cool enough to stay plausible code. */
export const ALTERNATIVE_TEMPERATURE = 0.8;

/**
 * The seats of an invoked request's batch: 0 the first suggestion (the request's temperature, the
 * engine's default seed 0), then alternative i with seed i.
 */
export function invokedSeats(firstTemperature: number, count: number): SeatSampling[] {
  return [{ temperature: firstTemperature, seed: 0 }, ...Array.from({ length: count - 1 }, (_, i) => ({ temperature: ALTERNATIVE_TEMPERATURE, seed: i + 1 }))];
}

type Shown = Extract<CompletionResult, { outcome: 'shown' | 'cached' }>;

/**
 * The results after `first` (a shown or cached result of `req`) for up to `count` suggestions in
 * all: each shown, with a text unlike the first's and each other's. `batch`: the request's batch
 * (invokedSeats), whose seats 1..count - 1 are the alternatives'; null: one after another.
 */
export async function alternativesFor(provider: CompletionProvider, req: CompletionRequest, first: Shown, count: number, batch: BranchBatch | null): Promise<Shown[]> {
  const seeds = Array.from({ length: count - 1 }, (_, i) => i + 1);
  const hold = req.signal.aborted ? null : provider.holdDocument(req.key);
  if (!hold) {
    for (const seed of seeds) batch?.absent(seed);
    return [];
  }
  try {
    // its own trace starts now (not at the invoked request's receipt) and carries no client fields
    const ask = (seed: number, seat?: CompletionRequest['batch']): Promise<CompletionResult> =>
      provider.complete({ ...req, trigger: 'alternative', temperature: ALTERNATIVE_TEMPERATURE, seed, held: hold.signal, clientTrace: undefined, receivedAt: undefined, ...(seat ? { batch: seat } : {}) });
    const results = batch
      ? await Promise.all(seeds.map((seed) => ask(seed, { batch, index: seed }).finally(() => batch.absent(seed))))
      : await oneAfterAnother(seeds, ask, () => hold.signal.aborted || (req.currentVersion !== undefined && req.currentVersion() !== req.version));
    const seen = new Set([first.item.text]);
    const out: Shown[] = [];
    for (const r of results) {
      if ((r.outcome === 'shown' || r.outcome === 'cached') && !seen.has(r.item.text)) {
        seen.add(r.item.text);
        out.push(r);
      }
    }
    return out;
  } finally {
    provider.releaseDocument(req.key, hold);
  }
}

/** Each seed's result in turn, up to the first that was superseded, cancelled or stale, or until `stop`. */
async function oneAfterAnother(seeds: number[], ask: (seed: number) => Promise<CompletionResult>, stop: () => boolean): Promise<CompletionResult[]> {
  const results: CompletionResult[] = [];
  for (const seed of seeds) {
    if (stop()) break;
    const r = await ask(seed);
    results.push(r);
    if (r.outcome === 'superseded' || r.outcome === 'cancelled' || r.outcome === 'stale') break;
  }
  return results;
}
