/**
 * Prompt building with real tokenizers: the FIM layout read from the tokenizer's special tokens
 * (a byte-level BPE tokenizer in the Qwen2 layout), the prefix-only fallback (stories260K), the
 * token budget, a stable prefix window across keystrokes, line-split token caching that gives
 * the same ids as whole-text encoding, decoding that keeps a leading space, and PSM prompts with
 * the typed lines in the middle (completion.psmTypedLines).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../../../native/lib/tokenizer.js';
import { writeByteLevelTokenizer } from '../../../bench/lib/byte-level-tokenizer.js';
import { buildPrompt, decodeContinuation, PromptState, TYPED_LINES_MAX_CHARS, wellFormed, type BuiltPrompt } from '../../../server/src/completion/context.js';
import { detectPromptFormat } from '../../../server/src/completion/prompt-format.js';
import { isSplitAt, lineSplitRule, splitPoint, splitRuleHolds, TokenCache, type SplitRule } from '../../../server/src/completion/token-cache.js';
import { repoRoot, shippedModel, stories260K } from '../../helpers/paths.js';
import { mulberry32 } from '../../../server/src/mulberry32.js';

let dir: string;
let qwen: Tokenizer;
let spm: Tokenizer;
let rule: SplitRule | null;
/** A copy of the tokenizer folder in `dir` with tokenizer_config.json's fim_order set to `order`. */
function withFimOrder(name: string, order: unknown): string {
  const d = join(dir, name);
  cpSync(join(dir, 'base'), d, { recursive: true });
  const cfgPath = join(d, 'tokenizer_config.json');
  writeFileSync(cfgPath, JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), fim_order: order }));
  return d;
}
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipstream-prompt-'));
  writeByteLevelTokenizer(join(dir, 'base'));
  qwen = await Tokenizer.load(join(dir, 'base'));
  spm = await Tokenizer.load(withFimOrder('spm', 'spm'));
  rule = lineSplitRule(qwen);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const budget = { contextTokens: 1024, suffixShare: 0.25, maxTokens: 32, maxContext: 4096 };
const code = Array.from({ length: 60 }, (_, i) => `def f${i}(x):\n    return x + ${i}\n`).join('');

