/**
 * Converts a Hugging Face qwen2 or llama model folder (config.json, model.safetensors or shards,
 * tokenizer.json) to a GGUF v3 file that llama.cpp loads, for bench/llama-cpp/compare.ts and the
 * llama-server tests (test/remote): 2-D weights keep their dtype (BF16 stays ggml type 30, no
 * requantisation), 1-D norms and biases become F32 as llama.cpp's convert_hf_to_gguf.py writes
 * them. For llama, the rows of q_proj and k_proj are permuted per head from HF's rotate-half rope
 * layout (pairs (i, i + d/2)) back to the interleaved pairs (2i, 2i + 1) llama.cpp's llama rope
 * uses, as convert_hf_to_gguf.py's LlamaModel.permute does; qwen2 uses llama.cpp's NeoX rope
 * (rotate-half) and is copied as is. Tokenizer metadata: gguf-tokenizer.ts.
 *
 *   node dist/bench/llama-cpp/hf-to-gguf.js DIR OUT.gguf
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { bf16BitsToF32, f16BitsToF32, readHeader } from '../lib/safetensors.js';
import { quantizeRows, type QuantFormat } from './gguf-quantize.js';
import { tokenizerKv, type SpecialTokens, type TokenizerJson } from './gguf-tokenizer.js';
import { type GgufTensor, type GgufValue, GgmlType, gguf, writeGguf } from './gguf-writer.js';

const ARCHITECTURES = ['qwen2', 'llama'];

interface HfConfig {
  model_type?: string;
  architectures?: string[];
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta?: number;
  rope_parameters?: { rope_theta?: number };
  vocab_size: number;
  tie_word_embeddings?: boolean;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
}

interface SourceTensor {
  file: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range in file. */
  begin: number;
  end: number;
}

/** HF tensor name -> llama.cpp name, the same for qwen2 and llama (llama.cpp src/llama-arch.cpp LLM_TENSOR_* names). */
export function ggufTensorName(hf: string): string | undefined {
  const fixed: Record<string, string> = {
    'model.embed_tokens.weight': 'token_embd.weight',
    'model.norm.weight': 'output_norm.weight',
    'lm_head.weight': 'output.weight',
  };
  if (fixed[hf]) return fixed[hf];
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hf);
  if (!m) return undefined;
  const part: Record<string, string> = {
    input_layernorm: 'attn_norm',
    'self_attn.q_proj': 'attn_q',
    'self_attn.k_proj': 'attn_k',
    'self_attn.v_proj': 'attn_v',
    'self_attn.o_proj': 'attn_output',
    post_attention_layernorm: 'ffn_norm',
    'mlp.gate_proj': 'ffn_gate',
    'mlp.up_proj': 'ffn_up',
    'mlp.down_proj': 'ffn_down',
  };
  return part[m[2]] ? `blk.${m[1]}.${part[m[2]]}.${m[3]}` : undefined;
}

function listSourceTensors(dir: string): Map<string, SourceTensor> {
  const index = join(dir, 'model.safetensors.index.json');
  const files = existsSync(index)
    ? [...new Set(Object.values((JSON.parse(readFileSync(index, 'utf8')) as { weight_map: Record<string, string> }).weight_map))]
    : ['model.safetensors'];
  const out = new Map<string, SourceTensor>();
  for (const f of files) {
    const file = join(dir, f);
    const { entries, dataStart } = readHeader(file);
    for (const [name, e] of entries) {
      out.set(name, { file, dtype: e.dtype, shape: e.shape, begin: dataStart + e.data_offsets[0], end: dataStart + e.data_offsets[1] });
    }
  }
  return out;
}

/** Streams [begin, end) of a file through write in chunks of at most 16 MiB. */
function copyRange(file: string, begin: number, end: number, write: (chunk: Uint8Array) => void): void {
  const fd = openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(Math.min(16 << 20, Math.max(1, end - begin)));
    for (let at = begin; at < end; ) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, end - at), at);
      if (n <= 0) throw new Error(`${file}: unexpected end of file at byte ${at}`);
      write(chunk.subarray(0, n));
      at += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** One source tensor as a GGUF tensor: 2-D keeps its dtype, 1-D is widened to F32. */
