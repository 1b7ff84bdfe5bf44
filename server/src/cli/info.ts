/**
 * `slipstream info`: loads a model folder and describes it (architecture, shapes, dtypes, weight
 * bytes, tokenizer), the drafter when given, and the compute backends. --json prints one object.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { backends, Model, setEngineLogLevel, type DrafterInfo } from '../../../native/lib/index.js';
import { Tokenizer } from '../../../native/lib/tokenizer.js';
import type { ParsedArgs } from './args.js';
import { loadDrafter } from './generate.js';
import { modelDirsFromFlags } from './paths.js';
import { weightsFromFlags } from './weights-flag.js';

export async function runInfo(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const { modelDir, drafterDir } = modelDirsFromFlags(f);
  setEngineLogLevel('warn');  // keep the output to the result
  const weights = weightsFromFlags(f);
  const model = await Model.load(modelDir, weights ? { weights } : {});
  try {
    const tok = existsSync(join(modelDir, 'tokenizer.json')) ? await Tokenizer.load(modelDir) : null;
    const tokenizer = tok ? { vocabSize: tok.vocabSize, bosTokenId: tok.bosTokenId, eosTokenIds: tok.eosTokenIds } : null;
    let drafter: DrafterInfo | null = null;
    if (drafterDir !== undefined) {
      const d = await loadDrafter(drafterDir, model);
      drafter = d.info;
      d.dispose();
    }
    const out = { model: model.info, tokenizer, drafter, backends: backends() };
    if (f.json) {
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return 0;
    }
    const i = model.info;
    const lines = [
      `model        ${i.dir}`,
      `architecture ${i.architecture}`,
      `layers       ${i.numLayers}, hidden ${i.hiddenSize}, intermediate ${i.intermediateSize}`,
      `heads        ${i.numHeads} (kv ${i.numKvHeads}), head_dim ${i.headDim}`,
      `vocab        ${i.vocabSize}, tied embeddings: ${i.tieWordEmbeddings ? 'yes' : 'no'}`,
      `context      ${i.maxPositionEmbeddings}, rope_theta ${i.ropeTheta}, rms_norm_eps ${i.rmsNormEps}`,
      `dtype        stored ${i.savedWeights ? `${i.savedWeights} blocks (saved by slipstream quantize), norms ${i.storedDtype}` : i.storedDtype}, computed ${i.computeDtype}, ${(i.weightBytes / 1e6).toFixed(1)} MB of weights`,
      `cpu          ${i.threads} threads, kernels ${i.kernelPath}`,
      tokenizer
        ? `tokenizer    ${tokenizer.vocabSize} tokens, bos ${tokenizer.bosTokenId ?? 'none'}, eos ${tokenizer.eosTokenIds.join(', ') || 'none'}`
        : 'tokenizer    none (no tokenizer.json)',
      ...(drafter
        ? [
            `drafter      ${drafter.dir}`,
            `             ${drafter.numDraftLayers} layer${drafter.numDraftLayers === 1 ? '' : 's'}${drafter.rnn ? ', RNN' : ''}, hidden ${drafter.hiddenSize}, exit ${drafter.exitDim}, stored ${drafter.storedDtype}, ${(drafter.weightBytes / 1e6).toFixed(1)} MB; default tree M=${drafter.defaultBeams} L=${drafter.defaultBeamLength}`,
          ]
        : []),
      ...backends().map((b) => `backend      ${b.name}: ${b.available ? `available (${b.device})` : `unavailable (${b.reason})`}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
