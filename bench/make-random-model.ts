/**
 * Writes seeded random-weight Hugging Face model folders (config.json in transformers 4.x or 5.x
 * spelling, generation_config.json, model.safetensors or shards + index, a byte-level BPE
 * tokenizer) with the exact shapes of public models, for speed tests, and tiny variants for
 * parity tests. Random weights are for speed and parity only, never for quality claims.
 *
 *   npm run build && node dist/bench/make-random-model.js --preset qwen2.5-coder-0.5b --dtype bf16 --out /tmp/q05
 *   node dist/bench/make-random-model.js --list
 *   options: --seed N (default 1)  --shards N (default 1)  --config-spelling 4|5 (default 4)
 * From code: makeRandomModel(dir, { preset: 'tiny-llama3', dtype: 'f32', seed: 1 }).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type SafetensorsDtype, type TensorSpec, elementCount, writeSafetensors } from './lib/safetensors.js';
import { byteLevelTokenizer } from './lib/byte-level-tokenizer.js';

export type Architecture = 'llama' | 'qwen2' | 'mistral';
export type ModelDtype = 'f32' | 'bf16' | 'f16';

export interface Llama3RopeScaling {
  factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number;
}

export interface ModelShape {
  architecture: Architecture;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** Written as config.json head_dim when set; else hidden_size / num_attention_heads is implied. */
  headDim?: number;
  vocabSize: number;
  maxPositionEmbeddings: number;
  ropeTheta: number;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  /** q/k/v biases: always for qwen2. */
  attentionBias: boolean;
  ropeScaling?: Llama3RopeScaling;
  /** Real presets carry the public ids; tiny ones use the byte-level tokenizer's. */
  bosTokenId?: number | null;
  eosTokenId?: number;
}

/**
 * Public configs (Hugging Face config.json of each repository, as published):
 * - Qwen/Qwen2.5-Coder-0.5B: Qwen2ForCausalLM, hidden 896, intermediate 4864, 24 layers, 14 heads,
 *   2 KV heads (head_dim 64), vocab 151936, tied, q/k/v bias, rope_theta 1e6, rms_norm_eps 1e-6,
 *   max_position_embeddings 32768, bos = eos = 151643 (<|endoftext|>).
 * - Qwen/Qwen2.5-Coder-1.5B: hidden 1536, intermediate 8960, 28 layers, 12 heads, 2 KV heads
 *   (head_dim 128), vocab 151936, tied, otherwise as 0.5B.
 * - Qwen/Qwen2.5-Coder-7B: hidden 3584, intermediate 18944, 28 layers, 28 heads, 4 KV heads
 *   (head_dim 128), vocab 152064, untied lm_head, otherwise as 0.5B.
 * - meta-llama/Llama-3.2-1B: LlamaForCausalLM, hidden 2048, intermediate 8192, 16 layers, 32 heads,
 *   8 KV heads, head_dim 64, vocab 128256, tied, rope_theta 500000, rope_scaling llama3 (factor 32,
 *   low_freq_factor 1, high_freq_factor 4, original_max_position_embeddings 8192),
 *   max_position_embeddings 131072, rms_norm_eps 1e-5, bos 128000, eos 128001.
 * Fields that do not change the computation (max_window_layers, sliding_window of Qwen, which is
 * off by use_sliding_window: false) are written with plausible values, not claimed exact.
 */
export const REAL_PRESETS: Record<string, ModelShape> = {
  'qwen2.5-coder-0.5b': {
    architecture: 'qwen2', hiddenSize: 896, intermediateSize: 4864, numLayers: 24, numHeads: 14, numKvHeads: 2,
    vocabSize: 151936, maxPositionEmbeddings: 32768, ropeTheta: 1e6, rmsNormEps: 1e-6, tieWordEmbeddings: true,
    attentionBias: true, bosTokenId: 151643, eosTokenId: 151643,
  },
  'qwen2.5-coder-1.5b': {
    architecture: 'qwen2', hiddenSize: 1536, intermediateSize: 8960, numLayers: 28, numHeads: 12, numKvHeads: 2,
    vocabSize: 151936, maxPositionEmbeddings: 32768, ropeTheta: 1e6, rmsNormEps: 1e-6, tieWordEmbeddings: true,
    attentionBias: true, bosTokenId: 151643, eosTokenId: 151643,
  },
  'qwen2.5-coder-7b': {
    architecture: 'qwen2', hiddenSize: 3584, intermediateSize: 18944, numLayers: 28, numHeads: 28, numKvHeads: 4,
    vocabSize: 152064, maxPositionEmbeddings: 32768, ropeTheta: 1e6, rmsNormEps: 1e-6, tieWordEmbeddings: false,
    attentionBias: true, bosTokenId: 151643, eosTokenId: 151643,
  },
  'llama-3.2-1b': {
    architecture: 'llama', hiddenSize: 2048, intermediateSize: 8192, numLayers: 16, numHeads: 32, numKvHeads: 8,
    headDim: 64, vocabSize: 128256, maxPositionEmbeddings: 131072, ropeTheta: 500000, rmsNormEps: 1e-5,
    tieWordEmbeddings: true, attentionBias: false, bosTokenId: 128000, eosTokenId: 128001,
    ropeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
  },
};