function toGgufTensor(name: string, t: SourceTensor): GgufTensor {
  const types: Record<string, GgmlType> = { BF16: GgmlType.BF16, F16: GgmlType.F16, F32: GgmlType.F32 };
  if (!(t.dtype in types)) throw new Error(`${name}: unsupported safetensors dtype ${t.dtype}`);
  const dims = [...t.shape].reverse(); // ggml: innermost first
  if (t.shape.length >= 2 || t.dtype === 'F32') {
    return { name, type: types[t.dtype], dims, write: (w) => copyRange(t.file, t.begin, t.end, w) };
  }
  return {
    name,
    type: GgmlType.F32,
    dims,
    write: (w) => {
      // 1-D tensors are small: read whole, widen 16-bit values to float32.
      const src = Buffer.alloc(t.end - t.begin);
      let at = 0;
      copyRange(t.file, t.begin, t.end, (c) => {
        src.set(c, at);
        at += c.length;
      });
      const out = new Float32Array(src.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = t.dtype === 'BF16' ? bf16BitsToF32(src.readUInt16LE(2 * i)) : f16BitsToF32(src.readUInt16LE(2 * i));
      w(new Uint8Array(out.buffer));
    },
  };
}

/**
 * The rows of a [heads·d, cols] projection reordered per head for llama.cpp's llama rope: new row
 * 2j + s of a head is old row s·d/2 + j (s in {0, 1}, j < d/2), convert_hf_to_gguf.py's
 * reshape(heads, 2, d/2, cols).swapaxes(1, 2). Works on 1-D biases too (cols = 1).
 */
export function permuteRopeRows(src: Uint8Array, rows: number, heads: number): Uint8Array {
  if (rows % (2 * heads) !== 0) throw new Error(`cannot permute ${rows} rows into ${heads} heads of even size`);
  const rowBytes = src.length / rows;
  const d = rows / heads;
  const out = new Uint8Array(src.length);
  for (let h = 0; h < heads; h++) {
    for (let j = 0; j < d / 2; j++) {
      for (let s = 0; s < 2; s++) {
        const from = (h * d + s * (d / 2) + j) * rowBytes;
        out.set(src.subarray(from, from + rowBytes), (h * d + 2 * j + s) * rowBytes);
      }
    }
  }
  return out;
}

function readRange(t: SourceTensor): Uint8Array {
  const buf = new Uint8Array(t.end - t.begin);
  let at = 0;
  copyRange(t.file, t.begin, t.end, (c) => {
    buf.set(c, at);
    at += c.length;
  });
  return buf;
}

/**
 * bos/eos/unk ids named by tokenizer_config.json's bos_token/eos_token/unk_token, when those
 * strings are tokens of tokenizer.json (config.json's ids may point past the real vocabulary into
 * the padding), and its add_bos_token.
 */
function specialTokenIds(dir: string, tok: TokenizerJson): Omit<SpecialTokens, 'addBos'> & { addBos?: boolean } {
  const path = join(dir, 'tokenizer_config.json');
  if (!existsSync(path)) return {};
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const lookup = (v: unknown): number | undefined => {
    const text = typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;
    if (text === undefined) return undefined;
    return tok.added_tokens?.find((a) => a.content === text)?.id ?? tok.model.vocab[text];
  };
  return { bos: lookup(cfg.bos_token), eos: lookup(cfg.eos_token), unk: lookup(cfg.unk_token), addBos: typeof cfg.add_bos_token === 'boolean' ? cfg.add_bos_token : undefined };
}

/** Converts dir to a GGUF file at out; returns the number of tensors written. */
/** A 2-D tensor's raw little-endian BF16 / F16 / F32 bytes as f32 values. */
function toF32(raw: Uint8Array, dtype: string): Float32Array {
  const copy = raw.slice();  // aligned
  if (dtype === 'F32') return new Float32Array(copy.buffer);
  const h = new Uint16Array(copy.buffer);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(h.length);
    for (let i = 0; i < h.length; i++) bits[i] = h[i]! << 16;
    return new Float32Array(bits.buffer);
  }
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = f16BitsToF32(h[i]!);
  return out;
}

/**
 * weights 'q8_0' / 'q4_0': the 2-D tensors quantized (gguf-quantize.ts) as the engine's
 * engine.weights of the same name keeps them: the blocks' matrices in that format, the token
 * embedding and the output head in Q8_0 (native/src/core/model.cpp), so both programs run the same mix.
 */
