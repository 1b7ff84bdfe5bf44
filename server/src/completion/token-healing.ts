/**
 * Token healing (#21): when the text before the cursor ends inside what the tokenizer would write
 * as one token (a run of spaces, the start of an identifier), the prompt's last tokens are a split
 * the model never saw in training. healPrompt backs the prompt off by its last token(s), up to
 * HEALING_LIMITS, and returns the removed text as the generation's required prefix (the engine
 * masks every token that does not agree with it: docs/engine.md "The required prefix");
 * stripHealed takes it off the output again, so the suggestion is what follows the cursor.
 * Pure functions on token ids and the token bytes table (native/lib/token-bytes.ts); the
 * provider calls them only for engine hosts that constrain decoding (LoadedModel.tokenBytes).
 */
import type { TokenBytes } from '../../../native/lib/token-bytes.js';
import type { BuiltPrompt } from './context.js';
import type { PromptFormat } from './prompt-format.js';

/** How far healing backs off at most: the last `tokens` prompt tokens, `bytes` bytes in all. */
export const HEALING_LIMITS = { tokens: 3, bytes: 32 } as const;

export interface Healing {
  /** Prompt tokens removed. */
  tokens: number;
  /** The text they write: the output must start with it. */
  text: string;
  /** Its UTF-8 length. */
  bytes: number;
}

/**
 * The token bytes table with the usable ids (not special, writing at least one byte) sorted by
 * their bytes, so "is there a longer token starting with these bytes" is a binary search.
 */
export class HealingVocab {
  /** The usable tokens' bytes as latin1 strings (one char per byte: string order is byte order), sorted. */
  private readonly sorted: string[];

  constructor(readonly table: TokenBytes) {
    const keys: string[] = [];
    const n = table.special.length;
    for (let id = 0; id < n; id++) if (this.usable(id)) keys.push(latin1(this.bytesOf(id)));
    keys.sort();
    this.sorted = keys;
  }

  /** The bytes token `id` writes (empty for special and unknown ids). */
  bytesOf(id: number): Uint8Array {
    const { offsets, bytes } = this.table;
    if (id < 0 || id + 1 >= offsets.length) return new Uint8Array(0);
    return bytes.subarray(offsets[id]!, offsets[id + 1]!);
  }

  /** Whether the engine may emit `id` under a required prefix (not special, writes something). */
  usable(id: number): boolean {
    const { offsets, special } = this.table;
    return id >= 0 && id < special.length && special[id] === 0 && offsets[id + 1]! > offsets[id]!;
  }

  /** Whether some usable token writes `p` followed by at least one more byte. */
  hasLongerToken(p: Uint8Array): boolean {
    const key = latin1(p);
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    // tokens starting with p follow lo in order: exact matches first (a vocabulary can hold several,
    // e.g. a piece and its byte-fallback twin), then the longer ones
    let i = lo;
    while (i < this.sorted.length && this.sorted[i] === key) i++;
    return i < this.sorted.length && this.sorted[i]!.startsWith(key);
  }
}

const vocabs = new WeakMap<TokenBytes, HealingVocab>();

/** The HealingVocab of a table, built once per table (the native host builds it when it loads the model). */
export function healingVocab(table: TokenBytes): HealingVocab {
  let v = vocabs.get(table);
  if (!v) {
    v = new HealingVocab(table);
    vocabs.set(table, v);
  }
  return v;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * How many of the tokens ids[.. end) to back off: the most k <= limits.tokens such that every one
 * of the last k tokens is usable, they write at most limits.bytes bytes of whole UTF-8 characters
 * that `before` (the document text before the cursor) ends with, and some single token writes
 * those bytes and more (so the model could have written the text differently). Stops at the first
 * k that fails the last test: a longer back-off would have to start a token before that one.
 * Null when even the last token alone fails (nothing to heal).
 */
export function healTail(ids: ArrayLike<number>, end: number, vocab: HealingVocab, before: string, limits: { tokens: number; bytes: number } = HEALING_LIMITS): Healing | null {
  let best: Healing | null = null;
  let removed = new Uint8Array(0);
  for (let k = 1; k <= limits.tokens && end - k >= 0; k++) {
    const id = ids[end - k]!;
    if (!vocab.usable(id)) break;
    const b = vocab.bytesOf(id);
    if (removed.length + b.length > limits.bytes) break;
    const next = new Uint8Array(b.length + removed.length);
    next.set(b, 0);
    next.set(removed, b.length);
    removed = next;
    if (!vocab.hasLongerToken(removed)) break;
    let text: string;
    try {
      text = strictUtf8.decode(removed);
    } catch {
      continue; // splits a character: only a longer back-off can be used
    }
    if (!before.endsWith(text)) break; // the tokens do not write the document's text (a tokenizer's dummy prefix)
    best = { tokens: k, text, bytes: removed.length };
  }
  return best;
}

/** Where the prefix's tokens end in a built prompt (PSM puts the suffix after them, unless the typed lines follow it). */
export function prefixEnd(prompt: BuiltPrompt, format: PromptFormat): number {
  return format.kind === 'fim' && format.order === 'psm' && prompt.typedTokens === 0 ? prompt.ids.length - prompt.suffixTokens - 2 : prompt.ids.length;
}

export interface HealedPrompt {
  ids: Int32Array;
  /** Null when the prompt was left as it was. */
  healing: Healing | null;
}

/** The prompt backed off by its cursor-side partial token(s), with what the output must start with. */
export function healPrompt(prompt: BuiltPrompt, format: PromptFormat, vocab: HealingVocab, limits: { tokens: number; bytes: number } = HEALING_LIMITS): HealedPrompt {
  const end = prefixEnd(prompt, format);
  // the cursor side's tokens: the typed lines where they follow the suffix, else the whole prefix
  const start = end - (prompt.typedTokens > 0 ? prompt.typedTokens : prompt.prefixTokens);
  const window = prompt.ids.subarray(start, end);
  const healing = healTail(window, window.length, vocab, prompt.prefix, limits);
  if (!healing) return { ids: prompt.ids, healing: null };
  const ids = new Int32Array(prompt.ids.length - healing.tokens);
  ids.set(prompt.ids.subarray(0, end - healing.tokens), 0);
  ids.set(prompt.ids.subarray(end), end - healing.tokens);
  return { ids, healing };
}

/**
 * The output text as it reads after the cursor: the healed text taken off its start. While the
 * output has not yet written all of it, nothing; an output that disagrees with it (which the
 * engine's constraint rules out) gives nothing too, never text that does not follow the cursor.
 */
export function stripHealed(output: string, healed: string): string {
  if (healed === '') return output;
  if (output.startsWith(healed)) return output.slice(healed.length);
  return '';
}

/** Bytes as a string of one char (U+0000-U+00FF) per byte. */
function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}
