/**
 * Fill-in-the-middle prompts for `slipstream train-drafter`: for a model whose tokenizer has FIM
 * tokens, the prompt the server itself would send (server/src/completion/context.ts buildPrompt,
 * the model's own PSM or SPM order, the default suffix share) for a cursor at a random point of one
 * part of a file: the part is the document, so a training prompt never sees held-out text and an
 * evaluation prompt never sees training text. The head then learns the distribution it drafts in
 * when serving completions, not only plain continuations.
 */
import { buildPrompt, PromptState } from '../../completion/context.js';
import type { TokenizerLike } from '../../completion/engine-host.js';
import { lineSplitRule } from '../../completion/token-cache.js';
import type { PromptFormat } from '../../completion/prompt-format.js';
import { defaultSettings } from '../../config.js';
import type { PromptFile } from './prompts.js';

export interface FimPrompts {
  /** The share of prompts that are FIM prompts (0..1). */
  share: number;
  prompt(file: PromptFile, part: 'train' | 'heldout', rand: () => number, where: string): { prompt: Int32Array; source: string };
}

/**
 * FIM prompts of at most contextTokens tokens (room is left for maxTokens generated ones within
 * maxContext), or undefined when the model has no FIM tokens or share is 0.
 */
export function fimPrompts(
  tok: TokenizerLike, format: PromptFormat, o: { share: number; contextTokens: number; maxTokens: number; maxContext: number },
): FimPrompts | undefined {
  if (format.kind !== 'fim' || o.share <= 0) return undefined;
  const splitRule = lineSplitRule(tok);
  const { suffixShare, psmTypedLines } = defaultSettings().completion;
  const budget = { contextTokens: o.contextTokens, suffixShare, psmTypedLines, maxTokens: o.maxTokens, maxContext: o.maxContext };
  return {
    share: o.share,
    prompt(file, part, rand, where) {
      const lo = part === 'train' ? 0 : file.textCut;
      const doc = part === 'train' ? file.text.slice(0, file.textCut) : file.text.slice(file.textCut);
      const offset = Math.floor(rand() * (doc.length + 1));
      const built = buildPrompt({ text: doc, offset, languageId: 'plaintext' }, tok, format, budget, new PromptState(splitRule));
      return { prompt: built.ids, source: `${where}:fim@${lo + offset}` };
    },
  };
}
