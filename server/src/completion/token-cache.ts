/**
 * Tokenizes a prompt window without re-tokenizing all of it on every keystroke: the window is cut
 * at a line break a few lines above the cursor, and the head's ids are kept per document while
 * the head's text is unchanged (when it only grows by whole lines, only those are encoded). Where
 * a window may be cut depends on the tokenizer's pre-tokenizer, so each tokenizer gets the first
 * rule (SplitRule) under which probes give the same ids for the two parts as for the whole:
 * Qwen2 / Llama 3 regexes keep a line break apart from the next line's indentation (cut after it),
 * GPT-2's groups them (cut before it); SentencePiece with a prepended '▁' passes none, and then
 * the whole window is encoded.
 */
import type { TokenizerLike } from './engine-host.js';
import { DOCUMENT_TEXT } from './prompt-format.js';

/**
 * Where a window may be cut, p being the first character of the tail:
 * - 'after-newline': right after a "\n" whose next line holds a non-space character (so the line
 *   break is not part of a run of blank lines);
 * - 'before-newline': right before a line break ("\n" or "\r\n") that follows a non-space character;
 * - 'line-start': right after a "\n" that a non-space character follows directly.
 */
export type SplitRule = 'after-newline' | 'before-newline' | 'line-start';

/** In the order they are tried: the first two find a cut in indented code, the last only at unindented lines. */
const RULES: SplitRule[] = ['after-newline', 'before-newline', 'line-start'];

const WHITESPACE = /\s/;
const isSpace = (c: string | undefined): boolean => c !== undefined && WHITESPACE.test(c);

/** Whether `rule` allows cutting `text` before index p (0 < p < text.length). */
export function isSplitAt(text: string, p: number, rule: SplitRule): boolean {
  if (p <= 0 || p >= text.length) return false;
  switch (rule) {
    case 'line-start':
      return text[p - 1] === '\n' && !isSpace(text[p]);
    case 'after-newline': {
      if (text[p - 1] !== '\n') return false;
      let i = p;
      while (i < text.length && isSpace(text[i]) && text[i] !== '\n' && text[i] !== '\r') i++;
      return i < text.length && !isSpace(text[i]);
    }
    case 'before-newline':
      return (text[p] === '\n' || (text[p] === '\r' && text[p + 1] === '\n')) && !isSpace(text[p - 1]);
  }
}

/**
 * Code that exercises the rules: indentation after punctuation, letters and digits, blank lines
 * (with and without spaces on them), trailing spaces, tabs, CRLF, comments and strings.
 */
const PROBES = [
  'def f(x):\n    return x\n\ny = f(1)\n  z\n',
  'function g() {\n  const a = [1, 2];\n  if (a) {\n    return a.length;  \n  }\n\n  \n  let s = "hi";\n}\nexport const n = 42\n  + 7;\n',
  'class A:\n\tdef m(self):\n\t\t# note\n\t\tpass\r\n\tx = 3\r\n\r\ny = 4\n',
  '  }\n}\n\n/** doc */\nconst t = `a\n  b`;\nfoo(bar,\n    baz)\n',
  'a = 1;  \n\nb = 2;\t\n\n}\nc  \nd\n',
];

function same(a: Int32Array, b: Int32Array, at: number): boolean {
  for (let i = 0; i < b.length; i++) if (a[at + i] !== b[i]) return false;
  return true;
}

/** Whether encode(head + tail) == encode(head) ++ encode(tail) at every cut `rule` allows in the probes. */
export function splitRuleHolds(tok: TokenizerLike, rule: SplitRule): boolean {
  for (const text of PROBES) {
    const whole = tok.encode(text, DOCUMENT_TEXT);
    for (let p = 1; p < text.length; p++) {
      if (!isSplitAt(text, p, rule)) continue;
      const a = tok.encode(text.slice(0, p), DOCUMENT_TEXT);
      const b = tok.encode(text.slice(p), DOCUMENT_TEXT);
      if (whole.length !== a.length + b.length || !same(whole, a, 0) || !same(whole, b, a.length)) return false;
    }
  }
  return true;
}

/** The first rule under which this tokenizer's windows may be cut, or null (encode whole windows). */
export function lineSplitRule(tok: TokenizerLike): SplitRule | null {
  return RULES.find((r) => splitRuleHolds(tok, r)) ?? null;
}

/**
 * Where to cut `text` under `rule`: the last cut at a line break with at least `keep` lines after
 * it, or 0 (none).
 */
export function splitPoint(text: string, rule: SplitRule, keep = 3): number {
  let pos = text.length;
  for (let lines = 0; lines < keep; lines++) {
    const nl = text.lastIndexOf('\n', pos - 1);
    if (nl < 0) return 0;
    pos = nl;
  }
  for (let nl = pos; nl >= 0; nl = nl > 0 ? text.lastIndexOf('\n', nl - 1) : -1) {
    if (isSplitAt(text, nl + 1, rule)) return nl + 1;
    const before = nl > 0 && text[nl - 1] === '\r' ? nl - 1 : nl;
    if (isSplitAt(text, before, rule)) return before;
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

  constructor(private readonly rule: SplitRule | null) {}

  encode(tok: TokenizerLike, text: string): Int32Array {
    if (!this.rule || text.length < 256) return tok.encode(text, DOCUMENT_TEXT);
    const at = splitPoint(text, this.rule);
    if (at === 0) return tok.encode(text, DOCUMENT_TEXT);
    const head = text.slice(0, at);
    if (head === this.head) this.hits++;
    else if (this.head.length > 0 && head.startsWith(this.head) && isSplitAt(head, this.head.length, this.rule)) {
      // The old head ends at a cut of the new head too, so the new lines encode on their own.
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

/**
 * The ids of the last text encoded, reused while the same text comes again: the suffix window,
 * which typing at the cursor leaves as it is.
 */
export class LastEncoding {
  private text: string | null = null;
  private ids: Int32Array = new Int32Array(0);
  hits = 0;

  encode(tok: TokenizerLike, text: string): Int32Array {
    if (text === this.text) {
      this.hits++;
      return this.ids;
    }
    this.text = text;
    this.ids = tok.encode(text, DOCUMENT_TEXT);
    return this.ids;
  }
}
