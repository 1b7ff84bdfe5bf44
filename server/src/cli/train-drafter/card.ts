/**
 * The model card `slipstream train-drafter` writes beside the exported head: model-card.json (the
 * figures) and README.md (the same in prose): base model, data, training steps, measured tokens
 * per verification step and greedy parity on held-out prompts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelInfo } from '../../../../native/lib/index.js';
import type { EvalResult } from './evaluate.js';
import type { RecordSummary } from './record.js';

export interface TrainSummary {
  params: number;
  exit_dim: number;
  num_draft_layers: number;
  lookahead: number;
  steps: number;
  epochs: number;
  train_time_s: number;
  device: string;
  positions: number;
  sequences: number;
  loss: number | null;
  top1_per_lookahead: number[];
  export_dtype: string;
}

export interface Card {
  base: { dir: string; architecture: string; dtype: string; vocabSize: number; hiddenSize: number; layers: number; tiedHead: boolean };
  data: RecordSummary & { prompts: string; genTokens: number };
  training: TrainSummary;
  evaluation: EvalResult;
  command: string;
  date: string;
}

export function baseOf(info: ModelInfo, dir: string): Card['base'] {
  return { dir, architecture: info.architecture, dtype: info.storedDtype, vocabSize: info.vocabSize, hiddenSize: info.hiddenSize, layers: info.numLayers, tiedHead: info.tieWordEmbeddings };
}

export function writeCard(outDir: string, card: Card): void {
  writeFileSync(join(outDir, 'model-card.json'), `${JSON.stringify(card, null, 1)}\n`);
  const { base, data, training: t, evaluation: e } = card;
  const md = [
    '# ReDrafter head (trained by `slipstream train-drafter`)',
    '',
    `A ReDrafter drafter (docs/redrafter.md) for the ${base.architecture} model in \`${base.dir}\` ` +
      `(${base.dtype}, ${base.layers} layers, hidden ${base.hiddenSize}, vocabulary ${base.vocabSize}, ${base.tiedHead ? 'tied' : 'untied'} head), ` +
      'in the layout Apple\'s train.py saves (config.json + model.safetensors). Use it with `--drafter` next to that model only.',
    '',
    '## Data',
    `The base model's own greedy continuations, recorded by the engine: ${data.sequences.toLocaleString('en-US')} prompts from ${data.prompts}, ` +
      `up to ${data.genTokens} tokens each, ${data.positions.toLocaleString('en-US')} positions (token + post-norm hidden state) in ${(data.seconds / 60).toFixed(1)} min.`,
    '',
    '## Training',
    `RNN drafter, exit_dim ${t.exit_dim}, ${t.num_draft_layers} residual layer(s), ${t.params.toLocaleString('en-US')} parameters; ` +
      `sum of ${t.lookahead} lookahead cross-entropies; ${t.steps} steps (${t.epochs.toFixed(1)} epochs) in ${(t.train_time_s / 60).toFixed(1)} min on ${t.device}; ` +
      `final loss ${t.loss === null ? 'n/a' : t.loss.toFixed(3)}, top-1 accuracy per lookahead [${t.top1_per_lookahead.map((a) => a.toFixed(2)).join(', ')}]; exported ${t.export_dtype}.`,
    '',
    '## Measured',
    `On ${e.prompts} held-out prompts (text not used for the training prompts), greedy, up to ${e.maxTokens} tokens each, ` +
      `beams ${e.beams} x beam length ${e.beamLength}: **${e.tokensPerStep.toFixed(2)} tokens per verification step** ` +
      `(${e.rounds} rounds); ReDrafter output identical to plain greedy decoding on ${e.parityOk} of ${e.prompts} prompts.`,
    '',
    `Made with: \`${card.command}\` (${card.date}).`,
    '',
  ].join('\n');
  writeFileSync(join(outDir, 'README.md'), md);
}
