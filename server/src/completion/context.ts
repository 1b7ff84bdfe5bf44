/**
 * Builds the prompt for one request: the prefix and suffix windows around the cursor cut to a
 * token budget, in the model's own format (prompt-format.ts), plus snippets from other open
 * documents of the same language when budget remains (FIM models only). The prefix window's
 * start is kept per document while it fits, so consecutive keystrokes share a token prefix and
 * the engine reuses its KV cache. In PSM order the lines being typed go at the start of the middle
 * (after the suffix) rather than at the end of the prefix (Budget.psmTypedLines, docs/protocol.md
 * "Context"): typing at the cursor then only appends to the prompt, as in SPM order, instead of
 * moving the whole suffix.
 */
import type { TokenizerLike } from './engine-host.js';
import { DOCUMENT_TEXT, type PromptFormat } from './prompt-format.js';
import { snippetAsComment, type Snippet } from './snippets.js';
import { isSplitAt, LastEncoding, splitPoint, TokenCache, type SplitRule } from './token-cache.js';

export interface Budget {
  /** Prompt tokens at most (before clamping to the model's context). */
  contextTokens: number;
  suffixShare: number;
  maxTokens: number;
  maxContext: number;
  /**
   * PSM order only: where the lines being typed go. 'middle': from a line break at most
   * TYPED_LINES_MAX_CHARS before the cursor (kept while typing goes on), after <fim_middle> as the
   * middle's start, so the suffix stays in place as the cursor moves on; 'prefix' (the default
   * here): at the end of the prefix, the standard layout.
   */
  psmTypedLines?: 'middle' | 'prefix';
}

/** The typed lines of a PSM prompt (psmTypedLines 'middle') span at most this many characters; past it they start again at a later line. */
export const TYPED_LINES_MAX_CHARS = 1024;

/** Per-document state that makes consecutive prompts share a prefix, and their tokenization work. */
export class PromptState {
  anchor = -1;
  /** Where the typed lines of a PSM prompt begin (a document offset; psmTypedLines 'middle'), -1: not yet. */
  typedFrom = -1;
  charsPerToken = 3;
  /** The prefix window's head ids. */
  readonly cache: TokenCache;
  /** The suffix window's ids (typing at the cursor leaves its text as it is). */
  readonly suffix = new LastEncoding();
  /** The typed lines' ids. */
  readonly typed = new LastEncoding();
  /** rule: where the tokenizer's windows may be cut (token-cache.ts lineSplitRule), null: nowhere. */
  constructor(readonly rule: SplitRule | null) {
    this.cache = new TokenCache(rule);
  }
}

export interface PromptInput {
  text: string;
  /** UTF-16 offset of the cursor in text. */
  offset: number;
  languageId: string;
  /** Called only when budget remains for snippets. */
  snippets?: (before: string) => Snippet[];
}

export interface BuiltPrompt {
  ids: Int32Array;
  /** The prefix and suffix text the prompt holds (windows of the document). */
  prefix: string;
  suffix: string;
  prefixTokens: number;
  suffixTokens: number;
  /** Of prefixTokens, those after <fim_middle> (the typed lines of a PSM prompt); 0: the prefix is whole before the suffix. */
  typedTokens: number;
  snippetTokens: number;
  /** ms spent in tokenizer.encode. */
  tokenizeMs: number;
}

function lineStartAtOrAfter(text: string, pos: number, limit: number): number {
  if (pos <= 0) return 0;
  if (text.charCodeAt(pos - 1) === 10) return pos;
  const nl = text.indexOf('\n', pos);
  return nl < 0 || nl + 1 > limit ? pos : nl + 1;
}

/** Replaces lone UTF-16 surrogates with U+FFFD so every tokenizer sees well-formed text. */
export function wellFormed(s: string): string {
  return /[\uD800-\uDFFF]/.test(s) ? s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD') : s;
}

