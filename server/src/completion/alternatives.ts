/**
 * Alternatives for an explicitly invoked completion (completion.alternatives): after the usual
 * suggestion, up to N - 1 more, each a full request of its own through the provider (trigger
 * 'alternative': the same prompt, post-processing and session, so its prefill is mostly the KV
 * the first one left) sampled at ALTERNATIVE_TEMPERATURE with seed 1, 2, ... so the same document
 * and cursor give the same list on every start: alternatives always run plain decoding (ReDrafter's
 * exact sampling draws other samples for a seed, and mode auto may choose it). Only suggestions that differ
 * from every one before are kept.
 * On an engine that decodes branches together (the native one: EngineHost.decodesTogether) they
 * are decoded side by side, one forward per step for all of them (branch-batch.ts), each exactly the
 * sample it would be alone; on others (a remote engine) one after another. They run under one hold
 * of the document (provider.holdDocument) and stop at once when the request is cancelled, the
 * document changes or another request of the document arrives (none starts when one is in flight).
 * An editor cycles through them (VS Code: Alt+] and Alt+[).
 */
import type { CompletionProvider, CompletionRequest, CompletionResult } from './provider.js';

/** Hot enough to leave the greedy path often, cool enough to stay plausible code. */
export const ALTERNATIVE_TEMPERATURE = 0.8;

type Shown = Extract<CompletionResult, { outcome: 'shown' | 'cached' }>;

/**
 * The results after `first` (a shown or cached result of `req`) for up to `count` suggestions in
 * all: each shown, with a text unlike the first's and each other's.
 */
export async function alternativesFor(provider: CompletionProvider, req: CompletionRequest, first: Shown, count: number): Promise<Shown[]> {
  if (count < 2 || req.signal.aborted) return [];
  const hold = provider.holdDocument(req.key);
  if (!hold) return [];
  try {
    const seeds = Array.from({ length: count - 1 }, (_, i) => i + 1);
    // its own trace starts now (not at the invoked request's receipt) and carries no client fields
    const ask = (seed: number, batch?: CompletionRequest['batch']): Promise<CompletionResult> =>
      provider.complete({ ...req, trigger: 'alternative', temperature: ALTERNATIVE_TEMPERATURE, seed, held: hold.signal, clientTrace: undefined, receivedAt: undefined, ...(batch ? { batch } : {}) });
    const batch = provider.branchBatch(seeds.length);
    const results = batch
      ? await Promise.all(seeds.map((seed, index) => ask(seed, { batch, index }).finally(() => batch.absent(index))))
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
