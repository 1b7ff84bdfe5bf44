/**
 * The text of a suggestion: generated ids decoded with the shipped byte-level tokenizer never
 * carry a U+FFFD the model did not generate (a stray continuation byte after an emoji, an
 * unfinished character at the end), and suggestions take the document's line ending.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../../../native/lib/tokenizer.js';
import { decodeContinuation } from '../../../server/src/completion/context.js';
import { lineEndingAt, toLf, withLineEnding } from '../../../server/src/completion/line-endings.js';
import { repoRoot } from '../../helpers/paths.js';

let tok: Tokenizer;
const ids = (s: string): number[] => Array.from(tok.encode(s, { addSpecialTokens: false }));
beforeAll(async () => {
  tok = await Tokenizer.load(join(repoRoot, 'fixtures', 'models', 'slipstream-code'));
});

describe('decodeContinuation', () => {
  it('drops the stray continuation bytes the shipped model emits after an emoji', () => {
    // What slipstream-code generated greedily after "// 😀": 0x94, " ", E2 80 94 ("—"), " ", E2 80.
    const prompt = Int32Array.from(ids('function f() {\n  // 😀'));
    const em = ids('—');
    expect(em).toHaveLength(3); // one token per byte: E2 80 94
    const generated = [em[2]!, ...ids(' '), ...em, ...ids(' '), em[0]!, em[1]!];
    expect(tok.decode(generated)).toContain('\uFFFD');
    expect(decodeContinuation(tok, prompt, generated)).toBe(' — ');
  });

  it('holds back a character split across tokens until its last byte arrives', () => {
    const prompt = Int32Array.from(ids('x = "'));
    const cjk = ids('日本');
    for (let n = 1; n <= cjk.length; n++) {
      const expected = n < 3 ? '' : n < 6 ? '日' : '日本';
      expect(decodeContinuation(tok, prompt, cjk.slice(0, n))).toBe(expected);
    }
  });

  it('keeps a U+FFFD the model generated as a character', () => {
    const prompt = Int32Array.from(ids('s = "'));
    expect(decodeContinuation(tok, prompt, ids('a\uFFFDb"'))).toBe('a\uFFFDb"');
  });
});

describe('line endings', () => {
  it('takes the line ending of the cursor line, of the line before on the last line, else LF', () => {
    expect(lineEndingAt('a\r\nb\r\n', 1)).toBe('\r\n');
    expect(lineEndingAt('a\r\nb', 4)).toBe('\r\n');
    expect(lineEndingAt('a\nb\r\nc', 1)).toBe('\n');
    expect(lineEndingAt('a\rb', 3)).toBe('\r');
    expect(lineEndingAt('abc', 1)).toBe('\n');
  });

  it('writes an LF suggestion with CR LF and normalises a CR LF one to LF', () => {
    expect(withLineEnding('a();\nb();', '\r\n')).toBe('a();\r\nb();');
    expect(toLf('a();\r\nb();')).toBe('a();\nb();');
  });
});