/**
 * Tiny variants (about 50K-110K parameters) covering every code path: llama3 rope scaling (with
 * original_max_position_embeddings 64 so head_dim 16 has high-, mid- and low-frequency pairs),
 * qwen2 biases with an untied head, mistral with head_dim != hidden/heads and a vocabulary padded
 * past the tokenizer, and GQA ratios 1 (qwen2), 2 (llama3), 4 (mistral), 8 (llama-gqa8).
 */
export const TINY_PRESETS: Record<string, ModelShape> = {
  'tiny-llama3': {
    architecture: 'llama', hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16,
    vocabSize: 300, maxPositionEmbeddings: 256, ropeTheta: 500000, rmsNormEps: 1e-5, tieWordEmbeddings: true,
    attentionBias: false, ropeScaling: { factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 },
  },
  'tiny-qwen2': {
    architecture: 'qwen2', hiddenSize: 64, intermediateSize: 96, numLayers: 2, numHeads: 4, numKvHeads: 4,
    vocabSize: 300, maxPositionEmbeddings: 256, ropeTheta: 1e6, rmsNormEps: 1e-6, tieWordEmbeddings: false, attentionBias: true,
  },
  'tiny-mistral': {
    architecture: 'mistral', hiddenSize: 48, intermediateSize: 96, numLayers: 2, numHeads: 8, numKvHeads: 2, headDim: 8,
    vocabSize: 320, maxPositionEmbeddings: 256, ropeTheta: 10000, rmsNormEps: 1e-5, tieWordEmbeddings: false, attentionBias: false,
  },
  'tiny-llama-gqa8': {
    architecture: 'llama', hiddenSize: 64, intermediateSize: 64, numLayers: 3, numHeads: 8, numKvHeads: 1, headDim: 8,
    vocabSize: 300, maxPositionEmbeddings: 256, ropeTheta: 10000, rmsNormEps: 1e-5, tieWordEmbeddings: false, attentionBias: false,
  },
};

export const PRESETS: Record<string, ModelShape> = { ...REAL_PRESETS, ...TINY_PRESETS };

export interface MakeRandomModelOptions {
  /** A preset name, or a full shape. */
  preset: string | ModelShape;
  dtype: ModelDtype;
  seed?: number;
  /** Number of safetensors shards (1 = model.safetensors, no index). */
  shards?: number;
  /** transformers 4.x (torch_dtype, rope_theta, rope_scaling) or 5.x (dtype, rope_parameters). */
  configSpelling?: 4 | 5;
}

export interface RandomModel {
  dir: string;
  shape: ModelShape;
  config: Record<string, unknown>;
  tensorNames: string[];
  paramCount: number;
}

const TORCH_DTYPE: Record<ModelDtype, string> = { f32: 'float32', bf16: 'bfloat16', f16: 'float16' };
const ST_DTYPE: Record<ModelDtype, SafetensorsDtype> = { f32: 'F32', bf16: 'BF16', f16: 'F16' };

export function headDimOf(s: ModelShape): number {
  return s.headDim ?? s.hiddenSize / s.numHeads;
}

