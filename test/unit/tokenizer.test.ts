/**
 * The Tokenizer (native/lib/tokenizer.ts): stories260K golden tokenizer cases (byte-fallback BPE,
 * SentencePiece leading space), the documented HF-vs-llama2.c differences, a byte-level BPE
 * tokenizer with the project's special tokens, and the streaming detokenizer's invariants.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../../native/lib/tokenizer.js';
import { SPECIAL_TOKENS, writeByteLevelTokenizer } from '../../bench/lib/byte-level-tokenizer.js';
import { mulberry32 } from '../../server/src/mulberry32.js';
import { stories260K } from '../helpers/paths.js';

interface Golden {
  tokenizer: { cases: { text: string; ids: number[] }[]; expected_differences: { text: string; llama2c_ids: number[] }[] };
  generation: { greedy_ids?: number[]; ids?: number[]; text: string; prompt_ids: number[] }[];
}

const rng = mulberry32;

/** Streams ids through a fresh decoder in the given chunk sizes; returns the emitted chunks (flush last). */
function stream(tok: Tokenizer, ids: number[], chunkSizes: (i: number) => number, skipSpecialTokens = false): string[] {
  const dec = tok.createStreamDecoder({ skipSpecialTokens });
  const out: string[] = [];
  for (let i = 0; i < ids.length; ) {
    const n = Math.max(1, Math.min(chunkSizes(i), ids.length - i));
    out.push(dec.push(ids.slice(i, i + n)));
    i += n;
  }
  out.push(dec.flush());
  return out;
}

/** Checks concat(stream) === decode(all) and that no chunk but the flush ends in an unfinished character. */
function expectStreamMatchesDecode(tok: Tokenizer, ids: number[], chunkSizes: (i: number) => number, skip = false): void {
  const chunks = stream(tok, ids, chunkSizes, skip);
  expect(chunks.join('')).toBe(tok.decode(ids, { skipSpecialTokens: skip }));
  for (const c of chunks.slice(0, -1)) {
    expect(c.endsWith('\uFFFD')).toBe(false);
    expect(/[\uD800-\uDBFF]$/.test(c)).toBe(false);
    expect(/<0x[0-9A-F]{2}>/.test(c)).toBe(false);
  }
}

