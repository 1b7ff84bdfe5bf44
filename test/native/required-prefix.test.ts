/**
 * generate({ requiredPrefix }) (#21, docs/engine.md "The required prefix"), as token healing uses
 * it: text is cut mid-token, the prompt backs off its last token, and the output must start with
 * the removed bytes. On the shipped model with its trained drafter (bf16) and on stories260K with
 * random drafters, for many cut points: every output starts with the removed bytes, and greedy
 * ReDrafter equals greedy plain decoding under the constraint, for several (M, L) and with extra
 * drafts. Also: the constraint changes what an unconstrained model would write at such cuts, and
 * bad uses are refused with clear errors.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Drafter, EngineError, Model, Tokenizer, type GenerateOptions, type Session, type TokenBytes } from '../../native/lib/index.js';
import { drain } from '../helpers/engine-compare.js';
import { writeDrafterFolder } from '../helpers/random-drafter.js';
import { repoRoot, stories260K } from '../helpers/paths.js';

const shippedModel = join(repoRoot, 'fixtures', 'models', 'slipstream-code');
const shippedDrafter = join(repoRoot, 'fixtures', 'models', 'slipstream-code-drafter');

const CODE = [
  'export function clamp(x: number, lo: number, hi: number): number {\n    return Math.min(hi, Math.max(lo, x));\n}\n',
  "import { readFileSync } from 'node:fs';\n\nconst config = JSON.parse(readFileSync(path, 'utf8'));\n",
  'class LRUCache<K, V> {\n  private map = new Map<K, V>();\n  get(key: K): V | undefined {\n',
];
const STORY = ['Once upon a time, there was a little girl named Lily. She loved to play outside.', 'The dog ran to the park.'];

interface Healed {
  prompt: Int32Array;
  removed: Uint8Array;
}

/** The bytes a list of ids writes. */
function bytesOf(table: TokenBytes, ids: ArrayLike<number>): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) for (let j = table.offsets[ids[i]!]!; j < table.offsets[ids[i]! + 1]!; j++) out.push(table.bytes[j]!);
  return Uint8Array.from(out);
}

function startsWith(a: Uint8Array, p: Uint8Array): boolean {
  return a.length >= p.length && p.every((b, i) => a[i] === b);
}

/**
 * Prompts cut at `count` points of each text, every one backed off by its last token (the
 * cursor's partial token): the prompt keeps the tokens before it, the removed bytes are required.
 */
function healedPrompts(tok: Tokenizer, table: TokenBytes, texts: string[], count: number): Healed[] {
  const out: Healed[] = [];
  for (const text of texts) {
    for (let k = 1; k <= count; k++) {
      const ids = tok.encode(text.slice(0, Math.floor((k * text.length) / (count + 1))));
      if (ids.length < 2 || tok.isSpecial(ids[ids.length - 1]!)) continue;
      out.push({ prompt: ids.subarray(0, ids.length - 1), removed: bytesOf(table, ids.subarray(ids.length - 1)) });
    }
  }
  return out;
}

async function run(s: Session, prompt: Int32Array, opts: GenerateOptions): Promise<Int32Array> {
  return (await drain(s.generate(prompt, opts))).result.ids;
}

