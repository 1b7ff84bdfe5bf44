/**
 * generateWithHidden() (native/lib/distill.ts, the engine entry point `slipstream train-drafter`
 * records its data with): on stories260K and a tiny random Qwen2 (biases), its tokens equal the
 * plain greedy generation's, and every hidden row equals, bit for bit, the hidden state the
 * engine's own forward returns at that position (the same calls replayed by hand: the prompt, then
 * one token at a time); a stop token is emitted and ends the run; bad input is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TINY_PRESETS, makeRandomModel } from '../../bench/make-random-model.js';
import { Model, generateWithHidden } from '../../native/lib/index.js';
import { stories260K } from '../helpers/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'generate-hidden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function checkModel(dir: string, prompt: Int32Array, n: number): Promise<void> {
  const model = await Model.load(dir, { backend: 'cpu', threads: 1 });
  try {
    const H = model.info.hiddenSize;
    const session = model.createSession();
    const r = await generateWithHidden(session, prompt, { maxTokens: n, stopTokens: [] });
    expect(r.tokens.length).toBe(n);
    expect(r.hidden.length).toBe(n * H);
    expect(session.length).toBe(prompt.length + n - 1);

    const plainSession = model.createSession();
    const plain = plainSession.generate(prompt, { maxTokens: n, stopTokens: [] });
    let res = await plain.next();
    while (!res.done) res = await plain.next();
    expect(Array.from(r.tokens)).toEqual(Array.from(res.value.ids));

    const replay = model.createSession();
    let f = await replay.forward(prompt, { hidden: true });
    let mismatched = 0;
    const rowBytes = (a: Float32Array, off: number): Buffer => Buffer.from(a.buffer, a.byteOffset + off * 4, H * 4);
    if (!rowBytes(f.hidden!, 0).equals(rowBytes(r.hidden, 0))) mismatched++;
    for (let j = 1; j < n; j++) {
      f = await replay.forward(Int32Array.of(r.tokens[j - 1]!), { hidden: true });
      if (!rowBytes(f.hidden!, 0).equals(rowBytes(r.hidden, j * H))) mismatched++;
    }
    expect(mismatched, 'hidden rows differing from the replayed forward').toBe(0);

    // a stop token is emitted and ends the run; the session reuses the prompt's prefix
    const stop = r.tokens[3]!;
    const first = r.tokens.indexOf(stop);
    const s2 = await generateWithHidden(session, prompt, { maxTokens: n, stopTokens: [stop] });
    expect(Array.from(s2.tokens)).toEqual(Array.from(r.tokens.subarray(0, first + 1)));
    expect(Buffer.from(s2.hidden.buffer, s2.hidden.byteOffset, s2.hidden.byteLength).equals(
      Buffer.from(r.hidden.buffer, r.hidden.byteOffset, (first + 1) * H * 4))).toBe(true);

    await expect(generateWithHidden(session, Int32Array.of(model.info.vocabSize), { maxTokens: 2 })).rejects.toThrow(/outside the vocabulary/);
    await expect(generateWithHidden(session, prompt, { maxTokens: 0 })).rejects.toThrow(RangeError);
  } finally {
    model.dispose();
  }
}

describe('generateWithHidden', () => {
  it('stories260K: greedy tokens and bit-exact hidden states', async () => {
    await checkModel(stories260K, Int32Array.of(1, 403, 407, 261, 378, 284, 367), 40);
  });
  it('tiny random qwen2 (biases, tied head): greedy tokens and bit-exact hidden states', async () => {
    const dir = join(tmp, 'qwen2');
    makeRandomModel(dir, { preset: { ...TINY_PRESETS['tiny-qwen2']!, tieWordEmbeddings: true }, dtype: 'bf16', seed: 5 });
    await checkModel(dir, Int32Array.of(5, 17, 99, 120, 7), 24);
  });
});