export function buildPrompt(input: PromptInput, tok: TokenizerLike, format: PromptFormat, budget: Budget, state: PromptState): BuiltPrompt {
  const { text, offset } = input;
  const fim = format.kind === 'fim';
  const overhead = format.bos.length + (fim ? 3 : 0);
  const total = Math.max(8, Math.min(budget.contextTokens, budget.maxContext - budget.maxTokens - 1) - overhead);
  const suffixBudget = fim ? Math.floor(total * budget.suffixShare) : 0;
  const prefixBudget = total - suffixBudget;
  let tokenizeMs = 0;
  const encode = (s: string, cache: TokenCache | LastEncoding | null): Int32Array => {
    const t = performance.now();
    const ids = cache ? cache.encode(tok, wellFormed(s)) : tok.encode(wellFormed(s), DOCUMENT_TEXT);
    tokenizeMs += performance.now() - t;
    return ids;
  };

  // Prefix: reuse the anchor while the window fits, else move it to a line start with headroom.
  const maxChars = Math.ceil(prefixBudget * state.charsPerToken * 1.5) + 64;
  let start = state.anchor >= 0 && state.anchor <= offset && offset - state.anchor <= maxChars ? state.anchor : -1;
  if (start < 0) start = lineStartAtOrAfter(text, Math.max(0, offset - Math.floor(prefixBudget * state.charsPerToken)), offset);
  let prefixIds = encode(text.slice(start, offset), state.cache);
  for (let tries = 0; prefixIds.length > prefixBudget && tries < 3; tries++) {
    const chars = offset - start;
    state.charsPerToken = Math.max(0.5, chars / prefixIds.length);
    const keep = Math.floor(prefixBudget * 0.8 * state.charsPerToken);
    start = lineStartAtOrAfter(text, offset - keep, offset);
    prefixIds = encode(text.slice(start, offset), state.cache);
  }
  if (prefixIds.length > prefixBudget) prefixIds = prefixIds.subarray(prefixIds.length - prefixBudget);
  if (offset - start > 0 && prefixIds.length > 0) state.charsPerToken = Math.max(0.5, (offset - start) / prefixIds.length);
  state.anchor = start;
  const prefix = text.slice(start, offset);

  // Suffix: the lines after the cursor, front kept.
  let suffix = '';
  let suffixIds: Int32Array = new Int32Array(0);
  if (fim && suffixBudget > 0) {
    const end = Math.min(text.length, offset + Math.ceil(suffixBudget * state.charsPerToken));
    const lastNl = text.lastIndexOf('\n', end);
    suffix = text.slice(offset, end === text.length || lastNl <= offset ? end : lastNl + 1);
    suffixIds = encode(suffix, state.suffix);
    if (suffixIds.length > suffixBudget) suffixIds = suffixIds.subarray(0, suffixBudget);
  }

  // Snippets from other documents, in the remaining budget.
  const parts: Int32Array[] = [];
  let snippetTokens = 0;
  let remaining = total - prefixIds.length - suffixIds.length;
  if (fim && input.snippets && remaining >= 64) {
    for (const s of input.snippets(prefix)) {
      // As comments at the top of the prefix (Copilot's layout): in distribution for any code
      // model, unlike repository tokens (<|file_sep|>) a FIM-only model never saw.
      const body = encode(snippetAsComment(s, input.languageId), null);
      if (body.length > remaining) continue;
      parts.push(body);
      snippetTokens += body.length;
      remaining -= body.length;
    }
  }

  const seq: ArrayLike<number>[] = [format.bos];
  let typedTokens = 0;
  if (format.kind === 'fim' && format.order === 'spm') {
    // the suffix first: typing at the cursor only appends to this prompt, so the engine's resident
    // prefix (the suffix, the snippets and the old prefix) is reused up to the new characters
    seq.push([format.prefix, format.suffix], suffixIds, [format.middle], ...parts, prefixIds);
  } else if (format.kind === 'fim') {
    // the typed lines after the middle marker: the same ids, the prefix's last ones moved past the suffix
    const typed = budget.psmTypedLines === 'middle' ? typedLines((s) => encode(s, state.typed), text, start, offset, prefixIds, state) : null;
    typedTokens = typed?.length ?? 0;
    const head = prefixIds.subarray(0, prefixIds.length - typedTokens);
    seq.push([format.prefix], ...parts, head, [format.suffix], suffixIds, [format.middle], typed ?? []);
  } else {
    seq.push(prefixIds);
  }
  const n = seq.reduce((a, b) => a + b.length, 0);
  const ids = new Int32Array(n);
  let at = 0;
  for (const s of seq) {
    ids.set(s, at);
    at += s.length;
  }
  return { ids, prefix, suffix, prefixTokens: prefixIds.length, suffixTokens: suffixIds.length, typedTokens, snippetTokens, tokenizeMs };
}