/** Greedy plain vs ReDrafter under the constraint on every healed prompt; returns how many plain outputs the constraint changed. */
async function checkParity(model: Model, tok: Tokenizer, drafters: Drafter[], cases: Healed[], configs: [number, number][], n: number): Promise<number> {
  const table = tok.tokenBytes(model.info.vocabSize);
  model.setTokenBytes(table);
  const s = model.createSession({ maxContext: 512 });
  let changed = 0;
  for (const { prompt, removed } of cases) {
    const plain = await run(s, prompt, { maxTokens: n, stopTokens: [], requiredPrefix: removed });
    expect(startsWith(bytesOf(table, plain), removed), tok.decode(plain)).toBe(true);
    const free = await run(s, prompt, { maxTokens: n, stopTokens: [] });
    if (!startsWith(bytesOf(table, free), removed)) changed++;
    for (const d of drafters) {
      for (const [M, L] of configs) {
        const r = await run(s, prompt, { maxTokens: n, stopTokens: [], requiredPrefix: removed, mode: 'redrafter', drafter: d, beams: M, beamLength: L });
        expect(Array.from(r), `M=${M} L=${L} ${JSON.stringify(new TextDecoder().decode(removed))}`).toEqual(Array.from(plain));
      }
    }
    // the true output and a copy that breaks the constraint at once, as extra drafts
    const broken = Int32Array.from(plain, (t, i) => (i === 0 ? (t + 1) % model.info.vocabSize : t));
    const r = await run(s, prompt, {
      maxTokens: n, stopTokens: [], requiredPrefix: removed, mode: 'redrafter', drafter: drafters[0]!, extraDrafts: [broken, plain],
    });
    expect(Array.from(r)).toEqual(Array.from(plain));
  }
  s.dispose();
  return changed;
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'required-prefix-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('a required prefix', () => {
  it('starts every output, and greedy ReDrafter equals greedy plain under it, on the shipped pair (bf16)', async () => {
    const model = await Model.load(shippedModel, { backend: 'cpu', threads: 1 });
    const d = await Drafter.load(shippedDrafter, model);
    try {
      const tok = await Tokenizer.load(shippedModel);
      const cases = healedPrompts(tok, tok.tokenBytes(model.info.vocabSize), CODE, 14);
      expect(cases.length).toBeGreaterThanOrEqual(30);
      const changed = await checkParity(model, tok, [d], cases, [[1, 3], [1, 5], [2, 4], [4, 5]], 24);
      expect(changed).toBeGreaterThan(0);  // somewhere the model alone would not have written the removed bytes
    } finally {
      d.dispose();
      model.dispose();
    }
  }, 180_000); // ~25 s alone; 60 s was once too little on the shared 2-core machine under load

  it('starts every output, and greedy ReDrafter equals greedy plain under it, on stories260K (SentencePiece)', async () => {
    const model = await Model.load(stories260K, { backend: 'cpu', threads: 1 });
    const drafters = [
      await Drafter.load(writeDrafterFolder(join(tmp, 'a'), { vocabSize: 512, hiddenSize: 64, seed: 3 }), model),
      await Drafter.load(writeDrafterFolder(join(tmp, 'b'), { vocabSize: 512, hiddenSize: 64, exitDim: 96, numDraftLayers: 1, dtype: 'BF16', seed: 4 }), model),
    ];
    try {
      const tok = await Tokenizer.load(stories260K);
      const cases = healedPrompts(tok, tok.tokenBytes(512), STORY, 12);
      expect(cases.length).toBeGreaterThanOrEqual(20);
      await checkParity(model, tok, drafters, cases, [[1, 2], [2, 4], [8, 6]], 24);
    } finally {
      for (const d of drafters) d.dispose();
      model.dispose();
    }
  });

  it('is refused with a clear error when misused', async () => {
    const model = await Model.load(stories260K, { backend: 'cpu', threads: 1 });
    const s = model.createSession();
    try {
      const p = Int32Array.of(1, 403);
      expect(() => s.generate(p, { maxTokens: 4, requiredPrefix: ' a' })).toThrow(
        expect.objectContaining({ code: 'ENGINE_INVALID_ARGUMENT', message: expect.stringContaining('setTokenBytes') }),
      );
      const tok = await Tokenizer.load(stories260K);
      model.setTokenBytes(tok.tokenBytes(512));
      expect(() => s.generate(p, { maxTokens: 4, requiredPrefix: 7 as never })).toThrow(TypeError);
      expect(() => s.generate(p, { maxTokens: 4, requiredPrefix: 'x'.repeat(257) })).toThrow(RangeError);
      expect(() => model.setTokenBytes(tok.tokenBytes(100))).toThrow(RangeError);
      // a table in which nothing writes 'q': the engine refuses the prefix when the generation starts
      const table = tok.tokenBytes(512);
      const q = 'q'.charCodeAt(0);
      for (let i = 0; i < 512; i++)
        for (let j = table.offsets[i]!; j < table.offsets[i + 1]!; j++) if (table.bytes[j] === q) table.bytes[j] = 'z'.charCodeAt(0);
      model.setTokenBytes(table);
      const err = await s.generate(p, { maxTokens: 4, requiredPrefix: ' quick' }).next().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect(err).toMatchObject({ code: 'ENGINE_INVALID_ARGUMENT', message: expect.stringContaining('no token starts with byte 0x71') });
      // the session is not left held by the refused generation
      expect((await drain(s.generate(p, { maxTokens: 3, stopTokens: [] }))).result.ids.length).toBe(3);
    } finally {
      s.dispose();
      model.dispose();
    }
  });
});
