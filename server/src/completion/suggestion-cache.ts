/**
 * The suggestion cache (issue 14): the suggestions shown, for many positions and documents, in one
 * size-bounded LRU (lru-cache), keyed by document and the text before the cursor. Each entry holds
 * the suggestion and its context (the text before the cursor and after it, the latter cut at its
 * last line end so an edit further down does not change it). Two uses:
 *   - typing through: the user typed a prefix of a remembered suggestion at its position, so the
 *     rest of it is the answer, with no engine call (Tabby's forwarding, Copilot's TypingAsSuggested);
 *   - diverging: the user typed something else there, so the old suggestion's remainder, re-aligned
 *     to the new text (drafts()), goes to the engine as extra drafts the engine verifies exactly.
 * A prefetch (prefetch.ts) remembers the suggestion that follows a shown one's acceptance the same way.
 * Evicting or forgetting an entry calls `dispose`, which drops it from its document's index (an
 * entry pins no engine memory: the engine keeps one KV per document session, native-engine-host.ts).
 */
import { LRUCache } from 'lru-cache';

/** Characters of context kept before and after the cursor. */
const CONTEXT = 256;
/** Entries kept in all (every document). */
export const DEFAULT_ENTRIES = 256;
/** Distinct drafts one divergence offers at most. */
const MAX_DRAFTS = 3;

export interface CachedSuggestion {
  doc: string;
  /** UTF-16 offset of the cursor the suggestion was made for. */
  offset: number;
  /** Up to CONTEXT chars before the cursor, and after it (cut at a line end: stabilised). */
  before: string;
  after: string;
  /** The suggestion as shown (the document's line endings). */
  text: string;
  replaceLength: number;
  /** Computed ahead by a prefetch (prefetch.ts), not yet shown. */
  prefetched: boolean;
  /**
   * Cut short: before a token the model was unsure of (confidence.ts), or where the time budget
   * ended (time-budget.ts). An explicitly invoked request computes the whole one.
   */
  cut: boolean;
}

export interface TypingHit {
  entry: CachedSuggestion;
  /** The rest of the suggestion after what was typed. */
  text: string;
  replaceLength: number;
}

/** The text after the cursor as an entry keeps it: up to CONTEXT chars, cut after its last line end when it has one. */
export function stableAfter(text: string, offset: number): string {
  const window = text.slice(offset, offset + CONTEXT);
  if (offset + CONTEXT >= text.length) return window;
  const nl = window.lastIndexOf('\n');
  return nl >= 0 ? window.slice(0, nl + 1) : window;
}

export class SuggestionCache {
  private readonly lru: LRUCache<string, CachedSuggestion>;
  /** Keys of each document's entries (most recent last). */
  private readonly byDoc = new Map<string, Set<string>>();
  hits = 0;
  misses = 0;
  /** Entries disposed (evicted, replaced or forgotten). */
  disposed = 0;

  constructor(max = DEFAULT_ENTRIES) {
    this.lru = new LRUCache<string, CachedSuggestion>({
      max,
      dispose: (entry, key) => {
        this.disposed++;
        const keys = this.byDoc.get(entry.doc);
        keys?.delete(key);
        if (keys?.size === 0) this.byDoc.delete(entry.doc);
      },
    });
  }

  get size(): number {
    return this.lru.size;
  }

  /** Remembers a suggestion shown (or, `prefetched`, computed ahead) for `text` at `offset`. */
  remember(doc: string, text: string, offset: number, suggestion: string, replaceLength: number, prefetched = false, cut = false): void {
    if (suggestion === '') return;
    const before = text.slice(Math.max(0, offset - CONTEXT), offset);
    const key = `${doc}\u0000${offset}\u0000${before}`;
    const entry: CachedSuggestion = { doc, offset, before, after: stableAfter(text, offset), text: suggestion, replaceLength, prefetched, cut };
    this.lru.set(key, entry);
    let keys = this.byDoc.get(doc);
    if (!keys) this.byDoc.set(doc, (keys = new Set()));
    keys.delete(key);
    keys.add(key);
  }