/**
 * The ids of the typed lines, text[from, offset) where `from` is the state's (kept while it is
 * still a cut of the prefix window before the cursor, at most TYPED_LINES_MAX_CHARS back) or else
 * the last cut at a line break before the cursor; they are the last ids of prefixIds (a cut is
 * where the tokenizer encodes the two sides apart: token-cache.ts), so moving them keeps every id.
 * Null (and the state forgets its start) where there is no such cut or the ids do not match.
 * `encode`: buildPrompt's (its time counts as the prompt's tokenizing).
 */
function typedLines(encode: (s: string) => Int32Array, text: string, start: number, offset: number, prefixIds: Int32Array, state: PromptState): Int32Array | null {
  const rule = state.rule;
  const window = text.slice(start, offset);
  const cut = (at: number): boolean => at > start && offset - at <= TYPED_LINES_MAX_CHARS && rule !== null && isSplitAt(window, at - start, rule);
  let from = state.typedFrom;
  if (!cut(from)) from = rule ? start + splitPoint(window, rule, 0) : -1;
  if (!cut(from)) {
    state.typedFrom = -1;
    return null;
  }
  const ids = encode(text.slice(from, offset));
  const at = prefixIds.length - ids.length;
  if (ids.length === 0 || at < 1 || ids.some((id, i) => prefixIds[at + i] !== id)) {
    state.typedFrom = -1;
    return null;
  }
  state.typedFrom = from;
  return ids;
}

/** Ids of a literal U+FFFD per tokenizer (what the model generates when it means that character). */
const replacementIds = new WeakMap<TokenizerLike, number[]>();

/**
 * The text of generated ids, decoded in the context of the prompt's last few ids so tokenizers
 * that strip a leading space from the first piece (SentencePiece) keep it. Byte-level and
 * byte-fallback tokens can split a UTF-8 character, and a small model can emit bytes that form no
 * character at all (a continuation byte after an emoji); decoding writes U+FFFD for both. Such
 * U+FFFD are dropped: an unfinished character at the end is held back until its last byte comes,
 * invalid bytes never show. A U+FFFD stays only where the model generated the tokens of U+FFFD
 * itself (tok.encode('\uFFFD')).
 */
export function decodeContinuation(tok: TokenizerLike, prompt: Int32Array, generated: ArrayLike<number>): string {
  if (generated.length === 0) return '';
  let meant = replacementIds.get(tok);
  if (!meant) {
    meant = Array.from(tok.encode('\uFFFD', { addSpecialTokens: false }));
    replacementIds.set(tok, meant);
  }
  const ids = Array.from(generated);
  let context = Array.from(prompt.subarray(Math.max(0, prompt.length - 4)));
  let text = '';
  let start = 0;
  for (let i = 0; i <= ids.length; i++) {
    const isMeant = i < ids.length && meant.length > 0 && meant.every((id, k) => ids[i + k] === id);
    if (!isMeant && i < ids.length) continue;
    const segment = ids.slice(start, i);
    text += decodeAfter(tok, context, segment).replace(/\uFFFD/g, '');
    context = [...context, ...segment];
    if (isMeant) {
      text += '\uFFFD';
      context = [...context, ...meant];
      i += meant.length - 1;
      start = i + 1;
    }
    context = context.slice(-4);
  }
  return text;
}

/** decode(ids) as it reads after `context` (which decodes to whole characters or U+FFFD). */
function decodeAfter(tok: TokenizerLike, context: number[], ids: number[]): string {
  if (ids.length === 0) return '';
  const base = tok.decode(context, { skipSpecialTokens: true });
  const full = tok.decode([...context, ...ids], { skipSpecialTokens: true });
  return full.startsWith(base) ? full.slice(base.length) : tok.decode(ids, { skipSpecialTokens: true });
}
