/**
 * Document text that spells a special token ("<|endoftext|>" in a file being edited) is encoded
 * as plain text when literalSpecials is set, so a FIM prompt cannot be cut short by user content.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPECIAL_TOKENS, writeByteLevelTokenizer } from '../../bench/lib/byte-level-tokenizer.js';
import { Tokenizer } from '../../native/lib/tokenizer.js';
import { stories260K } from '../helpers/paths.js';

describe('Tokenizer literal special-token strings', () => {
  let dir: string;
  let tok: Tokenizer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipstream-tok-literal-'));
    writeByteLevelTokenizer(dir);
    tok = await Tokenizer.load(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('encodes a special-token string in text as a control token by default (HF semantics)', () => {
    const ids = tok.encode('a<|endoftext|>b', { addSpecialTokens: false });
    expect(Array.from(ids)).toContain(tok.tokenId('<|endoftext|>'));
  });

  it('encodes every special-token string as ordinary text with literalSpecials, and decodes it back', () => {
    const text = `x = "${SPECIAL_TOKENS.join('" + "')}"; <|fim_prefix|><|fim_prefix|>`;
    const ids = tok.encode(text, { addSpecialTokens: false, literalSpecials: true });
    for (const id of ids) expect(tok.isSpecial(id)).toBe(false);
    expect(tok.decode(ids)).toBe(text);
  });

  it('encodes text without special-token strings exactly as plain encode does', () => {
    const text = 'export function f(a: number) { return a < 2 ? a : f(a - 1); }';
    expect(Array.from(tok.encode(text, { addSpecialTokens: false, literalSpecials: true }))).toEqual(
      Array.from(tok.encode(text, { addSpecialTokens: false })),
    );
  });
});

describe('Tokenizer literal special-token strings on a SentencePiece tokenizer', () => {
  it('keeps HF semantics, since cutting the text would add "▁" spaces', async () => {
    const tok = await Tokenizer.load(stories260K);
    const text = 'Tom said <s> and </s> ok';
    expect(Array.from(tok.encode(text, { addSpecialTokens: false, literalSpecials: true }))).toEqual(
      Array.from(tok.encode(text, { addSpecialTokens: false })),
    );
  });
});
