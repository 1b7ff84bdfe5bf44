/**
 * Writes ReDrafter drafter folders for tests in the layout Apple's train.py saves (config.json +
 * model.safetensors with rnn_w, rnn_u, input_proj, lm_head.{i}.linear, lm_head.{N}): seeded
 * random heads (speed and parity only, never quality), and folders with chosen tensors for the
 * bad-folder tests. Uses the shared safetensors writer (bench/lib/safetensors.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type SafetensorsDtype, type TensorSpec, writeSafetensors } from '../../bench/lib/safetensors.js';
import { normalGenerator } from '../../bench/make-random-model.js';

export interface DrafterShape {
  vocabSize: number;
  hiddenSize: number;
  /** Width E of the drafter MLP; input_proj exists exactly when E != 2 * hiddenSize. */
  exitDim?: number;
  numDraftLayers?: number;
  rnn?: boolean;
}

export interface DrafterFolderOptions extends DrafterShape {
  dtype?: SafetensorsDtype;
  seed?: number;
  /** Tensor names to leave out (bad-folder tests). */
  drop?: string[];
  /** Overrides for config.json keys (bad-folder tests). */
  config?: Record<string, unknown>;
  /** Replaces the values of named tensors (shape must match). */
  values?: Record<string, Float32Array>;
}

/** The tensor names and shapes of a drafter, in Apple's naming. */
export function drafterTensorShapes(s: DrafterShape): [string, number[]][] {
  const H = s.hiddenSize;
  const E = s.exitDim ?? 2 * H;
  const N = s.numDraftLayers ?? 2;
  const out: [string, number[]][] = [];
  if (s.rnn ?? true) {
    out.push(['rnn_w.weight', [H, H]], ['rnn_u.weight', [H, H]], ['rnn_u.bias', [H]]);
  }
  if (E !== 2 * H) out.push(['input_proj.weight', [E, 2 * H]], ['input_proj.bias', [E]]);
  for (let i = 0; i < N; i++) out.push([`lm_head.${i}.linear.weight`, [E, E]], [`lm_head.${i}.linear.bias`, [E]]);
  out.push([`lm_head.${N}.weight`, [s.vocabSize, E]]);
  return out;
}

/** Writes a drafter folder into dir (created); returns dir. Random values are N(0, 1/sqrt(fan_in)). */
export function writeDrafterFolder(dir: string, o: DrafterFolderOptions): string {
  mkdirSync(dir, { recursive: true });
  const E = o.exitDim ?? 2 * o.hiddenSize;
  const config = {
    architectures: ['Drafter'],
    model_type: 'recurrent_drafting_drafter',
    vocab_size: o.vocabSize,
    hidden_size: o.hiddenSize,
    exit_dim: E,
    num_draft_layers: o.numDraftLayers ?? 2,
    rnn: o.rnn ?? true,
    num_lookback_tokens: -1,
    torch_dtype: 'float32',
    ...o.config,
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const gen = normalGenerator(o.seed ?? 1);
  const specs: TensorSpec[] = [];
  for (const [name, shape] of drafterTensorShapes(o)) {
    if (o.drop?.includes(name)) continue;
    const n = shape.reduce((a, b) => a * b, 1);
    let data = o.values?.[name];
    if (!data) {
      const std = shape.length === 2 ? 1 / Math.sqrt(shape[1]!) : 0.1;
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = std * gen();
    }
    specs.push({ name, dtype: o.dtype ?? 'F32', shape, data });
  }
  writeSafetensors(join(dir, 'model.safetensors'), specs);
  return dir;
}