describe('tokenizer on stories260K (byte-fallback BPE)', () => {
  let tok: Tokenizer;
  let golden: Golden;
  beforeAll(async () => {
    tok = await Tokenizer.load(stories260K);
    golden = JSON.parse(readFileSync(join(stories260K, 'golden.json'), 'utf8')) as Golden;
  });

  it('reads BOS, EOS and the vocabulary size from the folder', () => {
    expect(tok.bosTokenId).toBe(1);
    expect(tok.eosTokenIds).toEqual([2]);
    expect(tok.vocabSize).toBe(512);
    expect(tok.tokenId('<s>')).toBe(1);
    expect(tok.tokenId('</s>')).toBe(2);
    expect(tok.tokenId('<0xE2>')).toBe(3 + 0xe2);
    expect(tok.tokenId('<|fim_prefix|>')).toBeUndefined();
  });

  it('encodes every golden case to llama2.c ids (BOS included) and decodes it back to the text', () => {
    expect(golden.tokenizer.cases.length).toBe(53);
    for (const c of golden.tokenizer.cases) {
      expect({ text: c.text, ids: Array.from(tok.encode(c.text)) }).toEqual({ text: c.text, ids: c.ids });
      expect(tok.decode(c.ids, { skipSpecialTokens: true })).toBe(c.text);
    }
  });

  it('omits BOS when special tokens are not wanted', () => {
    expect(Array.from(tok.encode('Zoo', { addSpecialTokens: false }))).toEqual([410, 469, 347]);
    expect(Array.from(tok.encode('', { addSpecialTokens: false }))).toEqual([]);
  });

  it('decodes the golden generations to the golden texts', () => {
    const [fromBos, zoo] = golden.generation;
    expect(tok.decode(fromBos.greedy_ids!, { skipSpecialTokens: true })).toBe(fromBos.text);
    expect(tok.decode(zoo.ids!, { skipSpecialTokens: true })).toBe(zoo.text);
  });

  it('differs from llama2.c exactly as documented: special strings are control tokens, U+2581 is a space', () => {
    const diffs = new Map(golden.tokenizer.expected_differences.map((d) => [d.text, d.llama2c_ids]));
    expect(diffs.size).toBe(6);
    const plain = (s: string): number[] => Array.from(tok.encode(s, { addSpecialTokens: false }));
    // Special-token strings become ids 1, 2, 0; the Prepend('▁') normalizer runs on each segment.
    const expected: Record<string, number[]> = {
      '<s>': [1, 1],
      'a</s>b': [1, ...plain('a'), 2, ...plain('b')],
      '<unk>': [1, 0],
      'hello <s> world': [1, ...plain('hello '), 1, ...plain(' world')],
      // A literal ▁ reads as a space: the same ids as three spaces / two spaces.
      'a literal ▁ metaspace': Array.from(tok.encode('a literal   metaspace')),
      '▁▁': Array.from(tok.encode('  ')),
    };
    for (const [text, llama2c] of diffs) {
      const ids = Array.from(tok.encode(text));
      expect({ text, ids }).toEqual({ text, ids: expected[text] });
      expect(ids).not.toEqual(llama2c);
    }
    expect(Array.from(tok.encode('▁▁'))).toEqual([1, 410, 410, 410]);
  });

  it('decodes an empty list and unknown ids to the empty string', () => {
    expect(tok.decode([])).toBe('');
    expect(tok.decode([100000, -1])).toBe('');
  });

  it('streams multi-byte characters split across byte-fallback tokens only once they are complete', () => {
    const text = 'emoji 😀👍🏽 日本語 café ☕';
    const ids = Array.from(tok.encode(text));
    const dec = tok.createStreamDecoder({ skipSpecialTokens: true });
    const chunks = ids.map((id) => dec.push([id]));
    chunks.push(dec.flush());
    expect(chunks.join('')).toBe(text);
    // Every emitted chunk is whole characters: re-encoding it as UTF-8 round-trips.
    for (const c of chunks) expect(new TextDecoder('utf-8', { fatal: true }).decode(new TextEncoder().encode(c))).toBe(c);
    // '😀' = F0 9F 98 80: nothing after its first three byte tokens, the whole emoji with the fourth.
    const start = ids.indexOf(3 + 0xf0);
    expect(chunks.slice(start, start + 3)).toEqual(['', '', '']);
    expect(chunks[start + 3]).toBe('😀');
    // '日' = E6 97 A5.
    const ri = ids.indexOf(3 + 0xe6);
    expect(chunks.slice(ri, ri + 3)).toEqual(['', '', '日']);
  });

  it('keeps the SentencePiece leading-space rule: the first piece loses its space, later ones keep it', () => {
    const ids = [1, 403, 407, 261, 378]; // <s> ▁Once ▁upon ▁a ▁time
    expect(stream(tok, ids, () => 1, true)).toEqual(['', 'Once', ' upon', ' a', ' time', '']);
    expect(stream(tok, ids, () => 1, false)).toEqual(['<s>', ' Once', ' upon', ' a', ' time', '']);
    expect(stream(tok, [410, 410, 261], () => 1)).toEqual(['', ' ', ' a', '']); // ▁ ▁ ▁a
  });

  it('flushes an unfinished byte sequence as decode() renders it', () => {
    const dec = tok.createStreamDecoder();
    expect(dec.push([261, 3 + 0xe2, 3 + 0x98])).toBe(' a'.slice(1));
    expect(dec.flush()).toBe(tok.decode([261, 3 + 0xe2, 3 + 0x98]).slice(1));
    expect(tok.decode([261, 3 + 0xe2, 3 + 0x98]).endsWith('\uFFFD')).toBe(true);
  });

  it('keeps a space that follows a long run of skipped special tokens', () => {
    const story = golden.generation[0].greedy_ids!.slice(0, 30);
    const ids = [...story, ...new Array<number>(30).fill(1), 410, 261]; // ... <s>x30 ▁ ▁a
    for (const size of [1, 2, 7]) expectStreamMatchesDecode(tok, ids, () => size, true);
    expect(tok.decode(ids, { skipSpecialTokens: true }).endsWith('  a')).toBe(true);
  });

  it('matches decode() on random id streams in random chunk sizes, long enough to re-anchor its window', () => {
    const rand = rng(260);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 120);
      const ids: number[] = [];
      for (let i = 0; i < n; i++) {
        // Half the time a byte-fallback token, to produce valid and broken UTF-8 runs.
        ids.push(rand() < 0.5 ? 3 + 0x80 + Math.floor(rand() * 0x70) : Math.floor(rand() * 512));
      }
      const maxChunk = 1 + Math.floor(rand() * 5);
      const sizes = ids.map(() => 1 + Math.floor(rand() * maxChunk));
      expectStreamMatchesDecode(tok, ids, (i) => sizes[i], trial % 2 === 0);
    }
  });
});

