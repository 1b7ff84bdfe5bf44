/**
 * Token healing's pure functions (server/src/completion/token-healing.ts) on real tokenizers: the
 * shipped model's byte-level BPE, stories260K's SentencePiece with byte fallback and a Qwen2-style
 * byte-level tokenizer (bench/lib/byte-level-tokenizer.ts). At a line start after indentation and
 * inside an identifier the prompt backs off by the partial token(s), the removed text is exactly
 * the end of the text before the cursor, the healed ids are the original ones minus the removed
 * ones (in SPM, PSM and prefix-only layouts, and PSM with the typed lines after the suffix), and the limits hold. stripHealed leaves what follows
 * the cursor. A small fake vocabulary (named so) pins the edge cases: duplicate pieces, a split
 * UTF-8 character, special tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeByteLevelTokenizer } from '../../../bench/lib/byte-level-tokenizer.js';
import { Tokenizer } from '../../../native/lib/tokenizer.js';
import type { TokenBytes } from '../../../native/lib/token-bytes.js';
import { buildPrompt, PromptState } from '../../../server/src/completion/context.js';
import { detectPromptFormat } from '../../../server/src/completion/prompt-format.js';
import { HEALING_LIMITS, HealingVocab, healingVocab, healPrompt, healTail, stripHealed } from '../../../server/src/completion/token-healing.js';
import { lineSplitRule } from '../../../server/src/completion/token-cache.js';
import { shippedModel, stories260K } from '../../helpers/paths.js';

const shipped = shippedModel;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

let tmp: string;
let qwen2Dir: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'token-healing-'));
  qwen2Dir = join(tmp, 'qwen2');
  writeByteLevelTokenizer(qwen2Dir);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function load(dir: string): Promise<{ tok: Tokenizer; vocab: HealingVocab }> {
  const tok = await Tokenizer.load(dir);
  return { tok, vocab: healingVocab(tok.tokenBytes(tok.vocabSize)) };
}

/** healTail on the whole encoded text, checked against what it claims. */
function heal(tok: Tokenizer, vocab: HealingVocab, text: string) {
  const ids = tok.encode(text, { addSpecialTokens: false });
  const h = healTail(ids, ids.length, vocab, text);
  if (h) {
    expect(text.endsWith(h.text), JSON.stringify(h)).toBe(true);
    expect(h.tokens).toBeLessThanOrEqual(HEALING_LIMITS.tokens);
    expect(h.bytes).toBeLessThanOrEqual(HEALING_LIMITS.bytes);
    const removed = Array.from(ids.subarray(ids.length - h.tokens)).flatMap((id) => Array.from(vocab.bytesOf(id)));
    expect(Uint8Array.from(removed)).toEqual(utf8(h.text));
    expect(h.bytes).toBe(utf8(h.text).length);
  }
  return h;
}

const CASES = [
  'export function clamp(x: number): number {\n    ',
  'export function clamp(x: number): number {\n    retu',
  'class A {\n\tget(key: string) {\n\t\t',
  'const config = JSON.par',
  'if (x) {\n  ',
];

