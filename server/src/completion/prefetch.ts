/**
 * Prefetch (issue 14): what the document holds once a shown suggestion is accepted, so the provider
 * can compute the next suggestion while the engine is idle (CompletionProvider.prefetch). Accepting an
 * inline completion inserts its text at the cursor in place of `replaceLength` characters after it
 * and puts the cursor at the end of the inserted text; the request that follows is answered from the
 * suggestion cache (cacheHit 'prefetched') when its context is what this predicted.
 */

/**
 * A prefetch starts this long after a suggestion is shown, if no request came meanwhile: a user who
 * keeps typing sends the next keystroke sooner (most keystrokes while typing come 60-200 ms apart),
 * and one who reads the suggestion and accepts it takes longer than this. Without the pause a
 * prefetch started after every keystroke and was ended by the next one
 * (`slipstream bench keystrokes --multi`, docs/performance.md "Prefetch").
 */
export const PREFETCH_AFTER_MS = 120;

export interface Accepted {
  text: string;
  /** UTF-16 offset of the cursor after the accept. */
  offset: number;
}

/** The document and cursor after accepting `suggestion` shown at `offset` over `replaceLength` characters. */
export function afterAcceptance(text: string, offset: number, suggestion: string, replaceLength: number): Accepted {
  return { text: text.slice(0, offset) + suggestion + text.slice(offset + replaceLength), offset: offset + suggestion.length };
}