describe('prompt format', () => {
  it('reads the FIM tokens and stop tokens from a Qwen-style tokenizer', () => {
    const f = detectPromptFormat(qwen);
    expect(f.kind).toBe('fim');
    if (f.kind !== 'fim') return;
    expect([f.prefix, f.suffix, f.middle]).toEqual(['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>'].map((t) => qwen.tokenId(t)));
    expect(f.stopTokens).toEqual(expect.arrayContaining([qwen.tokenId('<|endoftext|>'), qwen.tokenId('<|fim_pad|>'), qwen.tokenId('<|file_sep|>')]));
  });

  it('builds <|fim_prefix|>P<|fim_suffix|>S<|fim_middle|> that decodes back to the document', () => {
    const text = 'def add(a, b):\n    return \n\nprint(add(1, 2))\n';
    const offset = text.indexOf('return ') + 7;
    const p = buildPrompt({ text, offset, languageId: 'python' }, qwen, detectPromptFormat(qwen), budget, new PromptState(rule));
    expect(qwen.decode(p.ids)).toBe(`<|fim_prefix|>${text.slice(0, offset)}<|fim_suffix|>${text.slice(offset)}<|fim_middle|>`);
  });

  it('builds <|fim_prefix|><|fim_suffix|>S<|fim_middle|>P for a model trained in SPM order', () => {
    const f = detectPromptFormat(spm);
    expect(f).toMatchObject({ kind: 'fim', order: 'spm' });
    expect(detectPromptFormat(qwen)).toMatchObject({ kind: 'fim', order: 'psm' });
    const text = 'def add(a, b):\n    return \n\nprint(add(1, 2))\n';
    const offset = text.indexOf('return ') + 7;
    const p = buildPrompt({ text, offset, languageId: 'python' }, spm, f, budget, new PromptState(rule));
    expect(spm.decode(p.ids)).toBe(`<|fim_prefix|><|fim_suffix|>${text.slice(offset)}<|fim_middle|>${text.slice(0, offset)}`);
  });

  it('in SPM order, typing at the cursor only appends to the prompt, so the engine reuses it', () => {
    const f = detectPromptFormat(spm);
    const state = new PromptState(rule);
    const offset = code.indexOf('return x + 7') + 7;
    const a = buildPrompt({ text: code, offset, languageId: 'python' }, spm, f, budget, state);
    const typed = code.slice(0, offset) + 'y' + code.slice(offset);
    const b = buildPrompt({ text: typed, offset: offset + 1, languageId: 'python' }, spm, f, budget, state);
    let common = 0;
    while (common < a.ids.length && a.ids[common] === b.ids[common]) common++;
    // all but the last token or two of the old prompt (the typed character may merge with them)
    expect(common).toBeGreaterThanOrEqual(a.ids.length - 2);
    expect(a.suffixTokens).toBeGreaterThan(50);
  });

  it('rejects a fim_order other than psm or spm with the file named', async () => {
    await expect(Tokenizer.load(withFimOrder('bad', 'middle-first'))).rejects.toThrow(/tokenizer_config\.json: fim_order must be "psm" or "spm", got "middle-first"/);
  });

  it('falls back to a prefix-only prompt with BOS for stories260K', async () => {
    const tok = await Tokenizer.load(stories260K);
    const f = detectPromptFormat(tok);
    expect(f).toMatchObject({ kind: 'prefix-only', bos: [1], stopTokens: [2] });
    const p = buildPrompt({ text: 'Once upon a time there', offset: 16, languageId: 'plaintext' }, tok, f, budget, new PromptState(null));
    expect(p.ids[0]).toBe(1);
    expect(tok.decode(p.ids, { skipSpecialTokens: true })).toBe('Once upon a time');
    // The first generated piece ('▁there') keeps its leading space when decoded after the prompt.
    const next = tok.encode('there', { addSpecialTokens: false });
    expect(decodeContinuation(tok, p.ids, next)).toBe(' there');
  });
});

