/**
 * The model's prompt format, read from its tokenizer's special tokens: fill-in-the-middle (Qwen's
 * `<|fim_prefix|>`, StarCoder's `<fim_prefix>` and DeepSeek's `<｜fim▁begin｜>` spellings) in the
 * order tokenizer_config.json's `fim_order` names: PSM `<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>`
 * (Qwen2.5-Coder; the default) or SPM `<|fim_prefix|><|fim_suffix|>S<|fim_middle|>P` (the shipped
 * model), or prefix-only for a model without FIM tokens (e.g. stories260K). Also the tokens that
 * end a completion, and how document text is encoded into a prompt.
 */
import type { TokenizerLike } from './engine-host.js';

/** How document text is encoded: no BOS/EOS, and "<|endoftext|>" typed in a file stays text. */
export const DOCUMENT_TEXT = { addSpecialTokens: false, literalSpecials: true } as const;

export type PromptFormat =
  | { kind: 'fim'; order: 'psm' | 'spm'; prefix: number; suffix: number; middle: number; bos: number[]; stopTokens: number[] }
  | { kind: 'prefix-only'; bos: number[]; stopTokens: number[] };

const FIM_SPELLINGS: [string, string, string][] = [
  ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'],
  ['<fim_prefix>', '<fim_suffix>', '<fim_middle>'],
  ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>'],
];

/** Tokens that, when generated, end a code completion (only those the vocabulary has). */
const STOP_SPELLINGS = ['<|endoftext|>', '<|fim_pad|>', '<|file_sep|>', '<|repo_name|>', '<|im_end|>', '<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<file_sep>', '<|end_of_text|>', '<|eot_id|>'];

export function detectPromptFormat(tok: TokenizerLike): PromptFormat {
  // BOS exactly as the tokenizer adds it (none for Qwen, <s> for Llama 2 style).
  const bos = Array.from(tok.encode('', { addSpecialTokens: true }));
  const stop = new Set(tok.eosTokenIds);
  for (const s of STOP_SPELLINGS) {
    const id = tok.tokenId(s);
    if (id !== undefined) stop.add(id);
  }
  const stopTokens = [...stop];
  for (const [p, s, m] of FIM_SPELLINGS) {
    const prefix = tok.tokenId(p);
    const suffix = tok.tokenId(s);
    const middle = tok.tokenId(m);
    if (prefix !== undefined && suffix !== undefined && middle !== undefined) {
      return { kind: 'fim', order: tok.fimOrder ?? 'psm', prefix, suffix, middle, bos, stopTokens };
    }
  }
  return { kind: 'prefix-only', bos, stopTokens };
}