/** config.json contents in the requested spelling. */
export function configJson(s: ModelShape, dtype: ModelDtype, spelling: 4 | 5, bos: number | null, eos: number): Record<string, unknown> {
  const arch = { llama: 'LlamaForCausalLM', qwen2: 'Qwen2ForCausalLM', mistral: 'MistralForCausalLM' }[s.architecture];
  const c: Record<string, unknown> = {
    architectures: [arch], attention_dropout: 0.0, bos_token_id: bos, eos_token_id: eos, hidden_act: 'silu',
    hidden_size: s.hiddenSize, initializer_range: 0.02, intermediate_size: s.intermediateSize,
    max_position_embeddings: s.maxPositionEmbeddings, model_type: s.architecture, num_attention_heads: s.numHeads,
    num_hidden_layers: s.numLayers, num_key_value_heads: s.numKvHeads, rms_norm_eps: s.rmsNormEps,
    tie_word_embeddings: s.tieWordEmbeddings, use_cache: true, vocab_size: s.vocabSize,
  };
  if (s.headDim !== undefined) c.head_dim = s.headDim;
  if (s.architecture === 'llama') Object.assign(c, { attention_bias: s.attentionBias, mlp_bias: false, pretraining_tp: 1 });
  if (s.architecture === 'qwen2') Object.assign(c, { max_window_layers: s.numLayers, sliding_window: s.maxPositionEmbeddings, use_sliding_window: false });
  if (s.architecture === 'mistral') c.sliding_window = null;
  const scaling = s.ropeScaling
    ? { factor: s.ropeScaling.factor, high_freq_factor: s.ropeScaling.highFreqFactor, low_freq_factor: s.ropeScaling.lowFreqFactor,
        original_max_position_embeddings: s.ropeScaling.originalMaxPositionEmbeddings, rope_type: 'llama3' }
    : null;
  if (spelling === 4) {
    Object.assign(c, { rope_scaling: scaling, rope_theta: s.ropeTheta, torch_dtype: TORCH_DTYPE[dtype], transformers_version: '4.46.3' });
  } else {
    Object.assign(c, { dtype: TORCH_DTYPE[dtype], pad_token_id: null, rope_parameters: { ...(scaling ?? { rope_type: 'default' }), rope_theta: s.ropeTheta }, transformers_version: '5.0.0' });
  }
  return Object.fromEntries(Object.entries(c).sort(([a], [b]) => a.localeCompare(b)));
}

/** FNV-1a of a string, to derive a per-tensor seed from the tensor name. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A seeded standard-normal generator (mulberry32 + Box-Muller). */
export function normalGenerator(seed: number): () => number {
  let a = seed >>> 0;
  let spare: number | null = null;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const th = 2 * Math.PI * uniform();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

/**
 * The tensors of a shape in HF names, each with its initialiser: linear weights N(0, s) with
 * s = clamp(1/sqrt(fan_in), 0.02, 0.1), embeddings N(0, 0.1), norms 1 + N(0, 0.1) (not all ones, so
 * a missing or misplaced norm weight shows), biases N(0, 0.1). Activations stay O(1).
 */
function tensorPlan(s: ModelShape, seed: number, dtype: SafetensorsDtype): TensorSpec[] {
  const H = s.hiddenSize;
  const hd = headDimOf(s);
  const qOut = s.numHeads * hd;
  const kvOut = s.numKvHeads * hd;
  const specs: TensorSpec[] = [];
  const add = (name: string, shape: number[], mean: number, std: number): void => {
    const gen = normalGenerator(hash32(name) ^ Math.imul(seed, 0x9e3779b1));
    specs.push({ name, dtype, shape, fill: (chunk) => { for (let i = 0; i < chunk.length; i++) chunk[i] = mean + std * gen(); } });
  };
  const linStd = (fanIn: number): number => Math.min(0.1, Math.max(0.02, 1 / Math.sqrt(fanIn)));
  add('model.embed_tokens.weight', [s.vocabSize, H], 0, 0.1);
  for (let l = 0; l < s.numLayers; l++) {
    const p = `model.layers.${l}.`;
    add(`${p}input_layernorm.weight`, [H], 1, 0.1);
    add(`${p}self_attn.q_proj.weight`, [qOut, H], 0, linStd(H));
    add(`${p}self_attn.k_proj.weight`, [kvOut, H], 0, linStd(H));
    add(`${p}self_attn.v_proj.weight`, [kvOut, H], 0, linStd(H));
    if (s.attentionBias) {
      add(`${p}self_attn.q_proj.bias`, [qOut], 0, 0.1);
      add(`${p}self_attn.k_proj.bias`, [kvOut], 0, 0.1);
      add(`${p}self_attn.v_proj.bias`, [kvOut], 0, 0.1);
    }
    add(`${p}self_attn.o_proj.weight`, [H, qOut], 0, linStd(qOut));
    add(`${p}post_attention_layernorm.weight`, [H], 1, 0.1);
    add(`${p}mlp.gate_proj.weight`, [s.intermediateSize, H], 0, linStd(H));
    add(`${p}mlp.up_proj.weight`, [s.intermediateSize, H], 0, linStd(H));
    add(`${p}mlp.down_proj.weight`, [H, s.intermediateSize], 0, linStd(s.intermediateSize));
  }
  add('model.norm.weight', [H], 1, 0.1);
  if (!s.tieWordEmbeddings) add('lm_head.weight', [s.vocabSize, H], 0, linStd(H));
  // safetensors files from transformers list tensors sorted by name.
  return specs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Writes the folder; deterministic for a given (shape, dtype, seed, shards, spelling). */
export function makeRandomModel(dir: string, opts: MakeRandomModelOptions): RandomModel {
  const shape = typeof opts.preset === 'string' ? PRESETS[opts.preset] : opts.preset;
  if (!shape) throw new Error(`unknown preset '${String(opts.preset)}' (known: ${Object.keys(PRESETS).join(', ')})`);
  const seed = opts.seed ?? 1;
  const shards = opts.shards ?? 1;
  mkdirSync(dir, { recursive: true });

  const tok = byteLevelTokenizer();
  const tokenizerEos = (tok.tokenizerJson.added_tokens as { id: number; content: string }[]).find((t) => t.content === '<|endoftext|>')!.id;
  const bos = shape.bosTokenId === undefined ? null : shape.bosTokenId;
  const eos = shape.eosTokenId ?? tokenizerEos;
  if (tok.vocabSize > shape.vocabSize) throw new Error(`vocab_size ${shape.vocabSize} is smaller than the tokenizer's ${tok.vocabSize}`);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tok.tokenizerJson, null, 2));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tok.tokenizerConfig, null, 2));

  const config = configJson(shape, opts.dtype, opts.configSpelling ?? 4, bos, eos);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: bos, eos_token_id: eos, transformers_version: config.transformers_version }, null, 2) + '\n');

  const plan = tensorPlan(shape, seed, ST_DTYPE[opts.dtype]);
  const paramCount = plan.reduce((n, t) => n + elementCount(t.shape), 0);
  const metadata = { format: 'pt', generator: 'slipstream bench/make-random-model.ts', seed: String(seed) };
  if (shards <= 1) {
    writeSafetensors(join(dir, 'model.safetensors'), plan, metadata);
  } else {
    // Split by parameter count into contiguous groups of tensors.
    const per = Math.ceil(paramCount / shards);
    const groups: TensorSpec[][] = [[]];
    let inGroup = 0;
    for (const t of plan) {
      if (inGroup >= per && groups.length < shards) { groups.push([]); inGroup = 0; }
      groups.at(-1)!.push(t);
      inGroup += elementCount(t.shape);
    }
    const weightMap: Record<string, string> = {};
    let totalSize = 0;
    const pad = (n: number): string => String(n).padStart(5, '0');
    groups.forEach((g, i) => {
      const file = `model-${pad(i + 1)}-of-${pad(groups.length)}.safetensors`;
      totalSize += writeSafetensors(join(dir, file), g, metadata);
      for (const t of g) weightMap[t.name] = file;
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap }, null, 2) + '\n');
  }
  return { dir, shape, config, tensorNames: plan.map((t) => t.name), paramCount };
}