describe('PSM prompts with the typed lines in the middle (completion.psmTypedLines)', () => {
  const middle = { ...budget, psmTypedLines: 'middle' as const };
  const sameIds = (a: Int32Array, b: Int32Array): void => expect([...a].sort((x, y) => x - y)).toEqual([...b].sort((x, y) => x - y));
  const common = (a: BuiltPrompt, b: BuiltPrompt): number => {
    let n = 0;
    while (n < a.ids.length && a.ids[n] === b.ids[n]) n++;
    return n;
  };

  it("builds <|fim_prefix|>H<|fim_suffix|>S<|fim_middle|>T with T from the cursor line's start: the standard prompt's ids, moved", () => {
    const f = detectPromptFormat(qwen);
    const text = 'def add(a, b):\n    return a\n\nprint(add(1, 2))\n';
    const offset = text.indexOf('return ') + 7;
    const line = text.lastIndexOf('\n', offset) + 1;
    const p = buildPrompt({ text, offset, languageId: 'python' }, qwen, f, middle, new PromptState(rule));
    expect(qwen.decode(p.ids)).toBe(`<|fim_prefix|>${text.slice(0, line)}<|fim_suffix|>${text.slice(offset)}<|fim_middle|>${text.slice(line, offset)}`);
    expect(p.typedTokens).toBe(qwen.encode(text.slice(line, offset), { addSpecialTokens: false }).length);
    const standard = buildPrompt({ text, offset, languageId: 'python' }, qwen, f, budget, new PromptState(rule));
    expect(standard.typedTokens).toBe(0);
    sameIds(p.ids, standard.ids);
    expect([p.prefixTokens, p.suffixTokens]).toEqual([standard.prefixTokens, standard.suffixTokens]);
  });

  it('typing at the cursor only appends to the prompt, where the standard layout recomputes the suffix', () => {
    const f = detectPromptFormat(qwen);
    for (const [layout, state] of [[middle, new PromptState(rule)], [budget, new PromptState(rule)]] as const) {
      let text = code;
      let offset = code.indexOf('return x + 7') + 7;
      let last = buildPrompt({ text, offset, languageId: 'python' }, qwen, f, layout, state);
      expect(last.suffixTokens).toBeGreaterThan(50);
      // a line and a half typed, a keystroke at a time: a new line, then its words
      for (const ch of 'y * 2\n    z = x') {
        text = text.slice(0, offset) + ch + text.slice(offset);
        offset++;
        const next = buildPrompt({ text, offset, languageId: 'python' }, qwen, f, layout, state);
        if (layout === middle) expect(common(last, next)).toBeGreaterThanOrEqual(last.ids.length - 2);
        else expect(common(last, next)).toBeLessThan(last.ids.length - last.suffixTokens);
        last = next;
      }
      // the typed lines kept their start (the first keystroke's line) across the new line
      if (layout === middle) expect(qwen.decode(last.ids.subarray(last.ids.length - last.typedTokens))).toBe('    return y * 2\n    z = x');
    }
  });

  it('starts the typed lines at an earlier line on a blank indented line, and again at a later line past the bound', () => {
    const f = detectPromptFormat(qwen);
    const blank = 'def f(x):\n    y = x\n    \n';
    const p = buildPrompt({ text: blank, offset: blank.length - 1, languageId: 'python' }, qwen, f, middle, new PromptState(rule));
    // no cut before an indentation-only line (its ids may merge with the line break): the line above starts them
    expect(qwen.decode(p.ids.subarray(p.ids.length - p.typedTokens))).toBe('    y = x\n    ');
    const state = new PromptState(rule);
    const lines = Array.from({ length: 40 }, (_, i) => `    v${i} = compute(v${i - 1}, "padding padding padding")\n`).join('');
    const doc = `def g():\n${lines}`;
    let typedFrom = -1;
    let moved = 0;
    for (let k = 1; k <= 40; k++) {
      // the cursor at the end of line k (a budget that holds the whole file: the prefix window stays at its start)
      const offset = doc.indexOf('\n', 9 + (lines.length / 40) * (k - 1) + 5);
      const q = buildPrompt({ text: doc, offset, languageId: 'python' }, qwen, f, { ...middle, contextTokens: 4000 }, state);
      const typed = qwen.decode(q.ids.subarray(q.ids.length - q.typedTokens));
      expect(doc.slice(0, offset).endsWith(typed)).toBe(true);
      expect(typed.length).toBeLessThanOrEqual(TYPED_LINES_MAX_CHARS);
      if (k > 1 && state.typedFrom !== typedFrom) {
        expect(offset - typedFrom).toBeGreaterThan(TYPED_LINES_MAX_CHARS); // moved on only past the bound
        moved++;
      }
      typedFrom = state.typedFrom;
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('keeps the standard layout where the tokenizer has no cut (SentencePiece) and for SPM models', () => {
    const text = 'def add(a, b):\n    return a\n';
    const offset = text.indexOf('return ') + 7;
    const psm = buildPrompt({ text, offset, languageId: 'python' }, qwen, detectPromptFormat(qwen), middle, new PromptState(null));
    expect(psm.typedTokens).toBe(0);
    expect(qwen.decode(psm.ids)).toBe(`<|fim_prefix|>${text.slice(0, offset)}<|fim_suffix|>${text.slice(offset)}<|fim_middle|>`);
    const s = buildPrompt({ text, offset, languageId: 'python' }, spm, detectPromptFormat(spm), middle, new PromptState(rule));
    expect(s.typedTokens).toBe(0);
    expect(spm.decode(s.ids)).toBe(`<|fim_prefix|><|fim_suffix|>${text.slice(offset)}<|fim_middle|>${text.slice(0, offset)}`);
  });
});

describe('token budget and prefix stability', () => {
  it('keeps the prompt within the budget and the suffix within its share', () => {
    const small = { ...budget, contextTokens: 200 };
    const p = buildPrompt({ text: code + code, offset: code.length, languageId: 'python' }, qwen, detectPromptFormat(qwen), small, new PromptState(rule));
    expect(p.ids.length).toBeLessThanOrEqual(200);
    expect(p.suffixTokens).toBeLessThanOrEqual(50);
    expect(p.prefix.length).toBeGreaterThan(0);
    expect(code.endsWith(p.prefix)).toBe(true);
  });

  it('starts consecutive prompts at the same place so the engine can reuse their prefix', () => {
    const small = { ...budget, contextTokens: 300 };
    const state = new PromptState(rule);
    const f = detectPromptFormat(qwen);
    const a = buildPrompt({ text: code, offset: code.length - 5, languageId: 'python' }, qwen, f, small, state);
    const b = buildPrompt({ text: code, offset: code.length - 4, languageId: 'python' }, qwen, f, small, state);
    expect(b.prefix.startsWith(a.prefix)).toBe(true);
    let common = 0;
    while (common < a.ids.length && a.ids[common] === b.ids[common]) common++;
    expect(common).toBeGreaterThan(a.prefixTokens - 4);
  });

  it('adds snippets from other documents only when the budget has room', () => {
    const f = detectPromptFormat(qwen);
    const snippets = () => [{ uri: 'file:///lib.py', text: 'def helper(x):\n    return x * 2', score: 1 }];
    const roomy = buildPrompt({ text: 'y = helper(', offset: 11, languageId: 'python', snippets }, qwen, f, budget, new PromptState(rule));
    expect(qwen.decode(roomy.ids)).toBe('<|fim_prefix|># Compare this snippet from /lib.py:\n# def helper(x):\n#     return x * 2\ny = helper(<|fim_suffix|><|fim_middle|>');
    const tight = buildPrompt({ text: code, offset: code.length, languageId: 'python', snippets }, qwen, f, { ...budget, contextTokens: 120 }, new PromptState(rule));
    expect(tight.snippetTokens).toBe(0);
  });
});

describe('token cache', () => {
  it('cuts Qwen2-style windows after a line break, GPT-2-style (the shipped model) before one, and SentencePiece nowhere', async () => {
    expect(lineSplitRule(qwen)).toBe('after-newline');
    expect(lineSplitRule(await Tokenizer.load(shippedModel))).toBe('before-newline');
    expect(lineSplitRule(await Tokenizer.load(stories260K))).toBe(null);
  });

  it('cuts a few lines up, where each rule allows', () => {
    const text = 'a\n  b;\nc\n  d\n\n  e\n  f\n  g';
    expect(text.slice(splitPoint(text, 'line-start'))).toBe('c\n  d\n\n  e\n  f\n  g');
    // not after the blank line's "\n" (it would split the run "\n\n")
    expect(text.slice(splitPoint(text, 'after-newline'))).toBe('  e\n  f\n  g');
    // before the "\n\n" that follows a non-space character
    expect(text.slice(splitPoint(text, 'before-newline'))).toBe('\n\n  e\n  f\n  g');
    expect(isSplitAt('x;  \n  y', 4, 'before-newline')).toBe(false);  // trailing spaces join the break
    expect(isSplitAt('x;\r\n  y', 2, 'before-newline')).toBe(true);
    expect(isSplitAt('x;\n  \n  y', 3, 'after-newline')).toBe(false);  // a blank line follows
  });

  it('gives the same ids as encoding the whole window, and reuses the head', () => {
    const cache = new TokenCache(rule);
    const a = cache.encode(qwen, code);
    expect(Array.from(a)).toEqual(Array.from(qwen.encode(code, { addSpecialTokens: false })));
    const more = `${code}de`;
    expect(Array.from(cache.encode(qwen, more))).toEqual(Array.from(qwen.encode(more, { addSpecialTokens: false })));
    expect(cache.hits).toBe(1);
    // Typing on: new lines extend the cached head instead of re-encoding it.
    const longer = `${more}f(x):\n    return 1\nz = 3\nw = 4\n`;
    expect(Array.from(cache.encode(qwen, longer))).toEqual(Array.from(qwen.encode(longer, { addSpecialTokens: false })));
    expect(cache.extensions).toBe(1);
  });

  /** A tokenizer that counts the characters it is given. */
  const counting = (tok: Tokenizer): { tok: Tokenizer; chars: () => number } => {
    let chars = 0;
    const wrapped = { encode: (t: string, o: { addSpecialTokens?: boolean }) => ((chars += t.length), tok.encode(t, o)) } as unknown as Tokenizer;
    return { tok: wrapped, chars: () => chars };
  };
  const workspace = ['lru-cache.ts', 'stats.ts'].map((f) => readFileSync(join(repoRoot, 'fixtures', 'workspace', 'src', f), 'utf8'));

  it('equals encoding the whole window through random edits of real code', async () => {
    const edits = ['x', ' ', '\n', '\n\n', '  ', '\t', ';', '\r\n', '}', '\n    foo(', '// c\n', 'é', ' \n', '\n  \n'];
    const shipped = await Tokenizer.load(shippedModel);
    // GPT-2's regex: the break takes the next line's indentation, and a whitespace run before it
    // takes the break (Qwen2's regex has punctuation take the break after it, which this small
    // test vocabulary, with no merge across it, cannot show)
    const holds = (tok: Tokenizer): SplitRule[] => (['after-newline', 'before-newline', 'line-start'] as const).filter((r) => splitRuleHolds(tok, r));
    expect(holds(qwen)).toContain('after-newline');
    expect(holds(shipped)).toEqual(['before-newline']);
    for (const tok of [qwen, shipped]) {
      for (const r of holds(tok)) {
        const cache = new TokenCache(r);
        const next = mulberry32(3);
        for (const file of workspace) {
          let text = file;
          let cursor = Math.floor(text.length / 2);
          let start = Math.max(0, cursor - 600);  // the window's start stays while typing (buildPrompt's anchor)
          for (let i = 0; i < 300; i++) {
            const roll = next();
            if (roll < 0.8) {
              const e = edits[Math.floor(next() * edits.length)]!;
              text = text.slice(0, cursor) + e + text.slice(cursor);
              cursor += e.length;
            } else if (roll < 0.95 && cursor > start) {
              text = text.slice(0, cursor - 1) + text.slice(cursor);
              cursor--;
            } else {
              cursor = Math.floor(next() * text.length);
              start = Math.max(0, cursor - 600);
            }
            const window = text.slice(start, cursor);
            expect(Array.from(cache.encode(tok, window)), `${r} edit ${i}`).toEqual(Array.from(tok.encode(window, { addSpecialTokens: false })));
          }
        }
        expect(cache.hits + cache.extensions, r).toBeGreaterThan(100);
      }
    }
  });

  it('re-encodes a few lines a keystroke when typing in indented code, where cutting at unindented lines finds no cut', async () => {
    // every line of the method bodies retyped after its indentation, a character at a time
    const text = workspace[0]!;
    const lines = text.split('\n');
    for (const tok of [qwen, await Tokenizer.load(shippedModel)]) {
      const encoded: Record<string, number> = {};
      for (const r of [lineSplitRule(tok)!, 'line-start'] as const) {
        const c = counting(tok);
        const cache = new TokenCache(r);
        let keystrokes = 0;
        for (let l = 20; l < lines.length; l += 7) {
          const indent = lines[l]!.length - lines[l]!.trimStart().length;
          if (indent < 4) continue;
          const lineStart = lines.slice(0, l).join('\n').length + 1;
          const start = Math.max(0, lineStart - 600);
          for (let k = indent; k <= lines[l]!.length; k++, keystrokes++) {
            const window = text.slice(start, lineStart + k);
            expect(Array.from(cache.encode(c.tok, window))).toEqual(Array.from(tok.encode(window, { addSpecialTokens: false })));
          }
        }
        encoded[r] = c.chars() / keystrokes;
      }
      const r = lineSplitRule(tok)!;
      expect(encoded[r], JSON.stringify(encoded)).toBeLessThan(encoded['line-start']! / 3);
    }
  });

  it('replaces lone surrogates before tokenizing', () => {
    expect(wellFormed('a\ud800b\udc00')).toBe('a\ufffdb\ufffd');
    expect(wellFormed('😀')).toBe('😀');
  });
});
