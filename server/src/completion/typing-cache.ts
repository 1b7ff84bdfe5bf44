/**
 * Typing-through: when the user types exactly what the last suggestion for a document
 * predicted, the rest of that suggestion is the answer, with no debounce and no engine call
 * (Tabby's forwarding, Copilot's TypingAsSuggested). One entry per document; the suggestion
 * cache issue generalises it.
 */

interface Entry {
  offset: number;
  /** Up to CONTEXT chars before and after the cursor when the suggestion was made. */
  before: string;
  after: string;
  text: string;
  replaceLength: number;
}

const CONTEXT = 256;

export class TypingCache {
  private readonly entries = new Map<string, Entry>();
  hits = 0;
  misses = 0;

  remember(key: string, text: string, offset: number, suggestion: string, replaceLength: number): void {
    this.entries.set(key, {
      offset,
      before: text.slice(Math.max(0, offset - CONTEXT), offset),
      after: text.slice(offset, offset + CONTEXT),
      text: suggestion,
      replaceLength,
    });
  }

  /** The rest of the remembered suggestion if `text` at `offset` typed through it, else undefined. */
  lookup(key: string, text: string, offset: number): { text: string; replaceLength: number } | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    const typed = offset >= e.offset ? text.slice(e.offset, offset) : undefined;
    const hit =
      typed !== undefined &&
      typed.length < e.text.length &&
      e.text.startsWith(typed) &&
      text.slice(Math.max(0, e.offset - CONTEXT), e.offset) === e.before &&
      text.slice(offset, offset + e.after.length) === e.after;
    if (!hit) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return { text: e.text.slice(typed.length), replaceLength: e.replaceLength };
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}