describe('token healing', () => {
  it('backs off the indentation token and the partial identifier on the shipped byte-level tokenizer', async () => {
    const { tok, vocab } = await load(shipped);
    // the indentation the editor typed is one token the model writes with the next word attached
    expect(heal(tok, vocab, 'export function clamp(x: number): number {\n    ')?.text).toMatch(/ {4}$/);
    // "retu" is " ret" + "u": both go, " retu" starts " return"
    expect(heal(tok, vocab, 'export function clamp(x: number): number {\n    retu')).toMatchObject({ tokens: 2, text: ' retu' });
    expect(heal(tok, vocab, 'class A {\n\tget(key: string) {\n\t\t')?.text).toMatch(/\t\t$/);
    for (const c of CASES) expect(heal(tok, vocab, c), c).not.toBeNull();
  });

  it('heals on stories260K (SentencePiece, byte fallback, duplicate byte pieces)', async () => {
    const { tok, vocab } = await load(stories260K);
    expect(heal(tok, vocab, 'Once upon a')).toEqual({ tokens: 1, text: ' a', bytes: 2 });
    // 'u' is both a piece and <0x75>: the duplicate must not hide the longer pieces ('un')
    expect(heal(tok, vocab, 'The dog ran retu')?.text).toBe('u');
    // a run of spaces is several ' ' pieces: the last one goes
    expect(heal(tok, vocab, 'The dog {\n    ')).toMatchObject({ tokens: 1, text: ' ' });
    for (const c of CASES) heal(tok, vocab, c);
  });

  it('heals on a Qwen2-style byte-level tokenizer', async () => {
    const { tok, vocab } = await load(qwen2Dir);
    const h = heal(tok, vocab, 'def f(self):\n   ');
    expect(h).not.toBeNull();
    expect(h!.text.endsWith(' ')).toBe(true);
    expect(heal(tok, vocab, 'x = 1\n    retu')).toMatchObject({ tokens: 1, text: ' retu' });
    for (const c of CASES) heal(tok, vocab, c);
  });

  it('cuts the healed tokens out of the prompt where the prefix ends, in every layout', async () => {
    for (const dir of [shipped, stories260K, qwen2Dir]) {
      const { tok, vocab } = await load(dir);
      const format = detectPromptFormat(tok);
      const layouts = format.kind === 'fim' ? [format, { ...format, order: format.order === 'psm' ? 'spm' as const : 'psm' as const }] : [format];
      for (const f of layouts) {
        const text = 'function area(r: number) {\n    for (const x i\n}\n';
        const offset = text.indexOf('x i') + 'x i'.length;
        const budget = { contextTokens: 256, suffixShare: 0.25, maxTokens: 16, maxContext: 1024 };
        const prompt = buildPrompt({ text, offset, languageId: 'typescript' }, tok, f, budget, new PromptState(null));
        const { ids, healing } = healPrompt(prompt, f, vocab);
        expect(healing, `${dir} ${f.kind}`).not.toBeNull();
        expect(ids.length).toBe(prompt.ids.length - healing!.tokens);
        const prefixIds = tok.encode(prompt.prefix, { addSpecialTokens: false });
        const cut = prefixIds.length - healing!.tokens;
        const healedPrefix = Array.from(prefixIds.subarray(0, cut));
        // the healed prompt holds the prefix's ids up to the cut, and everything else unchanged
        const all = Array.from(ids);
        const at = all.findIndex((_, i) => healedPrefix.every((id, k) => all[i + k] === id));
        expect(at, `${dir} ${f.kind}`).toBeGreaterThanOrEqual(0);
        const before = Array.from(prompt.ids);
        expect([...all.slice(0, at + cut), ...Array.from(prefixIds.subarray(cut)), ...all.slice(at + cut)]).toEqual(before);
        expect(healing!.text, `${dir} ${f.kind}`).toBe(' i');
      }
    }
  });

  it('backs off the end of the typed lines where a PSM prompt puts them after the suffix (psmTypedLines middle)', async () => {
    const { tok, vocab } = await load(qwen2Dir);
    const format = detectPromptFormat(tok);
    const text = 'function area(r: number) {\n    for (const x i\n}\n';
    const offset = text.indexOf('x i') + 'x i'.length;
    const budget = { contextTokens: 256, suffixShare: 0.25, maxTokens: 16, maxContext: 1024, psmTypedLines: 'middle' as const };
    const prompt = buildPrompt({ text, offset, languageId: 'typescript' }, tok, format, budget, new PromptState(lineSplitRule(tok)));
    expect(prompt.typedTokens).toBeGreaterThan(1);
    const { ids, healing } = healPrompt(prompt, format, vocab);
    expect(healing).toMatchObject({ text: ' i' });
    // the prompt's last ids (the typed lines' end) go, nothing else
    expect(Array.from(ids)).toEqual(Array.from(prompt.ids.subarray(0, prompt.ids.length - healing!.tokens)));
  });

  it('respects the token and byte limits', async () => {
    const { tok, vocab } = await load(shipped);
    const text = 'export function clamp(x: number): number {\n    retu';
    const ids = tok.encode(text, { addSpecialTokens: false });
    expect(healTail(ids, ids.length, vocab, text, { tokens: 1, bytes: 32 })).toMatchObject({ tokens: 1, text: 'u' });
    expect(healTail(ids, ids.length, vocab, text, { tokens: 3, bytes: 2 })).toMatchObject({ tokens: 1, text: 'u' });
    expect(healTail(ids, ids.length, vocab, text, { tokens: 3, bytes: 0 })).toBeNull();
  });

  it('takes the healed text off the output', () => {
    expect(stripHealed('    return x;', '    ')).toBe('return x;');
    expect(stripHealed(' return x;', ' retu')).toBe('rn x;');
    expect(stripHealed('  ', '    ')).toBe(''); // not yet written in full
    expect(stripHealed('foo', '    ')).toBe(''); // disagrees: never shown
    expect(stripHealed('foo', '')).toBe('foo');
  });
});