describe('tokenizer on a byte-level BPE folder with FIM special tokens', () => {
  let dir: string;
  let tok: Tokenizer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipstream-tok-'));
    writeByteLevelTokenizer(dir);
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [SPECIAL_TOKENS.length + 1000, 0] }));
    tok = await Tokenizer.load(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has no BOS, resolves the special tokens, and unions EOS ids from generation_config and tokenizer_config', () => {
    expect(tok.bosTokenId).toBeNull();
    const ids = SPECIAL_TOKENS.map((t) => tok.tokenId(t));
    expect(ids.every((id) => typeof id === 'number')).toBe(true);
    expect(new Set(ids).size).toBe(SPECIAL_TOKENS.length);
    expect(tok.eosTokenIds).toEqual([SPECIAL_TOKENS.length + 1000, 0, tok.tokenId('<|endoftext|>')]);
    expect(tok.isSpecial(tok.tokenId('<|fim_middle|>')!)).toBe(true);
    expect(tok.isSpecial(5)).toBe(false);
  });

  it('round-trips code and unicode exactly and adds no BOS', () => {
    const texts = ['def f(self):\n    return self.x  # ok\n', 'x = 1\t\r\n', '日本語 ☕ 😀👍🏽', '', ' leading', "it's"];
    for (const t of texts) {
      const ids = tok.encode(t);
      expect(tok.decode(ids)).toBe(t);
      if (t !== '') expect(ids[0]).not.toBe(tok.tokenId('<|endoftext|>'));
    }
    expect(tok.encode('    return').length).toBe(2); // '    ' and ' return' are merged pieces
  });

  it('turns FIM marker strings into single control tokens and can skip them when decoding', () => {
    const prompt = '<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>';
    const ids = Array.from(tok.encode(prompt));
    expect(ids[0]).toBe(tok.tokenId('<|fim_prefix|>'));
    expect(ids.at(-1)).toBe(tok.tokenId('<|fim_middle|>'));
    expect(ids).toContain(tok.tokenId('<|fim_suffix|>'));
    expect(tok.decode(ids)).toBe(prompt);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('def f():\n');
  });

  it('streams a character split inside a merged piece only when it completes', () => {
    // '☕' = E2 98 95: the vocabulary has a merged piece for E2 98, so the stream sees [E2 98][95].
    const ids = Array.from(tok.encode('a☕'));
    expect(ids.length).toBe(3);
    expect(stream(tok, ids, () => 1)).toEqual(['a', '', '☕', '']);
    // '😀' = F0 9F 98 80 with a merged piece for F0 9F 98.
    expect(stream(tok, Array.from(tok.encode('😀😀')), () => 1)).toEqual(['', '😀', '', '😀', '']);
  });

  it('matches decode() on random id streams including special tokens', () => {
    const rand = rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rand() * 100);
      const ids = Array.from({ length: n }, () => Math.floor(rand() * tok.vocabSize));
      const sizes = ids.map(() => 1 + Math.floor(rand() * 4));
      expectStreamMatchesDecode(tok, ids, (i) => sizes[i], trial % 2 === 1);
    }
  });
});

