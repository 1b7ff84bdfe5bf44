/**
 * Builds a small byte-level BPE tokenizer folder in the Qwen2 layout (Split regex + ByteLevel,
 * NFC normalizer, ByteLevel decoder) with the project's special tokens, for tokenizer tests and
 * the random-weight model folders of make-random-model.ts. Deterministic: same call, same bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToUnicode } from '../../native/lib/token-bytes.js';

/** The project's special tokens, in id order after the byte-level vocabulary. */
export const SPECIAL_TOKENS = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|file_sep|>'];

/** Qwen2's pre-tokenizer regex (tokenizer.json of Qwen2.5-Coder). */
const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * Strings (in UTF-8 text) that become single tokens through left-to-right merge chains. Some are
 * deliberately partial UTF-8 characters: the first two bytes of '☕' and the first three of '😀'.
 */
const MERGED_TEXTS: Array<string | Uint8Array> = [
  ' the', 'def', ' return', '    ', '  ', 'self', '()', '):', ' =', 'in', ' in', '日本',
  Uint8Array.from([0xe2, 0x98]), Uint8Array.from([0xf0, 0x9f, 0x98]),
];

export interface ByteLevelTokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  vocabSize: number;
}

/** The tokenizer.json / tokenizer_config.json contents. */
export function byteLevelTokenizer(): ByteLevelTokenizerFiles {
  const byteChar = bytesToUnicode();
  const vocab: Record<string, number> = {};
  const merges: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) vocab[byteChar[b]] = next++;
  const enc = new TextEncoder();
  for (const t of MERGED_TEXTS) {
    const bytes = typeof t === 'string' ? enc.encode(t) : t;
    let piece = byteChar[bytes[0]];
    for (let i = 1; i < bytes.length; i++) {
      const c = byteChar[bytes[i]];
      const merged = piece + c;
      if (!(merged in vocab)) {
        merges.push(`${piece} ${c}`);
        vocab[merged] = next++;
      }
      piece = merged;
    }
  }
  const addedTokens = SPECIAL_TOKENS.map((content) => ({
    id: next++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_SPLIT }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
  const tokenizerConfig = {
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(addedTokens.map(({ id, ...rest }) => [String(id), rest])),
    additional_special_tokens: SPECIAL_TOKENS.slice(1),
    bos_token: null,
    clean_up_tokenization_spaces: false,
    eos_token: '<|endoftext|>',
    errors: 'replace',
    model_max_length: 32768,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
  return { tokenizerJson, tokenizerConfig, vocabSize: next };
}

/** Writes tokenizer.json and tokenizer_config.json into dir; returns the vocabulary size. */
export function writeByteLevelTokenizer(dir: string): number {
  const { tokenizerJson, tokenizerConfig, vocabSize } = byteLevelTokenizer();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson, null, 2));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2));
  return vocabSize;
}
