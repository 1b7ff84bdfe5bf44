/**
 * Bad drafter folders fail with EngineError ENGINE_BAD_MODEL (or ENGINE_IO_ERROR) and a message
 * naming the file and tensor (docs/redrafter.md §1.7); the model keeps serving afterwards. Good
 * folders load in F32, BF16 and F16 and report their shape.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRandomModel } from '../../bench/make-random-model.js';
import { Drafter, EngineError, Model } from '../../native/lib/index.js';
import { writeDrafterFolder, type DrafterFolderOptions } from '../helpers/random-drafter.js';

let tmp: string;
let model: Model;
const V = 300;
const H = 64;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'redrafter-bad-'));
  makeRandomModel(join(tmp, 'model'), { preset: 'tiny-llama3', dtype: 'f32', seed: 2 });
  model = await Model.load(join(tmp, 'model'), { backend: 'cpu', threads: 1 });
});
afterAll(() => {
  model?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

async function loadError(name: string, o: Partial<DrafterFolderOptions>): Promise<EngineError> {
  const dir = writeDrafterFolder(join(tmp, name), { vocabSize: V, hiddenSize: H, ...o });
  const err = await Drafter.load(dir, model).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EngineError);
  return err as EngineError;
}

describe('Drafter.load', () => {
  for (const dtype of ['F32', 'BF16', 'F16'] as const) {
    it(`loads a ${dtype} folder in Apple's layout and reports its shape`, async () => {
      const d = await Drafter.load(writeDrafterFolder(join(tmp, `good-${dtype}`), { vocabSize: V, hiddenSize: H, exitDim: 96, dtype }), model);
      expect(d.info).toMatchObject({ vocabSize: V, hiddenSize: H, exitDim: 96, numDraftLayers: 2, rnn: true, storedDtype: dtype.toLowerCase() });
      expect(d.info.defaultBeams).toBeGreaterThanOrEqual(1);
      expect(d.info.defaultBeamLength).toBeGreaterThanOrEqual(2);
      d.dispose();
    });
  }

  it('refuses a drafter trained for another hidden size, naming config.json', async () => {
    const e = await loadError('wrong-hidden', { hiddenSize: 32 });
    expect(e.code).toBe('ENGINE_BAD_MODEL');
    expect(e.message).toMatch(/config\.json: hidden_size is 32 but the base model's hidden size is 64/);
  });

  it('refuses a drafter for another vocabulary', async () => {
    const e = await loadError('wrong-vocab', { vocabSize: 512 });
    expect(e.code).toBe('ENGINE_BAD_MODEL');
    expect(e.message).toMatch(/vocab_size is 512 but the base model's vocabulary has 300 tokens/);
  });

  it('names a missing tensor and the file it should be in', async () => {
    const e = await loadError('missing-head', { drop: ['lm_head.2.weight'] });
    expect(e.code).toBe('ENGINE_BAD_MODEL');
    expect(e.message).toMatch(/model\.safetensors: missing tensor 'lm_head\.2\.weight'/);
    const b = await loadError('missing-bias', { drop: ['rnn_u.bias'] });
    expect(b.message).toMatch(/missing tensor 'rnn_u\.bias'/);
    const p = await loadError('missing-proj', { exitDim: 96, drop: ['input_proj.weight'] });
    expect(p.message).toMatch(/missing tensor 'input_proj\.weight'/);
  });

  it('names a tensor whose shape disagrees with config.json', async () => {
    const e = await loadError('wrong-layers', { numDraftLayers: 2, config: { num_draft_layers: 3 } });
    expect(e.code).toBe('ENGINE_BAD_MODEL');
    expect(e.message).toMatch(/lm_head\.3\.weight|lm_head\.2\.linear\.weight/);
    const x = await loadError('wrong-exit', { exitDim: 96, config: { exit_dim: 100 } });
    expect(x.message).toMatch(/'input_proj\.weight' has shape \[96, 128\], expected \[100, 128\]/);
  });

  it('refuses a base-model folder and a folder without files', async () => {
    const e = (await Drafter.load(join(tmp, 'model'), model).catch((err: unknown) => err)) as EngineError;
    expect(e).toBeInstanceOf(EngineError);
    expect(e.message).toMatch(/not a ReDrafter drafter folder/);
    const io = (await Drafter.load(join(tmp, 'nowhere'), model).catch((err: unknown) => err)) as EngineError;
    expect(io.code).toBe('ENGINE_IO_ERROR');
    expect(io.message).toMatch(/config\.json/);
  });

  it('keeps the model serving after a failed load', async () => {
    await loadError('wrong-vocab-2', { vocabSize: 301 });
    const d = await Drafter.load(writeDrafterFolder(join(tmp, 'after'), { vocabSize: V, hiddenSize: H }), model);
    const s = model.createSession({ maxContext: 64 });
    const gen = s.generate(Int32Array.of(5, 6, 7), { maxTokens: 8, stopTokens: [], mode: 'redrafter', drafter: d });
    let r = await gen.next();
    while (!r.done) r = await gen.next();
    expect(r.value.ids.length).toBe(8);
    s.dispose();
    d.dispose();
  });
});
