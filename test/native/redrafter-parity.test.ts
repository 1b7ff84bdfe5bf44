/**
 * ReDrafter's invariant (docs/redrafter.md §2.6): greedy ReDrafter output equals greedy plain
 * decoding token for token, in f32 on stories260K and on tiny random models of each architecture,
 * and in bf16 on the shipped model with its trained drafter; for seeded random-weight drafters,
 * several (M, L) including M = 1 and L = 2, and with extra drafts (the true continuation, a
 * corrupted copy, an unrelated one). Also: stats, and the stop token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRandomModel } from '../../bench/make-random-model.js';
import { Drafter, Model, Tokenizer, type GenerateOptions, type GenerateResult, type Session } from '../../native/lib/index.js';
import { writeDrafterFolder } from '../helpers/random-drafter.js';
import { repoRoot, stories260K } from '../helpers/paths.js';

// The shipped model and its trained drafter (training/, exported to fixtures/models/).
const fixturesDir = join(repoRoot, 'fixtures');
const shippedModel = join(fixturesDir, 'models', 'slipstream-code');
const shippedDrafter = join(fixturesDir, 'models', 'slipstream-code-drafter');

async function run(session: Session, prompt: Int32Array, opts: GenerateOptions): Promise<GenerateResult> {
  const it = session.generate(prompt, opts);
  const chunks: number[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) {
      expect(Array.from(r.value.ids)).toEqual(chunks);  // the chunks add up to the result
      return r.value;
    }
    chunks.push(...r.value.ids);
  }
}

const CONFIGS: [number, number][] = [[1, 2], [1, 5], [2, 4], [4, 3], [8, 6]];

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'redrafter-parity-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function checkParity(modelDir: string, prompts: Int32Array[], maxTokens: number, drafterDtype: 'F32' | 'BF16'): Promise<void> {
  const model = await Model.load(modelDir, { backend: 'cpu', threads: 1 });
  try {
    const { vocabSize, hiddenSize } = model.info;
    const d1 = await Drafter.load(writeDrafterFolder(join(tmp, `${model.info.architecture}-${hiddenSize}-a`), { vocabSize, hiddenSize, seed: 3 }), model);
    const d2 = await Drafter.load(
      writeDrafterFolder(join(tmp, `${model.info.architecture}-${hiddenSize}-b`), { vocabSize, hiddenSize, exitDim: 96, numDraftLayers: 1, dtype: drafterDtype, seed: 4 }),
      model,
    );
    const session = model.createSession();
    for (const prompt of prompts) {
      const plain = await run(session, prompt, { maxTokens, stopTokens: [] });
      expect(plain.ids.length).toBe(maxTokens);
      for (const [M, L] of CONFIGS) {
        for (const drafter of [d1, d2]) {
          const r = await run(session, prompt, { maxTokens, stopTokens: [], mode: 'redrafter', drafter, beams: M, beamLength: L });
          expect(Array.from(r.ids), `M=${M} L=${L} ${drafter.info.dir}`).toEqual(Array.from(plain.ids));
          expect(r.stats.forward_passes).toBeLessThanOrEqual(maxTokens);
          expect(r.stats.tokens_per_step).toBeCloseTo(maxTokens / r.stats.forward_passes, 10);
          expect(r.stats.mean_tree_size).toBeLessThanOrEqual(1 + M * (L - 1));
          const hist = r.stats.accepted_histogram!;
          expect(hist.length).toBeLessThanOrEqual(L);
          expect(hist.reduce((a, b) => a + b, 0)).toBe(r.stats.forward_passes - 1);  // one round per pass after the prefill
        }
      }
      // Extra drafts (prompt-relative): the true continuation is accepted in long runs.
      const truth = plain.ids;
      const corrupted = truth.map((t, i) => (i % 7 === 5 ? (t + 1) % vocabSize : t));
      const unrelated = Int32Array.of(3, 4, 5, 6, 7);
      for (const [M, L] of [[1, 2], [2, 4]] as [number, number][]) {
        const r = await run(session, prompt, {
          maxTokens, stopTokens: [], mode: 'redrafter', drafter: d1, beams: M, beamLength: L, extraDrafts: [truth, corrupted, unrelated],
        });
        expect(Array.from(r.ids)).toEqual(Array.from(truth));
        // extra drafts are verified in full in one pass, deeper than L
        expect(r.stats.forward_passes).toBeLessThan(maxTokens / 4);
      }
    }
    d1.dispose();
    d2.dispose();
    session.dispose();
  } finally {
    model.dispose();
  }
}

describe('greedy ReDrafter equals greedy plain decoding', () => {
  it('on stories260K with random drafters', async () => {
    await checkParity(stories260K, [Int32Array.of(1), Int32Array.of(1, 403, 407, 261, 378, 292)], 48, 'BF16');
  });

  for (const preset of ['tiny-llama3', 'tiny-qwen2', 'tiny-mistral', 'tiny-llama-gqa8']) {
    it(`on a random ${preset} model`, async () => {
      const dir = join(tmp, preset);
      makeRandomModel(dir, { preset, dtype: 'f32', seed: 7 });
      await checkParity(dir, [Int32Array.of(10, 20, 30, 40)], 40, 'F32');
    });
  }

  it('on the shipped model with its trained drafter, in bf16 (its stored dtype)', async () => {
    const model = await Model.load(shippedModel, { backend: 'cpu', threads: 1 });
    try {
      expect(model.info.computeDtype).toBe('bf16');  // parity is promised in bf16 too (docs/redrafter.md §6)
      const n = 64;
      const d = await Drafter.load(shippedDrafter, model);
      const s = model.createSession({ maxContext: 256 });
      const tok = await Tokenizer.load(shippedModel);
      const prompts = [
        tok.encode('export function clamp(x: number, lo: number, hi: number): number {\n  return '),
        tok.encode("import { readFileSync } from 'node:fs';\n\nconst config = JSON.parse("),
        tok.encode('class LRUCache<K, V> {\n  private map = new Map<K, V>();\n'),
        tok.encode('function parseArgs(argv) {\n  const out = {};\n  for (let i = 0; i < argv.length; i++) {\n'),
      ];
      let accepted = 0;
      for (const prompt of prompts) {
        const plain = await run(s, prompt, { maxTokens: n, stopTokens: [] });
        for (const [M, L] of [[1, 2], [1, 5], [2, 4], [4, 5]] as [number, number][]) {
          const r = await run(s, prompt, { maxTokens: n, stopTokens: [], mode: 'redrafter', drafter: d, beams: M, beamLength: L });
          expect(Array.from(r.ids), `M=${M} L=${L}`).toEqual(Array.from(plain.ids));
          accepted += (r.stats.accepted_histogram ?? []).reduce((a, v, i) => a + v * i, 0);
        }
      }
      expect(accepted).toBeGreaterThan(0);  // a trained drafter gets drafts accepted
      s.dispose();
      d.dispose();
    } finally {
      model.dispose();
    }
  });

  it('ends with stoppedBy aborted when the signal fires, and the session serves again', async () => {
    const model = await Model.load(stories260K, { backend: 'cpu', threads: 1 });
    const d = await Drafter.load(writeDrafterFolder(join(tmp, 'abort'), { vocabSize: 512, hiddenSize: 64, seed: 6 }), model);
    const s = model.createSession();
    const ac = new AbortController();
    const gen = s.generate(Int32Array.of(1), { maxTokens: 200, stopTokens: [], mode: 'redrafter', drafter: d, signal: ac.signal });
    let r = await gen.next();
    let chunks = 0;
    while (!r.done) {
      if (++chunks === 3) ac.abort();
      r = await gen.next();
    }
    expect(r.value.stoppedBy).toBe('aborted');
    expect(r.value.ids.length).toBeLessThan(200);
    const plain = await run(s, Int32Array.of(1), { maxTokens: 30, stopTokens: [] });
    const again = await run(s, Int32Array.of(1), { maxTokens: 30, stopTokens: [], mode: 'redrafter', drafter: d });
    expect(Array.from(again.ids)).toEqual(Array.from(plain.ids));
    s.dispose();
    d.dispose();
    model.dispose();
  });

  it('stops at the stop token inside an accepted chunk', async () => {
    const model = await Model.load(stories260K, { backend: 'cpu', threads: 1 });
    const d = await Drafter.load(writeDrafterFolder(join(tmp, 'stop'), { vocabSize: 512, hiddenSize: 64, seed: 5 }), model);
    const s = model.createSession();
    const plain = await run(s, Int32Array.of(1), { maxTokens: 40, stopTokens: [] });
    const stop = plain.ids[10]!;
    const firstStop = plain.ids.indexOf(stop);
    // the true continuation as an extra draft makes the stop token arrive inside a long accepted chunk
    const r = await run(s, Int32Array.of(1), { maxTokens: 40, stopTokens: [stop], mode: 'redrafter', drafter: d, extraDrafts: [plain.ids] });
    expect(r.stoppedBy).toBe('eos');
    expect(Array.from(r.ids)).toEqual(Array.from(plain.ids.subarray(0, firstStop)));
    s.dispose();
    d.dispose();
    model.dispose();
  });
});
