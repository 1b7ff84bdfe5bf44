/**
 * Non-finite logits are an engine error (#12): a model whose forward produces NaN or Inf never
 * hands out tokens chosen from them (it used to suggest NUL characters). The step that sees such a
 * logit fails with EngineError ENGINE_NUMERIC, in plain and ReDrafter mode; a healthy model in the
 * same process is unaffected. The broken models are random-weight folders (bench/make-random-model.ts)
 * with one thing changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../bench/lib/safetensors.js';
import { Drafter, EngineError, Model } from '../../native/lib/index.js';
import { drain, removeTempModels, tempModel } from '../helpers/engine-compare.js';
import { writeDrafterFolder } from '../helpers/random-drafter.js';

afterAll(removeTempModels);

function folder(): string {
  return tempModel({ preset: 'tiny-llama3', dtype: 'f32', seed: 41 });
}

/** Sets every element of one tensor to value. */
function fillTensor(dir: string, name: string, value: number): void {
  const path = join(dir, 'model.safetensors');
  const { tensors } = readSafetensors(path);
  writeSafetensors(path, [...tensors].map(([n, t]) => ({ name: n, dtype: t.dtype, shape: t.shape, data: n === name ? t.data.fill(value) : t.data })));
}

/** The error generate() ends with (fails the test when it ends without one). */
async function generateError(model: Model, opts: Parameters<Model['createSession']>[0] = {}, drafter?: Drafter): Promise<EngineError> {
  const s = model.createSession(opts);
  try {
    await drain(s.generate(Int32Array.of(5, 6, 7), { maxTokens: 8, stopTokens: [], ...(drafter ? { mode: 'redrafter' as const, drafter } : {}) }));
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    return err as EngineError;
  } finally {
    s.dispose();
  }
  throw new Error('generate ended without an error');
}

describe('non-finite logits', () => {
  it('fail the first step with ENGINE_NUMERIC when the final norm holds NaN', async () => {
    const dir = folder();
    fillTensor(dir, 'model.norm.weight', NaN);
    const model = await Model.load(dir, { backend: 'cpu' });
    try {
      const err = await generateError(model);
      expect(err.code).toBe('ENGINE_NUMERIC');
      expect(err.message).toMatch(/non-finite logit \(NaN/);
    } finally {
      model.dispose();
    }
  });

  it('fail with ENGINE_NUMERIC when the activations overflow, in ReDrafter mode too', async () => {
    const dir = folder();
    fillTensor(dir, 'model.norm.weight', 3e38);
    const model = await Model.load(dir, { backend: 'cpu' });
    try {
      expect((await generateError(model)).code).toBe('ENGINE_NUMERIC');
      const { vocabSize, hiddenSize } = model.info;
      const d = await Drafter.load(writeDrafterFolder(join(dir, 'drafter'), { vocabSize, hiddenSize, seed: 2 }), model);
      expect((await generateError(model, {}, d)).code).toBe('ENGINE_NUMERIC');
      d.dispose();
    } finally {
      model.dispose();
    }
  });

  it('never become tokens with rms_norm_eps -1 (refused at load, or the step fails with ENGINE_NUMERIC)', async () => {
    const dir = folder();
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, rms_norm_eps: -1 }));
    let model: Model;
    try {
      model = await Model.load(dir, { backend: 'cpu' });
    } catch (err) {
      expect((err as EngineError).code).toBe('ENGINE_BAD_MODEL');  // a config check may refuse it outright
      return;
    }
    try {
      expect((await generateError(model)).code).toBe('ENGINE_NUMERIC');
    } finally {
      model.dispose();
    }
  });

  it('leave a healthy model in the same process generating', async () => {
    const model = await Model.load(folder(), { backend: 'cpu' });
    const s = model.createSession();
    const { result } = await drain(s.generate(Int32Array.of(5, 6, 7), { maxTokens: 8, stopTokens: [] }));
    expect(result.ids.length).toBe(8);
    s.dispose();
    model.dispose();
  });
});
