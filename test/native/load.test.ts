/**
 * The addon loads on a machine without a GPU and reports its backends: the CPU always available,
 * CUDA either available with a device or unavailable with a reason; a model folder loads with the
 * shapes its files declare.
 */
import { describe, expect, it } from 'vitest';
import { backends, Model, setEngineLogger } from '../../native/lib/index.js';
import { stories260K } from '../helpers/paths.js';

describe('engine addon', () => {
  it('reports the CPU backend as available', () => {
    const cpu = backends().find((b) => b.name === 'cpu');
    expect(cpu).toMatchObject({ available: true });
    expect(cpu?.device).toMatch(/x86-64|aarch64|scalar/);
  });

  it('reports CUDA with a device when available and with a reason when not', () => {
    const cuda = backends().find((b) => b.name === 'cuda');
    expect(cuda).toBeDefined();
    if (cuda!.available) expect(cuda!.device).toBeTruthy();
    else expect(cuda!.reason).toMatch(/^(not built|module failed to load: |no device: |API version mismatch: )/);
  });
});

describe('Model.load', () => {
  it('describes stories260K as its config.json and safetensors say', async () => {
    const model = await Model.load(stories260K, { threads: 1 });
    expect(model.info).toMatchObject({
      architecture: 'llama', vocabSize: 512, hiddenSize: 64, intermediateSize: 172, numLayers: 5, numHeads: 8,
      numKvHeads: 4, headDim: 8, maxPositionEmbeddings: 512, ropeTheta: 10000, rmsNormEps: 1e-5,
      tieWordEmbeddings: true, storedDtype: 'f32', computeDtype: 'f32', bosTokenId: 1, eosTokenIds: [2], threads: 1,
    });
    // every parameter once (the LM head is the embedding) plus nothing else: 260,032 floats
    expect(model.info.weightBytes).toBe(260_032 * 4);
    model.dispose();
  });
});

describe('native log lines', () => {
  it('reach a logger set with setEngineLogger instead of stderr', async () => {
    const lines: string[] = [];
    const seen = new Promise<void>((resolve) => {
      setEngineLogger((level, line) => {
        lines.push(`${level} ${line}`);
        if (line.includes('loaded')) resolve();
      });
    });
    const model = await Model.load(stories260K, { threads: 1 });
    await seen;
    setEngineLogger(null);
    expect(lines.some((l) => l.startsWith('info loaded ') && l.includes('stories260K'))).toBe(true);
    model.dispose();
  });
});