describe('tokenizer configuration rules', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const folder = (edit: (cfg: Record<string, unknown>, tj: Record<string, unknown>) => void): string => {
    const dir = mkdtempSync(join(tmpdir(), 'slipstream-tok-'));
    dirs.push(dir);
    writeByteLevelTokenizer(dir);
    const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const tj = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    edit(cfg, tj);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(cfg));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tj));
    return dir;
  };

  it('adds BOS and EOS when tokenizer_config.json says add_bos_token / add_eos_token', async () => {
    const tok = await Tokenizer.load(folder((cfg) => Object.assign(cfg, { bos_token: '<|file_sep|>', add_bos_token: true, add_eos_token: true })));
    const ids = Array.from(tok.encode('hi'));
    expect(ids[0]).toBe(tok.tokenId('<|file_sep|>'));
    expect(ids.at(-1)).toBe(tok.tokenId('<|endoftext|>'));
    expect(Array.from(tok.encode('hi', { addSpecialTokens: false }))).toEqual(ids.slice(1, -1));
  });

  it("uses tokenizer.json's post-processor when the config has no add_bos_token (Llama 3 layout)", async () => {
    const tok = await Tokenizer.load(folder((cfg, tj) => {
      cfg.bos_token = '<|file_sep|>';
      const id = (tj.added_tokens as { id: number; content: string }[]).find((t) => t.content === '<|file_sep|>')!.id;
      tj.post_processor = {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<|file_sep|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<|file_sep|>': { id: '<|file_sep|>', ids: [id], tokens: ['<|file_sep|>'] } },
      };
    }));
    expect(Array.from(tok.encode('hi'))[0]).toBe(tok.tokenId('<|file_sep|>'));
    expect(tok.bosTokenId).toBe(tok.tokenId('<|file_sep|>'));
    expect(Array.from(tok.encode('hi', { addSpecialTokens: false }))[0]).not.toBe(tok.tokenId('<|file_sep|>'));
  });

  it('keeps streaming equal to decode when clean_up_tokenization_spaces rewrites " ." and " n\'t"', async () => {
    const tok = await Tokenizer.load(folder((cfg) => Object.assign(cfg, { clean_up_tokenization_spaces: true })));
    const ids = Array.from(tok.encode("It is . I don ' t , you 're not 's ?"));
    expect(tok.decode(ids)).not.toContain(' .');
    for (const size of [1, 2, 3]) expectStreamMatchesDecode(tok, ids, () => size);
    const rand = rng(11);
    const alphabet = Array.from(" .,?!'ntsmrve", (c) => tok.encode(c, { addSpecialTokens: false })[0]);
    for (let trial = 0; trial < 300; trial++) {
      const rids = Array.from({ length: 1 + Math.floor(rand() * 40) }, () => alphabet[Math.floor(rand() * alphabet.length)]);
      expectStreamMatchesDecode(tok, rids, () => 1 + Math.floor(rand() * 3));
    }
  });

  it('names the file when tokenizer.json is missing or not JSON', async () => {
    const dir = folder(() => {});
    writeFileSync(join(dir, 'tokenizer.json'), '{ nope');
    await expect(Tokenizer.load(dir)).rejects.toThrow(`${join(dir, 'tokenizer.json')}: invalid JSON`);
    rmSync(join(dir, 'tokenizer.json'));
    await expect(Tokenizer.load(dir)).rejects.toMatchObject({ code: 'ENGINE_BAD_MODEL', message: `${join(dir, 'tokenizer.json')}: file not found` });
  });
});
