/**
 * Alternatives for an explicitly invoked completion (completion.alternatives): after the usual
 * suggestion, up to N - 1 more, each a full request of its own through the provider (trigger
 * 'alternative': the same prompt, post-processing and session, so its prefill is mostly the KV
 * the first one left) sampled at ALTERNATIVE_TEMPERATURE with seed 1, 2, ... so the same document
 * and cursor give the same list on every start: alternatives always run plain decoding (ReDrafter's
 * exact sampling draws other samples for a seed, and mode auto may choose it). Only suggestions that differ
 * from every one before are kept.
 * They are computed one after another and stop at once when the request is cancelled, the
 * document changes or another request of the document arrives (the provider then refuses to
 * start one). An editor cycles through them (VS Code: Alt+] and Alt+[).
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
  const seen = new Set([first.item.text]);
  const out: Shown[] = [];
  for (let seed = 1; seed < count && !req.signal.aborted; seed++) {
    if (req.currentVersion && req.currentVersion() !== req.version) break;
    // its own trace starts now (not at the invoked request's receipt) and carries no client fields
    const r = await provider.complete({ ...req, trigger: 'alternative', temperature: ALTERNATIVE_TEMPERATURE, seed, clientTrace: undefined, receivedAt: undefined });
    if (r.outcome === 'superseded' || r.outcome === 'cancelled' || r.outcome === 'stale') break;
    if ((r.outcome === 'shown' || r.outcome === 'cached') && !seen.has(r.item.text)) {
      seen.add(r.item.text);
      out.push(r);
    }
  }
  return out;
}
