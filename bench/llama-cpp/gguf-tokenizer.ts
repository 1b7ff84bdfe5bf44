/**
 * The tokenizer.ggml.* metadata llama.cpp needs, from a Hugging Face tokenizer.json (+
 * tokenizer_config.json), for the two BPE families the project's models use:
 *  - byte-level BPE (GPT-2 style: the shipped model, Qwen2): tokenizer.ggml.model "gpt2" with the
 *    merges, and the pre-tokenizer llama.cpp must apply, recognised from tokenizer.json's own
 *    (ByteLevel's built-in regex: "gpt-2"; Qwen2's Split regex: "qwen2"; Llama 3's: "llama-bpe");
 *  - SentencePiece-style BPE with byte fallback (Llama 2 style: stories260K): tokenizer.ggml.model
 *    "llama" (llama.cpp's SPM tokenizer), which merges by score instead of by merge list, so each
 *    merged piece gets score -(rank of the first merge that makes it); <0xXX> pieces are BYTE
 *    tokens; the "▁" prefix the normalizer prepends becomes add_space_prefix.
 * Used by hf-to-gguf.ts; writes nothing itself.
 */
import type { GgufValue } from './gguf-writer.js';
import { gguf } from './gguf-writer.js';

/** The llama.cpp token types (llama_token_type / gguf.TokenType). */
const TOKEN_NORMAL = 1;
const TOKEN_UNKNOWN = 2;
const TOKEN_CONTROL = 3;
const TOKEN_USER_DEFINED = 4;
const TOKEN_UNUSED = 5;
const TOKEN_BYTE = 6;

type Json = Record<string, unknown>;

export interface TokenizerJson {
  model: { type: string; vocab: Record<string, number>; merges?: (string | [string, string])[]; byte_fallback?: boolean; unk_token?: string | null };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  normalizer?: Json | null;
  pre_tokenizer?: Json | null;
}

/** Special token ids and flags of tokenizer_config.json, resolved against tokenizer.json. */
export interface SpecialTokens {
  bos?: number;
  eos?: number;
  unk?: number;
  addBos: boolean;
}

