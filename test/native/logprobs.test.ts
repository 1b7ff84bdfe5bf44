/**
 * Each emitted token's log-probability through native/lib (GenerateOptions.logprobs) on the shipped
 * model and its drafter: one per token in every chunk, the same figures from greedy ReDrafter as
 * from greedy plain decoding, equal to a log-softmax of the logits a forward of the same text
 * computes, and none unless asked. The engine side: native/tests/test-generation.cpp.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Drafter, Model, type GenerateOptions, type Session } from '../../native/lib/index.js';
import { repoRoot } from '../helpers/paths.js';

const shippedModel = join(repoRoot, 'fixtures', 'models', 'slipstream-code');
const shippedDrafter = join(repoRoot, 'fixtures', 'models', 'slipstream-code-drafter');

let model: Model;
let drafter: Drafter;
let session: Session;
beforeAll(async () => {
  model = await Model.load(shippedModel, { backend: 'cpu', threads: 1 });
  drafter = await Drafter.load(shippedDrafter, model);
  session = model.createSession({ maxContext: 256 });
});
afterAll(() => {
  session?.dispose();
  drafter?.dispose();
  model?.dispose();
});

async function run(prompt: Int32Array, opts: GenerateOptions): Promise<{ ids: number[]; logprobs: number[]; chunksWithout: number }> {
  const ids: number[] = [];
  const logprobs: number[] = [];
  let chunksWithout = 0;
  for await (const chunk of session.generate(prompt, opts)) {
    ids.push(...chunk.ids);
    if (chunk.logprobs) {
      expect(chunk.logprobs.length).toBe(chunk.ids.length);
      logprobs.push(...chunk.logprobs);
    } else chunksWithout++;
  }
  return { ids, logprobs, chunksWithout };
}

describe('generate with logprobs (shipped model)', () => {
  const prompt = Int32Array.of(1, 40, 41, 42, 43, 44, 45);

  it('gives one per token, the same from greedy ReDrafter, matching a forward of the same text', async () => {
    const bare = await run(prompt, { maxTokens: 24, stopTokens: [] });
    expect(bare.logprobs).toEqual([]);
    const ar = await run(prompt, { maxTokens: 24, stopTokens: [], logprobs: true });
    expect(ar.ids).toEqual(bare.ids);
    expect(ar.chunksWithout).toBe(0);
    expect(ar.logprobs).toHaveLength(24);
    for (const [M, L] of [[1, 3], [2, 4]] as const) {
      const rd = await run(prompt, { maxTokens: 24, stopTokens: [], logprobs: true, mode: 'redrafter', drafter, beams: M, beamLength: L });
      expect(rd.ids).toEqual(ar.ids);
      expect(rd.logprobs).toEqual(ar.logprobs);
    }
    // the logits of one forward over the prompt and the first 8 tokens, row by row
    const text = Int32Array.from([...prompt, ...ar.ids.slice(0, 8)]);
    session.truncate(0);
    const rows = Int32Array.from({ length: 9 }, (_, i) => prompt.length - 1 + i);
    const { logits } = await session.forward(text, { outputRows: rows });
    const V = model.info.vocabSize;
    for (let k = 0; k < 9; k++) {
      const row = logits.subarray(k * V, (k + 1) * V);
      let mx = -Infinity;
      for (const v of row) mx = Math.max(mx, v);
      let sum = 0;
      for (const v of row) sum += Math.exp(v - mx);
      expect(ar.logprobs[k]!).toBeCloseTo(row[ar.ids[k]!]! - mx - Math.log(sum), 4);
    }
  });
});
