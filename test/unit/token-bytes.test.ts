/**
 * Tokenizer.tokenBytes (native/lib/token-bytes.ts): what each token writes, as bytes, for the
 * engine's required-prefix constraint. On the shipped model's byte-level BPE, stories260K's
 * SentencePiece with byte fallback and a Qwen2-style byte-level tokenizer: the bytes of an encoded
 * text's tokens concatenate to the text's UTF-8 (SentencePiece: after the space it prepends),
 * including emoji, CJK and raw-byte pieces; special tokens write nothing and are flagged; ids past
 * the tokenizer write nothing; a tokenizer of neither spelling is refused.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPECIAL_TOKENS, writeByteLevelTokenizer } from '../../bench/lib/byte-level-tokenizer.js';
import { Tokenizer } from '../../native/lib/tokenizer.js';
import type { TokenBytes } from '../../native/lib/token-bytes.js';
import { repoRoot, stories260K } from '../helpers/paths.js';

const shipped = join(repoRoot, 'fixtures', 'models', 'slipstream-code');

const TEXTS = [
  'export function clamp(x: number, lo: number, hi: number): number {\n    return Math.min(hi, Math.max(lo, x));\n}\n',
  '\tconst s = `${a} ☕ ${b}`; // 日本語のコメント 😀\r\n',
  'Once upon a time, there was a little girl named Lily.',
  '    \n        retu',
  'naïve café — “quotes” and ½',
];

function bytesOf(table: TokenBytes, ids: ArrayLike<number>): Uint8Array {
  const parts: number[] = [];
  for (let i = 0; i < ids.length; i++) for (let j = table.offsets[ids[i]!]!; j < table.offsets[ids[i]! + 1]!; j++) parts.push(table.bytes[j]!);
  return Uint8Array.from(parts);
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

let tmp: string;
let qwen2Dir: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'token-bytes-'));
  qwen2Dir = join(tmp, 'qwen2');
  writeByteLevelTokenizer(qwen2Dir);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('token bytes', () => {
  it('concatenate to the text on the shipped byte-level BPE tokenizer', async () => {
    const tok = await Tokenizer.load(shipped);
    expect(tok.pieceSpelling).toBe('byte-level');
    const table = tok.tokenBytes(4096);
    for (const text of TEXTS) expect(bytesOf(table, tok.encode(text, { addSpecialTokens: false }))).toEqual(utf8(text));
    const eot = tok.tokenId('<|endoftext|>')!;
    expect(table.special[eot]).toBe(1);
    expect(table.offsets[eot + 1]! - table.offsets[eot]!).toBe(0);
  });

  it('concatenate to the text after the prepended space on stories260K (SentencePiece, byte fallback)', async () => {
    const tok = await Tokenizer.load(stories260K);
    expect(tok.pieceSpelling).toBe('sentencepiece');
    const table = tok.tokenBytes(512);
    for (const text of TEXTS) {
      const ids = tok.encode(text, { addSpecialTokens: false });
      expect(bytesOf(table, ids)).toEqual(utf8(` ${text}`));
    }
    // raw-byte pieces write their one byte; '▁' is a space; <s> </s> <unk> write nothing
    expect(bytesOf(table, [tok.tokenId('<0xE2>')!])).toEqual(Uint8Array.of(0xe2));
    expect(bytesOf(table, [tok.tokenId('▁a')!])).toEqual(utf8(' a'));
    for (const s of ['<s>', '</s>', '<unk>']) {
      const id = tok.tokenId(s)!;
      expect(table.special[id]).toBe(1);
      expect(bytesOf(table, [id]).length).toBe(0);
    }
  });

  it('concatenate to the text on a Qwen2-style byte-level tokenizer, partial UTF-8 pieces included', async () => {
    const tok = await Tokenizer.load(qwen2Dir);
    expect(tok.pieceSpelling).toBe('byte-level');
    const table = tok.tokenBytes();
    for (const text of TEXTS) expect(bytesOf(table, tok.encode(text, { addSpecialTokens: false }))).toEqual(utf8(text));
    // a merged piece holding the first two bytes of '☕' writes exactly those bytes
    const cup = utf8('☕');
    const ids = tok.encode('☕', { addSpecialTokens: false });
    expect(bytesOf(table, ids.subarray(0, 1))).toEqual(cup.subarray(0, 2));
    for (const s of SPECIAL_TOKENS) expect(table.special[tok.tokenId(s)!]).toBe(1);
  });

  it('write nothing for ids past the tokenizer (a padded embedding)', async () => {
    const tok = await Tokenizer.load(qwen2Dir);
    const table = tok.tokenBytes(tok.vocabSize + 10);
    expect(table.offsets.length).toBe(tok.vocabSize + 11);
    for (let id = tok.vocabSize; id < tok.vocabSize + 10; id++) expect(table.offsets[id + 1]).toBe(table.offsets[id]);
  });

  it('are refused for a tokenizer that is neither byte-level nor SentencePiece', async () => {
    const dir = join(tmp, 'wordpiece');
    writeByteLevelTokenizer(dir);
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    json.decoder = { type: 'WordPiece', prefix: '##', cleanup: true };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const tok = await Tokenizer.load(dir);
    expect(tok.pieceSpelling).toBeNull();
    expect(() => tok.tokenBytes()).toThrow(expect.objectContaining({ code: 'ENGINE_UNSUPPORTED' }));
  });
});