/** The pre-tokenizer split patterns llama.cpp knows, by the name it expects in tokenizer.ggml.pre. */
const SPLIT_PATTERNS: Record<string, string> = {
  qwen2: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  'llama-bpe': "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

const mergeText = (m: string | [string, string]): string => (Array.isArray(m) ? m.join(' ') : m);

/** tokenizer.ggml.pre for a byte-level BPE tokenizer.json, or an error naming what it has. */
export function byteLevelPre(tok: TokenizerJson): string {
  const pre = tok.pre_tokenizer;
  if (pre?.type === 'ByteLevel' && pre.use_regex !== false) return 'gpt-2';
  const parts = pre?.type === 'Sequence' && Array.isArray(pre.pretokenizers) ? (pre.pretokenizers as Json[]) : [];
  const split = parts.find((p) => p.type === 'Split');
  const regex = (split?.pattern as Json | undefined)?.Regex;
  if (typeof regex === 'string' && parts.some((p) => p.type === 'ByteLevel' && p.use_regex === false)) {
    for (const [name, pattern] of Object.entries(SPLIT_PATTERNS)) if (pattern === regex) return name;
  }
  throw new Error(`tokenizer.json: pre-tokenizer ${JSON.stringify(pre).slice(0, 200)} is none this converter maps to a llama.cpp pre-tokenizer`);
}

/** True for a SentencePiece-style BPE (byte fallback, "▁" for spaces), false for byte-level BPE. */
export function isSentencePieceBpe(tok: TokenizerJson): boolean {
  return tok.model.type === 'BPE' && tok.model.byte_fallback === true;
}

/** Whether the normalizer or pre-tokenizer puts "▁" in front of the text (SentencePiece's dummy prefix). */
function addsSpacePrefix(tok: TokenizerJson): boolean {
  const norms = tok.normalizer?.type === 'Sequence' ? ((tok.normalizer.normalizers as Json[]) ?? []) : tok.normalizer ? [tok.normalizer] : [];
  if (norms.some((n) => n.type === 'Prepend' && n.prepend === '▁')) return true;
  const pre = tok.pre_tokenizer;
  return pre?.type === 'Metaspace' && pre.prepend_scheme !== 'never' && pre.add_prefix_space !== false;
}

/** Token texts and types, padded to vocabSize with "[PAD<i>]" (UNUSED). */
function vocabulary(tok: TokenizerJson, vocabSize: number, typeOf: (text: string, id: number) => number): { texts: string[]; types: number[] } {
  const tokens: (string | undefined)[] = new Array(vocabSize);
  const types = new Array<number>(vocabSize).fill(TOKEN_UNUSED);
  for (const [text, id] of Object.entries(tok.model.vocab)) {
    if (id >= vocabSize) throw new Error(`tokenizer.json: token id ${id} >= vocab_size ${vocabSize}`);
    tokens[id] = text;
    types[id] = typeOf(text, id);
  }
  for (const a of tok.added_tokens ?? []) {
    if (a.id >= vocabSize) throw new Error(`tokenizer.json: added token id ${a.id} >= vocab_size ${vocabSize}`);
    tokens[a.id] = a.content;
    types[a.id] = a.special ? TOKEN_CONTROL : TOKEN_USER_DEFINED;
  }
  return { texts: Array.from(tokens, (t, i) => t ?? `[PAD${i}]`), types };
}

/** tokenizer.ggml.* key/values for tok (either family), vocabulary padded to vocabSize. */
export function tokenizerKv(tok: TokenizerJson, vocabSize: number, special: SpecialTokens): [string, GgufValue][] {
  if (tok.model.type !== 'BPE') throw new Error(`tokenizer.json: model type ${tok.model.type}, only BPE (byte-level or SentencePiece-style) is supported`);
  const kv: [string, GgufValue][] = [];
  if (isSentencePieceBpe(tok)) {
    const { texts, types } = vocabulary(tok, vocabSize, (text) => (/^<0x[0-9A-Fa-f]{2}>$/.test(text) ? TOKEN_BYTE : text === tok.model.unk_token ? TOKEN_UNKNOWN : TOKEN_NORMAL));
    const scores = new Array<number>(vocabSize).fill(0);
    const merges = (tok.model.merges ?? []).map(mergeText);
    const scored = new Set<number>();
    merges.forEach((m, rank) => {
      const id = tok.model.vocab[m.replace(' ', '')];
      if (id !== undefined && !scored.has(id)) {
        scored.add(id);
        scores[id] = -rank;
      }
    });
    kv.push(
      ['tokenizer.ggml.model', gguf.str('llama')],
      ['tokenizer.ggml.pre', gguf.str('default')],
      ['tokenizer.ggml.tokens', gguf.strs(texts)],
      ['tokenizer.ggml.scores', gguf.f32s(scores)],
      ['tokenizer.ggml.token_type', gguf.i32s(types)],
      ['tokenizer.ggml.add_space_prefix', gguf.bool(addsSpacePrefix(tok))],
    );
    if (special.unk !== undefined) kv.push(['tokenizer.ggml.unknown_token_id', gguf.u32(special.unk)]);
  } else {
    const { texts, types } = vocabulary(tok, vocabSize, () => TOKEN_NORMAL);
    kv.push(
      ['tokenizer.ggml.model', gguf.str('gpt2')],
      ['tokenizer.ggml.pre', gguf.str(byteLevelPre(tok))],
      ['tokenizer.ggml.tokens', gguf.strs(texts)],
      ['tokenizer.ggml.token_type', gguf.i32s(types)],
      ['tokenizer.ggml.merges', gguf.strs((tok.model.merges ?? []).map(mergeText))],
    );
  }
  if (special.bos !== undefined) kv.push(['tokenizer.ggml.bos_token_id', gguf.u32(special.bos)]);
  if (special.eos !== undefined) kv.push(['tokenizer.ggml.eos_token_id', gguf.u32(special.eos)], ['tokenizer.ggml.padding_token_id', gguf.u32(special.eos)]);
  kv.push(['tokenizer.ggml.add_bos_token', gguf.bool(special.addBos)]);
  return kv;
}