const USAGE = [
  'usage: make-random-model --preset NAME --out DIR [--dtype f32|bf16|f16] [--seed N] [--shards N] [--config-spelling 4|5]',
  '       make-random-model --list     the presets',
  '',
  'Writes a seeded random-weight Hugging Face model folder with the shapes of a public model, for speed',
  'and parity tests (never for quality). Defaults: --dtype bf16, --seed 1, --shards 1, --config-spelling 4.',
].join('\n');

function main(argv: string[]): void {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    if (a === '--list') args.set('list', '1');
    else if (a.startsWith('--') && i + 1 < argv.length) args.set(a.slice(2), argv[++i]);
    else throw new Error(`unexpected argument '${a}'`);
  }
  if (args.has('list')) {
    for (const [name, s] of Object.entries(PRESETS)) {
      process.stdout.write(`${name}: ${s.architecture} hidden ${s.hiddenSize} layers ${s.numLayers} heads ${s.numHeads}/${s.numKvHeads} vocab ${s.vocabSize}\n`);
    }
    return;
  }
  const out = args.get('out');
  const preset = args.get('preset');
  const dtype = (args.get('dtype') ?? 'bf16') as ModelDtype;
  if (!out || !preset) throw new Error(`--preset and --out are required\n${USAGE}`);
  if (!(dtype in TORCH_DTYPE)) throw new Error(`--dtype must be f32, bf16 or f16, not '${dtype}'`);
  const spelling = Number(args.get('config-spelling') ?? 4);
  if (spelling !== 4 && spelling !== 5) throw new Error('--config-spelling must be 4 or 5');
  const t0 = Date.now();
  const m = makeRandomModel(out, { preset, dtype, seed: Number(args.get('seed') ?? 1), shards: Number(args.get('shards') ?? 1), configSpelling: spelling });
  process.stdout.write(`${out}: ${preset} ${dtype}, ${m.paramCount} parameters, ${m.tensorNames.length} tensors, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`make-random-model: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