export function convertHfToGguf(dir: string, out: string, weights?: QuantFormat): { tensors: number; dataStart: number } {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as HfConfig;
  const arch = config.model_type ?? '';
  if (!ARCHITECTURES.includes(arch)) throw new Error(`${dir}: model_type ${JSON.stringify(arch)}: only ${ARCHITECTURES.join(' and ')} are supported`);
  const heads = config.num_attention_heads;
  const kvHeads = config.num_key_value_heads ?? heads;
  const headDim = config.head_dim ?? config.hidden_size / heads;
  const ropeTheta = config.rope_theta ?? config.rope_parameters?.rope_theta ?? 10000;
  const source = listSourceTensors(dir);
  const tied = config.tie_word_embeddings ?? !source.has('lm_head.weight');
  const tensors: GgufTensor[] = [];
  for (const [hf, t] of source) {
    if (hf === 'lm_head.weight' && tied) continue;
    if (hf.endsWith('.rotary_emb.inv_freq')) continue;
    const name = ggufTensorName(hf);
    if (!name) throw new Error(`${dir}: tensor ${hf} has no llama.cpp ${arch} name`);
    const tensor = toGgufTensor(name, t);
    const qk = /\.attn_([qk])\.weight$/.exec(name);
    if (arch === 'llama' && qk) {
      tensor.write = (w) => w(permuteRopeRows(readRange(t), t.shape[0]!, qk[1] === 'q' ? heads : kvHeads));
    } else if (arch === 'llama' && /\.attn_[qk]\.bias$/.test(name)) {
      throw new Error(`${hf}: llama q/k biases are not supported`);
    }
    if (weights && t.shape.length === 2) {
      const format: QuantFormat = name === 'token_embd.weight' || name === 'output.weight' ? 'q8_0' : weights;
      const raw = tensor.write;
      const [rows, cols] = [t.shape[0]!, t.shape[1]!];
      tensor.type = format === 'q8_0' ? GgmlType.Q8_0 : GgmlType.Q4_0;
      tensor.write = (w) => {
        const parts: Uint8Array[] = [];
        raw((c) => parts.push(c.slice()));
        w(quantizeRows(format, toF32(Buffer.concat(parts), t.dtype), rows, cols));
      };
    }
    tensors.push(tensor);
  }
  const order = (n: string): [number, string] => {
    const m = /^blk\.(\d+)\./.exec(n);
    return m ? [1 + Number(m[1]), n] : n.startsWith('token_embd') ? [0, n] : [1e9, n];
  };
  tensors.sort((a, b) => {
    const [x, xn] = order(a.name);
    const [y, yn] = order(b.name);
    return x - y || (xn < yn ? -1 : xn > yn ? 1 : 0);
  });
  const allBf16 = tensors.filter((t) => t.dims.length >= 2).every((t) => t.type === GgmlType.BF16);
  const allF16 = tensors.filter((t) => t.dims.length >= 2).every((t) => t.type === GgmlType.F16);
  // llama_ftype: MOSTLY_Q8_0, MOSTLY_Q4_0, MOSTLY_BF16, MOSTLY_F16, ALL_F32
  const fileType = weights === 'q8_0' ? 7 : weights === 'q4_0' ? 2 : allBf16 ? 32 : allF16 ? 1 : 0;

  const tokPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokPath)) throw new Error(`${dir}: tokenizer.json missing (llama.cpp needs a vocabulary)`);
  const tok = JSON.parse(readFileSync(tokPath, 'utf8')) as TokenizerJson;
  const special = specialTokenIds(dir, tok);
  const eos = special.eos ?? (Array.isArray(config.eos_token_id) ? config.eos_token_id[0] : (config.eos_token_id ?? undefined));
  // Qwen2's tokenizer_config has bos_token null and config.json's bos is its eos (<|endoftext|>).
  const bos = special.bos ?? (special.eos !== undefined ? special.eos : (config.bos_token_id ?? undefined));

  const kv = new Map<string, GgufValue>([
    ['general.architecture', gguf.str(arch)],
    ['general.name', gguf.str(dir.split('/').filter(Boolean).pop() ?? 'model')],
    ['general.file_type', gguf.u32(fileType)],
    ['general.alignment', gguf.u32(32)],
    [`${arch}.block_count`, gguf.u32(config.num_hidden_layers)],
    [`${arch}.context_length`, gguf.u32(config.max_position_embeddings)],
    [`${arch}.embedding_length`, gguf.u32(config.hidden_size)],
    [`${arch}.feed_forward_length`, gguf.u32(config.intermediate_size)],
    [`${arch}.attention.head_count`, gguf.u32(heads)],
    [`${arch}.attention.head_count_kv`, gguf.u32(kvHeads)],
    [`${arch}.rope.freq_base`, gguf.f32(ropeTheta)],
    [`${arch}.attention.layer_norm_rms_epsilon`, gguf.f32(config.rms_norm_eps)],
    ...(arch === 'llama'
      ? ([
          ['llama.rope.dimension_count', gguf.u32(headDim)],
          ['llama.attention.key_length', gguf.u32(headDim)],
          ['llama.attention.value_length', gguf.u32(headDim)],
          ['llama.vocab_size', gguf.u32(config.vocab_size)],
        ] as [string, GgufValue][])
      : []),
    ...tokenizerKv(tok, config.vocab_size, { bos, eos, unk: special.unk, addBos: special.addBos ?? false }),
  ]);
  const dataStart = writeGguf(out, kv, tensors);
  return { tensors: tensors.length, dataStart };
}

function main(argv: string[]): void {
  const weights = argv[2] === '--weights' && (argv[3] === 'q8_0' || argv[3] === 'q4_0') ? argv[3] : undefined;
  if (argv.length !== (weights ? 4 : 2)) {
    process.stderr.write('usage: node dist/bench/llama-cpp/hf-to-gguf.js HF_DIR OUT.gguf [--weights q8_0|q4_0]\n');
    process.exit(2);
  }
  const t0 = Date.now();
  const r = convertHfToGguf(argv[0], argv[1], weights);
  process.stdout.write(`${argv[1]}: ${r.tensors} tensors in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`hf-to-gguf: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