/** A fake token table (for the edge cases): pieces as UTF-8 strings or bytes, `special` flags by index. */
function fakeTable(pieces: (string | number[])[], special: number[] = []): TokenBytes {
  const parts = pieces.map((p) => (typeof p === 'string' ? utf8(p) : Uint8Array.from(p)));
  const offsets = new Uint32Array(parts.length + 1);
  parts.forEach((p, i) => (offsets[i + 1] = offsets[i]! + p.length));
  const bytes = new Uint8Array(offsets[parts.length]!);
  parts.forEach((p, i) => bytes.set(p, offsets[i]!));
  const sp = new Uint8Array(parts.length);
  for (const i of special) sp[i] = 1;
  return { bytes, offsets, special: sp };
}

describe('token healing on a fake vocabulary', () => {
  it('finds longer tokens past duplicate exact matches', () => {
    const v = new HealingVocab(fakeTable(['a', 'a', 'a', 'ab', 'b']));
    expect(v.hasLongerToken(utf8('a'))).toBe(true);
    expect(v.hasLongerToken(utf8('b'))).toBe(false);
    expect(v.hasLongerToken(utf8('ab'))).toBe(false);
    expect(v.hasLongerToken(utf8('c'))).toBe(false);
  });

  it('never removes special tokens, and heals a split character only as a whole', () => {
    // '☕' is e2 98 95: tokens [e2 98] [95], and a longer token [e2 98 95 21] ('☕!')
    const t = fakeTable(['<s>', [0xe2, 0x98], [0x95], [0xe2, 0x98, 0x95, 0x21], 'x', 'xy'], [0]);
    const v = new HealingVocab(t);
    expect(v.usable(0)).toBe(false);
    expect(healTail([0, 4], 2, v, 'x')).toEqual({ tokens: 1, text: 'x', bytes: 1 });
    expect(healTail([0], 1, v, '')).toBeNull();
    // [95] alone is no character and no token starts with it: nothing
    expect(healTail([4, 1, 2], 3, v, 'x☕')).toBeNull();
    const v2 = new HealingVocab(fakeTable(['<s>', [0xe2, 0x98], [0x95], [0xe2, 0x98, 0x95, 0x21], [0x95, 0x21]], [0]));
    // [95] has a longer token but is half a character; with [e2 98] it is '☕', which '☕!' extends
    expect(healTail([0, 1, 2], 3, v2, '☕')).toEqual({ tokens: 2, text: '☕', bytes: 3 });
  });

  it('leaves text the tokens do not write (a dummy prefix) alone', () => {
    const v = new HealingVocab(fakeTable([' a', ' ab']));
    expect(healTail([0], 1, v, 'a')).toBeNull();
    expect(healTail([0], 1, v, 'x a')).toEqual({ tokens: 1, text: ' a', bytes: 2 });
  });
});
