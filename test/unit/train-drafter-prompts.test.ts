/**
 * The prompts `slipstream train-drafter` records and evaluates on (server/src/cli/train-drafter/
 * prompts.ts, fim.ts), with the shipped model's real tokenizer (SPM fill-in-the-middle) and
 * stories260K's (no FIM tokens): the held-out split holds for FIM prompts too (their prefix and
 * suffix text come from the file's held-out part only), the share is honoured, and a model without
 * FIM tokens, or a share of 0, gets the plain prompts exactly as before.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../../native/lib/tokenizer.js';
import { detectPromptFormat } from '../../server/src/completion/prompt-format.js';
import { fimPrompts } from '../../server/src/cli/train-drafter/fim.js';
import { listPromptFiles, promptSampler, tokenizeFiles, type PromptFile } from '../../server/src/cli/train-drafter/prompts.js';
import { repoRoot, shippedModel, stories260K } from '../helpers/paths.js';

const root = join(repoRoot, 'fixtures', 'workspace', 'src');
const budget = { contextTokens: 256, maxTokens: 64, maxContext: 1024 };

describe('train-drafter prompts', () => {
  let tok: Tokenizer;
  let files: PromptFile[];
  beforeAll(async () => {
    tok = await Tokenizer.load(shippedModel);
    files = tokenizeFiles(listPromptFiles(root), tok);
  });

  it('cuts each file at the characters of its first 80% of tokens', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(f.text.slice(0, f.textCut)).toBe(tok.decode(f.tokens.subarray(0, Math.floor(f.tokens.length * 0.8))));
      expect(f.textCut).toBeLessThan(f.text.length);
    }
  });

  it('builds FIM prompts in the model order whose text comes only from the requested part', () => {
    const format = detectPromptFormat(tok);
    if (format.kind !== 'fim') throw new Error('the shipped model has FIM tokens');
    expect(format.order).toBe('spm');
    const fim = fimPrompts(tok, format, { share: 1, ...budget })!;
    for (const part of ['train', 'heldout'] as const) {
      const s = promptSampler(files, part, { seed: 3, maxLen: 64, bos: null, root, fim });
      for (let i = 0; i < 40; i++) {
        const { prompt, source } = s.next();
        expect(source).toMatch(/:fim@\d+$/);
        expect(prompt.length).toBeLessThanOrEqual(budget.contextTokens);
        // SPM: <PRE> <SUF> suffix <MID> prefix
        const ids = Array.from(prompt);
        expect(ids.slice(0, 2)).toEqual([format.prefix, format.suffix]);
        const mid = ids.indexOf(format.middle);
        expect(mid).toBeGreaterThan(1);
        const suffix = tok.decode(ids.slice(2, mid));
        const prefix = tok.decode(ids.slice(mid + 1));
        const file = files.find((f) => source.startsWith(f.path.slice(root.length + 1)))!;
        const at = Number(source.split('@')[1]);
        const partText = part === 'train' ? file.text.slice(0, file.textCut) : file.text.slice(file.textCut);
        const lo = part === 'train' ? 0 : file.textCut;
        expect(at >= lo && at <= lo + partText.length, `cursor ${at} in ${part}`).toBe(true);
        expect(partText.slice(0, at - lo).endsWith(prefix), 'prefix ends at the cursor').toBe(true);
        expect(partText.slice(at - lo).startsWith(suffix), 'suffix starts at the cursor').toBe(true);
      }
    }
  });

  it('mixes FIM and plain prompts at the share; a share of 0 leaves the plain prompts unchanged', () => {
    const format = detectPromptFormat(tok);
    const half = fimPrompts(tok, format, { share: 0.5, ...budget })!;
    const s = promptSampler(files, 'train', { seed: 5, maxLen: 64, bos: null, root, fim: half });
    let n = 0;
    for (let i = 0; i < 200; i++) if (s.next().source.includes(':fim@')) n++;
    expect(n).toBeGreaterThan(70);
    expect(n).toBeLessThan(130);
    expect(fimPrompts(tok, format, { share: 0, ...budget })).toBeUndefined();
    const a = promptSampler(files, 'train', { seed: 5, maxLen: 64, bos: null, root });
    const b = promptSampler(files, 'train', { seed: 5, maxLen: 64, bos: null, root, fim: undefined });
    for (let i = 0; i < 20; i++) expect(Array.from(a.next().prompt)).toEqual(Array.from(b.next().prompt));
  });

  it('has no FIM prompts for a model without FIM tokens', async () => {
    const plain = await Tokenizer.load(stories260K);
    expect(fimPrompts(plain, detectPromptFormat(plain), { share: 1, ...budget })).toBeUndefined();
  });
});