  /** The document's entries whose context still holds in `text`, most recently used first. */
  private *matching(doc: string, text: string, offset: number): Generator<{ entry: CachedSuggestion; key: string; typed: string }> {
    const keys = this.byDoc.get(doc);
    if (!keys) return;
    for (const key of [...keys].reverse()) {
      const e = this.lru.peek(key);
      if (!e || offset < e.offset) continue;
      const typedLength = offset - e.offset;
      // the text typed at the entry's cursor is all that changed: the context before and after matches
      if (text.length < e.offset + typedLength + e.after.length) continue;
      if (text.slice(Math.max(0, e.offset - CONTEXT), e.offset) !== e.before) continue;
      if (text.slice(offset, offset + e.after.length) !== e.after) continue;
      yield { entry: e, key, typed: text.slice(e.offset, offset) };
    }
  }

  /** The rest of a remembered suggestion if `text` at `offset` typed through it (a prefix of it, not all). */
  lookup(doc: string, text: string, offset: number): TypingHit | undefined {
    for (const { entry, key, typed } of this.matching(doc, text, offset)) {
      if (typed.length < entry.text.length && entry.text.startsWith(typed)) {
        this.lru.get(key); // most recently used
        this.hits++;
        return { entry, text: entry.text.slice(typed.length), replaceLength: entry.replaceLength };
      }
    }
    this.misses++;
    return undefined;
  }

  /** What lookup would answer for `text` at `offset`, without changing figures or recency. */
  peek(doc: string, text: string, offset: number): TypingHit | undefined {
    for (const { entry, typed } of this.matching(doc, text, offset)) {
      if (typed.length < entry.text.length && entry.text.startsWith(typed)) return { entry, text: entry.text.slice(typed.length), replaceLength: entry.replaceLength };
    }
    return undefined;
  }

  /** Whether a remembered suggestion answers a request for `text` at `offset` (no figures change). */
  covers(doc: string, text: string, offset: number): boolean {
    return this.peek(doc, text, offset) !== undefined;
  }

  /**
   * Candidate continuations of `text` at `offset` from a remembered suggestion the user diverged
   * from there (drafts(): re-aligned remainders); empty when there is none.
   */
  divergedDrafts(doc: string, text: string, offset: number): string[] {
    for (const { entry, typed } of this.matching(doc, text, offset)) {
      if (typed.length === 0 || entry.text.startsWith(typed)) continue;
      const d = drafts(entry.text, typed);
      if (d.length > 0) return d;
    }
    return [];
  }

  forget(doc: string): void {
    for (const key of [...(this.byDoc.get(doc) ?? [])]) this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }
}

/**
 * The old suggestion's remainder re-aligned to what the user typed instead: `typed` agrees with
 * `suggestion` for `i` characters, then differs. Candidates, most likely first, distinct, non-empty:
 *   - a replaced word: the suggestion after the word it was in at the divergence, when the user
 *     typed past a word (e.g. `foo(bar, baz)` typed as `foo(qux,` gives ` baz)`), else after the rest
 *     of that word (the user is still typing their own word);
 *   - a substitution: the suggestion after as many characters as the user typed;
 *   - an insertion: the suggestion from the divergence on (the user added characters).
 */
export function drafts(suggestion: string, typed: string): string[] {
  let i = 0;
  while (i < typed.length && i < suggestion.length && typed[i] === suggestion[i]) i++;
  const mine = typed.slice(i); // what the user typed instead, from the divergence
  const out: string[] = [];
  const add = (s: string | undefined): void => {
    if (s && !out.includes(s) && out.length < MAX_DRAFTS) out.push(s);
  };
  const wordEnd = (s: string, from: number): number => {
    let j = from;
    while (j < s.length && /[\p{L}\p{N}_$]/u.test(s[j]!)) j++;
    return j;
  };
  // the user's own word ended at the first non-word character they typed
  const mineWord = wordEnd(mine, 0);
  const afterWord = suggestion.slice(wordEnd(suggestion, i));
  if (mineWord < mine.length) {
    // they typed past their word: align what followed it with what followed the suggestion's word
    const rest = mine.slice(mineWord);
    if (afterWord.startsWith(rest)) add(afterWord.slice(rest.length));
  } else {
    add(afterWord);
  }
  add(suggestion.slice(i + mine.length));
  add(suggestion.slice(i));
  return out;
}
