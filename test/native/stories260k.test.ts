/**
 * The engine on the real stories260K model: greedy generation equals golden.json (200 tokens from
 * BOS, the `Zoo` continuation), position-0 logits within 1e-4, a teacher-forced batched forward
 * agrees with the float64 reference at every position, prefix reuse, and `slipstream generate --json`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model } from '../../native/lib/index.js';
import { Tokenizer } from '../../native/lib/tokenizer.js';
import { ReferenceModel, argmax } from '../helpers/reference-llama.js';
import { drain, maxAbs, maxRowDiff, range } from '../helpers/engine-compare.js';
import { cliPath, stories260K } from '../helpers/paths.js';

interface GoldenGeneration {
  prompt: string; prompt_ids: number[]; steps: number; text: string;
  greedy_ids?: number[]; ids?: number[]; generated_ids?: number[];
  first_logits?: { first16: number[]; argmax: number; max: number; tolerance: number };
}

describe('engine on stories260K', () => {
  let model: Model;
  let fromBos: GoldenGeneration;
  let zoo: GoldenGeneration;
  beforeAll(async () => {
    [fromBos, zoo] = (JSON.parse(readFileSync(join(stories260K, 'golden.json'), 'utf8')) as { generation: GoldenGeneration[] }).generation;
    model = await Model.load(stories260K, { backend: 'cpu' });
  });
  afterAll(() => model?.dispose());

  it('describes the model as its config.json does', () => {
    expect(model.info).toMatchObject({
      architecture: 'llama', vocabSize: 512, hiddenSize: 64, intermediateSize: 172, numLayers: 5, numHeads: 8,
      numKvHeads: 4, headDim: 8, maxPositionEmbeddings: 512, tieWordEmbeddings: true, storedDtype: 'f32',
      computeDtype: 'f32', bosTokenId: 1, eosTokenIds: [2],
    });
    expect(model.info.ropeTheta).toBe(10000);
    expect(model.info.rmsNormEps).toBeCloseTo(1e-5, 12);
  });

  it('gives the golden position-0 logits within 1e-4', async () => {
    const s = model.createSession();
    const { logits } = await s.forward(Int32Array.of(1));
    expect(logits.length).toBe(512);
    const fl = fromBos.first_logits!;
    fl.first16.forEach((v, i) => expect(Math.abs(logits[i] - v)).toBeLessThan(fl.tolerance));
    expect(argmax(logits)).toBe(fl.argmax);
    expect(Math.abs(logits[fl.argmax] - fl.max)).toBeLessThan(fl.tolerance);
    // All 512, against the float64 reference.
    const ref = ReferenceModel.load(stories260K).createSession().forward([1]).logits[0];
    expect(maxRowDiff(logits, 0, ref)).toBeLessThan(1e-4);
    expect(s.length).toBe(1);
    s.dispose();
  });

  it('generates the 200 golden greedy tokens from BOS', async () => {
    const s = model.createSession();
    const { chunks, result } = await drain(s.generate(Int32Array.of(1), { maxTokens: 200, temperature: 0 }));
    expect(Array.from(result.ids)).toEqual(fromBos.greedy_ids);
    expect(chunks.flatMap((c) => Array.from(c.ids))).toEqual(fromBos.greedy_ids);
    expect(result.stoppedBy).toBe('max_tokens');
    expect(result.stats.prompt_tokens).toBe(1);
    const tok = await Tokenizer.load(stories260K);
    expect(tok.decode(result.ids, { skipSpecialTokens: true })).toBe(fromBos.text);
    s.dispose();
  });

  it('generates the golden Zoo continuation from the tokenized prompt', async () => {
    const tok = await Tokenizer.load(stories260K);
    const prompt = tok.encode(zoo.prompt);
    expect(Array.from(prompt)).toEqual(zoo.prompt_ids);
    const s = model.createSession();
    const { result } = await drain(s.generate(prompt, { maxTokens: zoo.generated_ids!.length, temperature: 0 }));
    expect(Array.from(result.ids)).toEqual(zoo.generated_ids);
    expect(tok.decode([...zoo.prompt_ids, ...result.ids], { skipSpecialTokens: true })).toBe(zoo.text);
    s.dispose();
  });

  it('reuses the cached prefix when the next prompt extends the previous text', async () => {
    const s = model.createSession();
    await drain(s.generate(Int32Array.of(1), { maxTokens: 40, temperature: 0 }));
    const prompt = Int32Array.from([1, ...fromBos.greedy_ids!.slice(0, 60)]);
    const { result } = await drain(s.generate(prompt, { maxTokens: 20, temperature: 0 }));
    expect(Array.from(result.ids)).toEqual(fromBos.greedy_ids!.slice(60, 80));
    expect(result.stats.reused_tokens).toBeGreaterThanOrEqual(40);
    expect(result.stats.prompt_tokens).toBe(61);
    s.dispose();
  });

  it('agrees with the float64 reference at every position of a teacher-forced 200-token forward', async () => {
    const ids = Int32Array.from([1, ...fromBos.greedy_ids!.slice(0, 199)]);
    const s = model.createSession();
    const { logits } = await s.forward(ids, { outputRows: range(200) });
    expect(logits.length).toBe(200 * 512);
    const ref = ReferenceModel.load(stories260K).createSession().forward(ids).logits;
    let worst = 0;
    for (let r = 0; r < 200; r++) {
      worst = Math.max(worst, maxRowDiff(logits, r, ref[r]) / Math.max(1, maxAbs(ref[r])));
      expect(argmax(logits.subarray(r * 512, (r + 1) * 512))).toBe(fromBos.greedy_ids![r]);
    }
    expect(worst).toBeLessThan(1e-4);
    s.dispose();
  });

  it('prints the golden tokens and text with `slipstream generate --json`', () => {
    const run = (args: string[]): { ids: number[]; text: string; stats: { forward_passes: number; tokens_per_step: number } } =>
      JSON.parse(execFileSync(process.execPath, [cliPath, 'generate', '--model', stories260K, ...args, '--json'], { encoding: 'utf8', timeout: 60_000 }));
    const a = run(['--prompt-ids', '1', '--max-tokens', '200']);
    expect(a.ids).toEqual(fromBos.greedy_ids);
    expect(a.text).toBe(fromBos.text);
    expect(a.stats.forward_passes).toBe(200);
    expect(a.stats.tokens_per_step).toBe(1);
    const b = run(['--prompt', 'Zoo', '--max-tokens', String(zoo.generated_ids!.length)]);
    expect(b.ids).toEqual(zoo.generated_ids);
    expect(['Zoo' + b.text, 'Zoo ' + b.text]).toContain(zoo.text);
  });
});
