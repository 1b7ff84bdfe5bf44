/**
 * An independent float64 reference forward pass for llama / qwen2 / mistral folders, written from
 * the math in transformers' modeling_llama.py (RMSNorm, rotate_half RoPE, _compute_llama3_parameters,
 * repeat_kv GQA, SiLU-GLU, tied head, q/k/v bias). Shares no code with native/: it reads weights
 * with bench/lib/safetensors.ts. Slow and exact; for parity tests on tiny models and stories260K.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ReadTensor, bf16BitsToF32, f32ToBf16Bits, readModelTensors } from '../../bench/lib/safetensors.js';

export interface ReferenceConfig {
  architecture: 'llama' | 'qwen2' | 'mistral';
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  vocab: number;
  eps: number;
  ropeTheta: number;
  tied: boolean;
  bias: boolean;
  /** inv_freq (headDim / 2) after rope scaling. */
  invFreq: Float64Array;
}

type Json = Record<string, unknown>;

/** HF _compute_default / _compute_linear / _compute_llama3_parameters (attention_factor is 1 for all three). */
export function ropeInvFreq(headDim: number, theta: number, scaling: Json | null): Float64Array {
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / theta ** ((2 * i) / headDim);
  const type = scaling ? String(scaling.rope_type ?? scaling.type ?? 'default') : 'default';
  if (type === 'default') return inv;
  const factor = Number(scaling!.factor);
  if (type === 'linear') return inv.map((f) => f / factor);
  if (type !== 'llama3') throw new Error(`reference: rope type ${type} not supported`);
  const low = Number(scaling!.low_freq_factor);
  const high = Number(scaling!.high_freq_factor);
  const oldCtx = Number(scaling!.original_max_position_embeddings);
  const lowWavelen = oldCtx / low;
  const highWavelen = oldCtx / high;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f; // high frequency: unchanged
    if (wavelen > lowWavelen) return f / factor; // low frequency: interpolated
    const smooth = (oldCtx / wavelen - low) / (high - low);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** Reads config.json in transformers 4.x (rope_theta, rope_scaling) or 5.x (rope_parameters) spelling. */
export function readReferenceConfig(dir: string): ReferenceConfig {
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Json;
  const architecture = c.model_type as ReferenceConfig['architecture'];
  if (!['llama', 'qwen2', 'mistral'].includes(architecture)) throw new Error(`reference: model_type ${String(c.model_type)}`);
  const hidden = Number(c.hidden_size);
  const heads = Number(c.num_attention_heads);
  const headDim = c.head_dim != null ? Number(c.head_dim) : hidden / heads;
  const params = (c.rope_parameters ?? null) as Json | null;
  const ropeTheta = Number(c.rope_theta ?? params?.rope_theta ?? 10000);
  const scaling = (c.rope_scaling ?? params ?? null) as Json | null;
  return {
    architecture, hidden, heads, headDim, ropeTheta,
    intermediate: Number(c.intermediate_size),
    layers: Number(c.num_hidden_layers),
    kvHeads: Number(c.num_key_value_heads ?? heads),
    vocab: Number(c.vocab_size),
    eps: Number(c.rms_norm_eps),
    tied: c.tie_word_embeddings === true,
    bias: architecture === 'qwen2' || c.attention_bias === true,
    invFreq: ropeInvFreq(headDim, ropeTheta, scaling),
  };
}

interface Linear { w: Float64Array; b: Float64Array | null; out: number; inp: number }

function linear(t: Map<string, ReadTensor>, name: string, out: number, inp: number, bias: boolean): Linear {
  const w = t.get(`${name}.weight`);
  if (!w) throw new Error(`reference: missing ${name}.weight`);
  if (w.shape[0] !== out || w.shape[1] !== inp) throw new Error(`reference: ${name}.weight shape [${w.shape.join(', ')}], want [${out}, ${inp}]`);
  const b = bias ? t.get(`${name}.bias`) : undefined;
  if (bias && !b) throw new Error(`reference: missing ${name}.bias`);
  return { w: Float64Array.from(w.data), b: b ? Float64Array.from(b.data) : null, out, inp };
}

function vector(t: Map<string, ReadTensor>, name: string): Float64Array {
  const v = t.get(name);
  if (!v) throw new Error(`reference: missing ${name}`);
  return Float64Array.from(v.data);
}

/** x rounded to float32 and then to bfloat16 (nearest even), as a bf16 dot-product kernel sees it. */
function roundBf16(x: Float64Array): Float64Array {
  const scratch = new Float32Array(1);
  return x.map((v) => bf16BitsToF32(f32ToBf16Bits(v, scratch)));
}

/** y (out) = W (out, inp) x (inp) + b; with bf16Inputs, x is first rounded to bfloat16. */
function matvec(l: Linear, xIn: Float64Array, bf16Inputs = false): Float64Array {
  const x = bf16Inputs ? roundBf16(xIn) : xIn;
  const y = new Float64Array(l.out);
  for (let o = 0; o < l.out; o++) {
    let s = l.b ? l.b[o] : 0;
    const row = o * l.inp;
    for (let i = 0; i < l.inp; i++) s += l.w[row + i] * x[i];
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const r = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * r * w[i]);
}

/** In place on one head (headDim values at off): HF apply_rotary_pos_emb with rotate_half. */
function rope(x: Float64Array, off: number, headDim: number, pos: number, invFreq: Float64Array): void {
  const half = headDim / 2;
  for (let i = 0; i < half; i++) {
    const a = pos * invFreq[i];
    const c = Math.cos(a);
    const s = Math.sin(a);
    const x0 = x[off + i];
    const x1 = x[off + i + half];
    x[off + i] = x0 * c - x1 * s;
    x[off + i + half] = x1 * c + x0 * s;
  }
}

export interface ReferenceLoadOptions {
  bf16MatmulInputs?: boolean;
  /** Store K (after RoPE) and V rounded to bfloat16, as the engine's bf16 KV cache does (see load()). */
  bf16KV?: boolean;
}

interface Layer {
  inNorm: Float64Array; postNorm: Float64Array;
  q: Linear; k: Linear; v: Linear; o: Linear; gate: Linear; up: Linear; down: Linear;
}

export class ReferenceModel {
  readonly config: ReferenceConfig;
  private readonly embed: Float64Array;
  private readonly layers: Layer[];
  private readonly norm: Float64Array;
  private readonly head: Linear;
  /** Round every matmul input to bfloat16 (see load()). */
  readonly bf16MatmulInputs: boolean;
  /** Round every K and V row to bfloat16 as it is stored (see load()). */
  readonly bf16KV: boolean;

  private constructor(dir: string, opts: ReferenceLoadOptions) {
    this.bf16MatmulInputs = opts.bf16MatmulInputs ?? false;
    this.bf16KV = opts.bf16KV ?? false;
    const c = readReferenceConfig(dir);
    this.config = c;
    const t = readModelTensors(dir);
    const e = t.get('model.embed_tokens.weight');
    if (!e || e.shape[0] !== c.vocab || e.shape[1] !== c.hidden) throw new Error('reference: bad model.embed_tokens.weight');
    this.embed = Float64Array.from(e.data);
    const qd = c.heads * c.headDim;
    const kvd = c.kvHeads * c.headDim;
    this.layers = [];
    for (let l = 0; l < c.layers; l++) {
      const p = `model.layers.${l}.`;
      this.layers.push({
        inNorm: vector(t, `${p}input_layernorm.weight`),
        postNorm: vector(t, `${p}post_attention_layernorm.weight`),
        q: linear(t, `${p}self_attn.q_proj`, qd, c.hidden, c.bias),
        k: linear(t, `${p}self_attn.k_proj`, kvd, c.hidden, c.bias),
        v: linear(t, `${p}self_attn.v_proj`, kvd, c.hidden, c.bias),
        o: linear(t, `${p}self_attn.o_proj`, c.hidden, qd, false),
        gate: linear(t, `${p}mlp.gate_proj`, c.intermediate, c.hidden, false),
        up: linear(t, `${p}mlp.up_proj`, c.intermediate, c.hidden, false),
        down: linear(t, `${p}mlp.down_proj`, c.hidden, c.intermediate, false),
      });
    }
    this.norm = vector(t, 'model.norm.weight');
    this.head = c.tied ? { w: this.embed, b: null, out: c.vocab, inp: c.hidden } : linear(t, 'lm_head', c.vocab, c.hidden, false);
  }

  /**
   * Loads a folder (weights widened exactly from F32/BF16/F16 to float64). bf16MatmulInputs
   * models a kernel that multiplies bf16 weights with bf16-rounded activations (VDPBF16PS): the
   * input vector of every linear layer is rounded to bfloat16; everything else stays float64.
   * bf16KV models the engine's bf16 K/V storage (docs/engine.md "K/V dtype"): each K row after
   * RoPE and each V row is rounded to float32 and then to bfloat16 when stored, and every query
   * (the row's own included) reads the rounded values.
   */
  static load(dir: string, opts: ReferenceLoadOptions = {}): ReferenceModel {
    return new ReferenceModel(dir, opts);
  }

  createSession(): ReferenceSession {
    return new ReferenceSession(this);
  }

  /** Internals for ReferenceSession: the weights of layer i, the embedding, the final norm and head. */
  layer(i: number): Layer {
    return this.layers[i];
  }
  embedRow(token: number): Float64Array {
    if (!Number.isInteger(token) || token < 0 || token >= this.config.vocab) throw new Error(`reference: token ${token} out of range`);
    return this.embed.slice(token * this.config.hidden, (token + 1) * this.config.hidden);
  }
  finalNorm(x: Float64Array): Float64Array {
    return rmsNorm(x, this.norm, this.config.eps);
  }
  logits(hidden: Float64Array): Float64Array {
    return matvec(this.head, hidden, this.bf16MatmulInputs);
  }

  /** Greedy decoding: the maxNew argmax tokens after the prompt (prompt teacher-forced, fp64). */
  greedy(prompt: number[], maxNew: number): number[] {
    const s = this.createSession();
    let rows = s.forward(prompt, { allRows: false }).logits;
    const out: number[] = [];
    for (let i = 0; i < maxNew; i++) {
      const next = argmax(rows[rows.length - 1]);
      out.push(next);
      rows = s.forward([next], { allRows: false }).logits;
    }
    return out;
  }
}

export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

export interface ReferenceForwardOptions {
  /** (n) RoPE positions; default length .. length + n - 1. */
  positions?: ArrayLike<number>;
  /** (n, length + n) row-major, nonzero = may attend; default causal. */
  mask?: ArrayLike<number>;
  /** Return every row (default) or only the last. */
  allRows?: boolean;
}

/** A KV cache over float64 K/V rows; forward appends and commits, truncate drops. */
export class ReferenceSession {
  private readonly m: ReferenceModel;
  private readonly c: ReferenceConfig;
  /** k[layer][pos]: (kvHeads * headDim) post-RoPE; v likewise. */
  private readonly k: Float64Array[][];
  private readonly v: Float64Array[][];

  constructor(model: ReferenceModel) {
    const c = model.config;
    this.m = model;
    this.c = c;
    this.k = Array.from({ length: c.layers }, () => []);
    this.v = Array.from({ length: c.layers }, () => []);
  }

  get length(): number {
    return this.k[0]?.length ?? 0;
  }

  truncate(len: number): void {
    for (const a of [...this.k, ...this.v]) a.length = Math.min(a.length, len);
  }

  /** logits[r]: (vocab), hidden[r]: (hidden) post-final-norm, for each of the n rows (or the last). */
  forward(tokens: ArrayLike<number>, opts: ReferenceForwardOptions = {}): { logits: Float64Array[]; hidden: Float64Array[] } {
    const c = this.c;
    const m = this.m;
    const n = tokens.length;
    const past = this.length;
    const total = past + n;
    const positions = Array.from({ length: n }, (_, i) => (opts.positions ? opts.positions[i] : past + i));
    const allowed = (r: number, j: number): boolean => (opts.mask ? opts.mask[r * total + j] !== 0 : j <= past + r);
    const group = c.heads / c.kvHeads;
    const scale = 1 / Math.sqrt(c.headDim);
    const bf = m.bf16MatmulInputs;
    let xs = Array.from({ length: n }, (_, i) => m.embedRow(tokens[i]));
    for (let l = 0; l < c.layers; l++) {
      const L = m.layer(l);
      const qs: Float64Array[] = [];
      for (let i = 0; i < n; i++) {
        const h = rmsNorm(xs[i], L.inNorm, c.eps);
        const q = matvec(L.q, h, bf);
        const k = matvec(L.k, h, bf);
        const v = matvec(L.v, h, bf);
        for (let hh = 0; hh < c.heads; hh++) rope(q, hh * c.headDim, c.headDim, positions[i], c.invFreq);
        for (let hh = 0; hh < c.kvHeads; hh++) rope(k, hh * c.headDim, c.headDim, positions[i], c.invFreq);
        qs.push(q);
        this.k[l].push(m.bf16KV ? roundBf16(k) : k);
        this.v[l].push(m.bf16KV ? roundBf16(v) : v);
      }
      const next: Float64Array[] = [];
      for (let i = 0; i < n; i++) {
        const attn = new Float64Array(c.heads * c.headDim);
        for (let hh = 0; hh < c.heads; hh++) {
          const kvh = Math.floor(hh / group);
          const scores: number[] = [];
          const js: number[] = [];
          for (let j = 0; j < total; j++) {
            if (!allowed(i, j)) continue;
            const kj = this.k[l][j];
            let s = 0;
            for (let d = 0; d < c.headDim; d++) s += qs[i][hh * c.headDim + d] * kj[kvh * c.headDim + d];
            scores.push(s * scale);
            js.push(j);
          }
          if (js.length === 0) throw new Error(`reference: row ${i} attends to nothing`);
          const mx = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - mx));
          const z = e.reduce((a, b) => a + b, 0);
          js.forEach((j, t) => {
            const p = e[t] / z;
            const vj = this.v[l][j];
            for (let d = 0; d < c.headDim; d++) attn[hh * c.headDim + d] += p * vj[kvh * c.headDim + d];
          });
        }
        const o = matvec(L.o, attn, bf);
        const x = xs[i].map((v, d) => v + o[d]);
        const h2 = rmsNorm(x, L.postNorm, c.eps);
        const g = matvec(L.gate, h2, bf);
        const u = matvec(L.up, h2, bf);
        const a = g.map((gv, d) => (gv / (1 + Math.exp(-gv))) * u[d]);
        const down = matvec(L.down, a, bf);
        next.push(x.map((v, d) => v + down[d]));
      }
      xs = next;
    }
    const rows = opts.allRows === false ? [n - 1] : Array.from({ length: n }, (_, i) => i);
    const hidden = rows.map((r) => m.finalNorm(xs[r]));
    return { hidden, logits: hidden.map((h) => m.logits(h)) };
  }
}
