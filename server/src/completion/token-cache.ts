/**
 * Tokenizes a prompt window without re-tokenizing all of it on every keystroke: the window is
 * split after a newline that is followed by a non-space character a few lines above the cursor,
 * and the head's ids are kept per document while the head's text is unchanged (when it only grows
 * by whole lines, only those are encoded). Splitting is only
 * used when a probe shows the tokenizer gives the same ids for the two parts as for the whole
 * (true for byte-level BPE with a Qwen/GPT-style pre-tokenizer; false for SentencePiece with a
 * prepended '▁', which then falls back to encoding the whole window).
 */
import type { TokenizerLike } from './engine-host.js';
import { DOCUMENT_TEXT } from './prompt-format.js';

const PROBES: [string, string][] = [
  ['def f(x):\n    return x\n', 'y = f(1)\n  z'],
  ['function g() {\n  const a = [1, 2];\n', '}\nlet s = "hi";'],
];

/** Whether encode(head + tail) == encode(head) ++ encode(tail) for heads ending in "\n" before a non-space. */
export function canSplitAtLines(tok: TokenizerLike): boolean {
  for (const [head, tail] of PROBES) {
    const whole = tok.encode(head + tail, DOCUMENT_TEXT);
    const a = tok.encode(head, DOCUMENT_TEXT);
    const b = tok.encode(tail, DOCUMENT_TEXT);
    if (whole.length !== a.length + b.length) return false;
    for (let i = 0; i < a.length; i++) if (whole[i] !== a[i]) return false;
    for (let i = 0; i < b.length; i++) if (whole[a.length + i] !== b[i]) return false;
  }
  return true;
}

/** Where to split `text`: after the last "\n" followed by a non-space char that leaves ≥ `keep` lines in the tail. */
export function splitPoint(text: string, keep = 3): number {
  let pos = text.length;
  for (let lines = 0; lines < keep; lines++) {
    const nl = text.lastIndexOf('\n', pos - 1);
    if (nl < 0) return 0;
    pos = nl;
  }
  for (let nl = pos; nl >= 0; nl = text.lastIndexOf('\n', nl - 1)) {
    const next = text.charCodeAt(nl + 1);
    if (nl + 1 < text.length && next !== 32 && next !== 9 && next !== 10 && next !== 13) return nl + 1;
    if (nl === 0) break;
  }
  return 0;
}

export class TokenCache {
  private head = '';
  private headIds: Int32Array = new Int32Array(0);
  hits = 0;
  /** Head grew by whole lines (a newline was typed): only the new lines were encoded. */
  extensions = 0;
  misses = 0;

  constructor(private readonly splittable: boolean) {}

  encode(tok: TokenizerLike, text: string): Int32Array {
    if (!this.splittable || text.length < 256) return tok.encode(text, DOCUMENT_TEXT);
    const at = splitPoint(text);
    if (at === 0) return tok.encode(text, DOCUMENT_TEXT);
    const head = text.slice(0, at);
    if (head === this.head) this.hits++;
    else if (this.head.length > 0 && head.startsWith(this.head)) {
      // The old head ended at a split point too, so the new lines encode on their own.
      this.extensions++;
      const more = tok.encode(head.slice(this.head.length), DOCUMENT_TEXT);
      const ids = new Int32Array(this.headIds.length + more.length);
      ids.set(this.headIds, 0);
      ids.set(more, this.headIds.length);
      this.head = head;
      this.headIds = ids;
    } else {
      this.misses++;
      this.head = head;
      this.headIds = tok.encode(head, DOCUMENT_TEXT);
    }
    const tail = tok.encode(text.slice(at), DOCUMENT_TEXT);
    const out = new Int32Array(this.headIds.length + tail.length);
    out.set(this.headIds, 0);
    out.set(tail, this.headIds.length);
    return out;
  }
}
