/**
 * Converts a Hugging Face qwen2 model folder (config.json, model.safetensors or shards,
 * tokenizer.json) to a GGUF v3 file that llama.cpp loads, for bench/llama-cpp/compare.ts: 2-D
 * weights keep their dtype (BF16 stays ggml type 30, no requantisation), 1-D norms and biases
 * become F32 as llama.cpp's convert_hf_to_gguf.py writes them. Qwen2 only: llama's HF rope layout
 * would need convert_hf_to_gguf.py's q/k row permutation, which this tool does not do.
 *
 *   node dist/bench/llama-cpp/hf-to-gguf.js DIR OUT.gguf
 */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { bf16BitsToF32, f16BitsToF32, readHeader } from '../lib/safetensors.js';
import { type GgufTensor, type GgufValue, GgmlType, gguf, writeGguf } from './gguf-writer.js';

/** The llama.cpp token types (llama_token_type / gguf.TokenType). */
const TOKEN_NORMAL = 1;
const TOKEN_CONTROL = 3;
const TOKEN_USER_DEFINED = 4;
const TOKEN_UNUSED = 5;

interface HfConfig {
  model_type?: string;
  architectures?: string[];
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
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

/** HF tensor name -> llama.cpp qwen2 name (llama.cpp src/llama-arch.cpp LLM_TENSOR_* names). */
export function qwen2TensorName(hf: string): string | undefined {
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

interface TokenizerJson {
  model: { type: string; vocab: Record<string, number>; merges?: (string | [string, string])[] };
  added_tokens?: { id: number; content: string; special?: boolean }[];
}

/** tokenizer.ggml.* key/values from tokenizer.json, padded to vocabSize with "[PAD<i>]" (UNUSED). */
export function tokenizerKv(tok: TokenizerJson, vocabSize: number, bos: number | undefined, eos: number | undefined): [string, GgufValue][] {
  if (tok.model.type !== 'BPE') throw new Error(`tokenizer.json: model type ${tok.model.type}, only byte-level BPE (gpt2 style) is supported`);
  const tokens: (string | undefined)[] = new Array(vocabSize);
  const types = new Array<number>(vocabSize).fill(TOKEN_UNUSED);
  for (const [text, id] of Object.entries(tok.model.vocab)) {
    if (id >= vocabSize) throw new Error(`tokenizer.json: token id ${id} >= vocab_size ${vocabSize}`);
    tokens[id] = text;
    types[id] = TOKEN_NORMAL;
  }
  for (const a of tok.added_tokens ?? []) {
    if (a.id >= vocabSize) throw new Error(`tokenizer.json: added token id ${a.id} >= vocab_size ${vocabSize}`);
    tokens[a.id] = a.content;
    types[a.id] = a.special ? TOKEN_CONTROL : TOKEN_USER_DEFINED;
  }
  const texts = Array.from(tokens, (t, i) => t ?? `[PAD${i}]`);
  const merges = (tok.model.merges ?? []).map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const kv: [string, GgufValue][] = [
    ['tokenizer.ggml.model', gguf.str('gpt2')],
    ['tokenizer.ggml.pre', gguf.str('qwen2')],
    ['tokenizer.ggml.tokens', gguf.strs(texts)],
    ['tokenizer.ggml.token_type', gguf.i32s(types)],
    ['tokenizer.ggml.merges', gguf.strs(merges)],
  ];
  if (bos !== undefined) kv.push(['tokenizer.ggml.bos_token_id', gguf.u32(bos)]);
  if (eos !== undefined) kv.push(['tokenizer.ggml.eos_token_id', gguf.u32(eos)], ['tokenizer.ggml.padding_token_id', gguf.u32(eos)]);
  kv.push(['tokenizer.ggml.add_bos_token', gguf.bool(false)]);
  return kv;
}

/**
 * bos/eos ids named by tokenizer_config.json's bos_token/eos_token, when those strings are tokens
 * of tokenizer.json (config.json's ids may point past the real vocabulary into the padding).
 */
function specialTokenIds(dir: string, tok: TokenizerJson): { bos?: number; eos?: number } {
  const path = join(dir, 'tokenizer_config.json');
  if (!existsSync(path)) return {};
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const lookup = (v: unknown): number | undefined => {
    const text = typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined;
    if (text === undefined) return undefined;
    return tok.added_tokens?.find((a) => a.content === text)?.id ?? tok.model.vocab[text];
  };
  return { bos: lookup(cfg.bos_token), eos: lookup(cfg.eos_token) };
}

/** Converts dir to a GGUF file at out; returns the number of tensors written. */
export function convertHfToGguf(dir: string, out: string): { tensors: number; dataStart: number } {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as HfConfig;
  const arch = config.model_type ?? '';
  if (arch !== 'qwen2') throw new Error(`${dir}: model_type ${JSON.stringify(arch)}: only qwen2 is supported (llama needs the q/k rope permutation)`);
  const ropeTheta = config.rope_theta ?? config.rope_parameters?.rope_theta ?? 10000;
  const source = listSourceTensors(dir);
  const tied = config.tie_word_embeddings ?? !source.has('lm_head.weight');
  const tensors: GgufTensor[] = [];
  for (const [hf, t] of source) {
    if (hf === 'lm_head.weight' && tied) continue;
    if (hf.endsWith('.rotary_emb.inv_freq')) continue;
    const name = qwen2TensorName(hf);
    if (!name) throw new Error(`${dir}: tensor ${hf} has no llama.cpp qwen2 name`);
    tensors.push(toGgufTensor(name, t));
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
  const fileType = allBf16 ? 32 : allF16 ? 1 : 0; // llama_ftype: MOSTLY_BF16, MOSTLY_F16, ALL_F32

  const tokPath = join(dir, 'tokenizer.json');
  if (!existsSync(tokPath)) throw new Error(`${dir}: tokenizer.json missing (llama.cpp needs a vocabulary)`);
  const tok = JSON.parse(readFileSync(tokPath, 'utf8')) as TokenizerJson;
  const special = specialTokenIds(dir, tok);
  const eos = special.eos ?? (Array.isArray(config.eos_token_id) ? config.eos_token_id[0] : (config.eos_token_id ?? undefined));
  // Qwen2's tokenizer_config has bos_token null and config.json's bos is its eos (<|endoftext|>).
  const bos = special.bos ?? (special.eos !== undefined ? special.eos : (config.bos_token_id ?? undefined));

  const kv = new Map<string, GgufValue>([
    ['general.architecture', gguf.str('qwen2')],
    ['general.name', gguf.str(dir.split('/').filter(Boolean).pop() ?? 'model')],
    ['general.file_type', gguf.u32(fileType)],
    ['general.alignment', gguf.u32(32)],
    ['qwen2.block_count', gguf.u32(config.num_hidden_layers)],
    ['qwen2.context_length', gguf.u32(config.max_position_embeddings)],
    ['qwen2.embedding_length', gguf.u32(config.hidden_size)],
    ['qwen2.feed_forward_length', gguf.u32(config.intermediate_size)],
    ['qwen2.attention.head_count', gguf.u32(config.num_attention_heads)],
    ['qwen2.attention.head_count_kv', gguf.u32(config.num_key_value_heads ?? config.num_attention_heads)],
    ['qwen2.rope.freq_base', gguf.f32(ropeTheta)],
    ['qwen2.attention.layer_norm_rms_epsilon', gguf.f32(config.rms_norm_eps)],
    ...tokenizerKv(tok, config.vocab_size, bos, eos),
  ]);
  const dataStart = writeGguf(out, kv, tensors);
  return { tensors: tensors.length, dataStart };
}

function main(argv: string[]): void {
  if (argv.length !== 2) {
    process.stderr.write('usage: node dist/bench/llama-cpp/hf-to-gguf.js HF_DIR OUT.gguf\n');
    process.exit(2);
  }
  const t0 = Date.now();
  const r = convertHfToGguf(argv[0], argv[1]);
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
