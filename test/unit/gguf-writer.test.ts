/**
 * bench/llama-cpp/gguf-writer.ts and hf-to-gguf.ts: a written GGUF parses back (magic, version,
 * counts, typed key/values, aligned tensor offsets, the bytes at those offsets), and a tiny random
 * qwen2 folder converts with llama.cpp's tensor names, ggml dim order, BF16 kept bit for bit, 1-D
 * tensors widened to F32 and the vocabulary padded to vocab_size; a tiny llama folder converts with
 * q/k rows permuted per head (the rest copied), and stories260K's byte-fallback tokenizer becomes
 * llama.cpp's SPM vocabulary. That llama.cpp runs these files like the engine is test/remote's.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GgmlType, gguf, readGgufHeader, writeGguf, type GgufValue } from '../../bench/llama-cpp/gguf-writer.js';
import { convertHfToGguf, ggufTensorName, permuteRopeRows } from '../../bench/llama-cpp/hf-to-gguf.js';
import { byteLevelPre } from '../../bench/llama-cpp/gguf-tokenizer.js';
import { repoRoot, stories260K } from '../helpers/paths.js';
import { readHeader, readSafetensors } from '../../bench/lib/safetensors.js';
import { makeRandomModel } from '../../bench/make-random-model.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'slipstream-gguf-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('GGUF writer', () => {
  it('writes a v3 header that parses back with its key/values, tensor infos and 32-byte aligned data', () => {
    const path = join(tempDir(), 'tiny.gguf');
    const a = bytes(3 * 4, 1); // F32 [3]: 12 bytes, so the next tensor needs padding
    const b = bytes(5 * 3 * 2, 2); // BF16, HF shape [3, 5] -> ggml dims [5, 3]
    const kv = new Map<string, GgufValue>([
      ['general.architecture', gguf.str('qwen2')],
      ['qwen2.block_count', gguf.u32(24)],
      ['qwen2.rope.freq_base', gguf.f32(1e6)],
      ['tokenizer.ggml.add_bos_token', gguf.bool(false)],
      ['tokenizer.ggml.tokens', gguf.strs(['a', 'Ġb', '[PAD2]'])],
      ['tokenizer.ggml.token_type', gguf.i32s([1, 1, 5])],
      ['tokenizer.ggml.merges', gguf.strs([])],
    ]);
    const dataStart = writeGguf(path, kv, [
      { name: 'a', type: GgmlType.F32, dims: [3], write: (w) => w(a) },
      { name: 'b', type: GgmlType.BF16, dims: [5, 3], write: (w) => { w(b.subarray(0, 7)); w(b.subarray(7)); } },
    ]);
    const buf = readFileSync(path);
    expect(buf.subarray(0, 4).toString('latin1')).toBe('GGUF');
    const h = readGgufHeader(path);
    expect(h.version).toBe(3);
    expect(h.kv.size).toBe(7);
    expect(h.tensors.length).toBe(2);
    expect(h.kv.get('general.architecture')).toBe('qwen2');
    expect(h.kv.get('qwen2.block_count')).toBe(24);
    expect(h.kv.get('qwen2.rope.freq_base')).toBe(1e6);
    expect(h.kv.get('tokenizer.ggml.add_bos_token')).toBe(false);
    expect(h.kv.get('tokenizer.ggml.tokens')).toEqual(['a', 'Ġb', '[PAD2]']);
    expect(h.kv.get('tokenizer.ggml.token_type')).toEqual([1, 1, 5]);
    expect(h.kv.get('tokenizer.ggml.merges')).toEqual([]);
    expect(h.dataStart).toBe(dataStart);
    expect(dataStart % 32).toBe(0);
    expect(h.tensors.map((t) => [t.name, t.dims, t.type])).toEqual([['a', [3], GgmlType.F32], ['b', [5, 3], GgmlType.BF16]]);
    expect(h.tensors[0].offset).toBe(0);
    expect(h.tensors[1].offset).toBe(32);
    expect(buf.subarray(dataStart, dataStart + a.length)).toEqual(Buffer.from(a));
    expect(buf.subarray(dataStart + 32, dataStart + 32 + b.length)).toEqual(Buffer.from(b));
    expect(buf.subarray(dataStart + a.length, dataStart + 32).every((x) => x === 0)).toBe(true);
    expect(statSync(path).size).toBe(dataStart + 64);
  });

  it('rejects a tensor whose writer produces the wrong number of bytes', () => {
    const path = join(tempDir(), 'bad.gguf');
    expect(() => writeGguf(path, new Map(), [{ name: 'x', type: GgmlType.F32, dims: [4], write: (w) => w(new Uint8Array(12)) }])).toThrow(/x: wrote 12 bytes, expected 16/);
  });

  it('refuses a file without the GGUF magic', () => {
    const dir = tempDir();
    makeRandomModel(dir, { preset: 'tiny-qwen2', dtype: 'bf16', seed: 3 });
    expect(() => readGgufHeader(join(dir, 'model.safetensors'))).toThrow(/not a GGUF file/);
  });
});

describe('HF qwen2 to GGUF conversion', () => {
  it('maps HF qwen2 tensor names to llama.cpp names', () => {
    expect(ggufTensorName('model.embed_tokens.weight')).toBe('token_embd.weight');
    expect(ggufTensorName('model.layers.11.self_attn.k_proj.bias')).toBe('blk.11.attn_k.bias');
    expect(ggufTensorName('model.layers.0.self_attn.o_proj.weight')).toBe('blk.0.attn_output.weight');
    expect(ggufTensorName('model.layers.3.post_attention_layernorm.weight')).toBe('blk.3.ffn_norm.weight');
    expect(ggufTensorName('model.layers.3.mlp.down_proj.weight')).toBe('blk.3.ffn_down.weight');
    expect(ggufTensorName('model.norm.weight')).toBe('output_norm.weight');
    expect(ggufTensorName('model.layers.0.mlp.experts.0.weight')).toBeUndefined();
  });

  it('converts a tiny bf16 qwen2 folder: llama.cpp names and metadata, BF16 bytes kept, norms as F32, padded vocab', () => {
    const dir = tempDir();
    makeRandomModel(dir, { preset: 'tiny-qwen2', dtype: 'bf16', seed: 7 });
    const out = join(dir, 'model.gguf');
    const r = convertHfToGguf(dir, out);
    const h = readGgufHeader(out);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, number>;
    expect(h.kv.get('general.architecture')).toBe('qwen2');
    expect(h.kv.get('general.file_type')).toBe(32);
    expect(h.kv.get('qwen2.block_count')).toBe(config.num_hidden_layers);
    expect(h.kv.get('qwen2.embedding_length')).toBe(config.hidden_size);
    expect(h.kv.get('qwen2.feed_forward_length')).toBe(config.intermediate_size);
    expect(h.kv.get('qwen2.attention.head_count_kv')).toBe(config.num_key_value_heads);
    expect(h.kv.get('qwen2.attention.layer_norm_rms_epsilon')).toBeCloseTo(config.rms_norm_eps, 12);
    expect(h.kv.get('tokenizer.ggml.model')).toBe('gpt2');
    expect(h.kv.get('tokenizer.ggml.pre')).toBe('qwen2');
    const tokens = h.kv.get('tokenizer.ggml.tokens') as string[];
    const types = h.kv.get('tokenizer.ggml.token_type') as number[];
    expect(tokens.length).toBe(config.vocab_size);
    expect(types.length).toBe(config.vocab_size);
    const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number>; merges: unknown[] }; added_tokens: { id: number; content: string }[] };
    const realVocab = Object.keys(tok.model.vocab).length + tok.added_tokens.length;
    if (realVocab < config.vocab_size) {
      expect(tokens[config.vocab_size - 1]).toBe(`[PAD${config.vocab_size - 1}]`);
      expect(types[config.vocab_size - 1]).toBe(5);
    }
    const eos = tok.added_tokens.find((a) => a.content === '<|endoftext|>');
    if (eos) expect(h.kv.get('tokenizer.ggml.eos_token_id')).toBe(eos.id);
    expect((h.kv.get('tokenizer.ggml.merges') as string[]).length).toBe(tok.model.merges.length);

    const names = h.tensors.map((t) => t.name);
    expect(r.tensors).toBe(names.length);
    expect(names[0]).toBe('token_embd.weight');
    expect(names).toContain('blk.1.attn_q.bias');
    expect(names).toContain('output.weight'); // tiny-qwen2 has an untied head
    expect(names).toContain('output_norm.weight');
    expect(names.every((n) => n === 'token_embd.weight' || n.startsWith('blk.') || n.startsWith('output'))).toBe(true);
    expect(h.tensors.every((t) => t.offset % 32 === 0)).toBe(true);

    const st = join(dir, 'model.safetensors');
    const { entries, dataStart } = readHeader(st);
    const src = readFileSync(st);
    const gg = readFileSync(out);
    const up = h.tensors.find((t) => t.name === 'blk.0.ffn_up.weight')!;
    const upHf = entries.get('model.layers.0.mlp.up_proj.weight')!;
    expect(up.dims).toEqual([...upHf.shape].reverse());
    expect(up.type).toBe(GgmlType.BF16);
    const at = h.dataStart + up.offset;
    expect(gg.subarray(at, at + upHf.data_offsets[1] - upHf.data_offsets[0])).toEqual(src.subarray(dataStart + upHf.data_offsets[0], dataStart + upHf.data_offsets[1]));
    const norm = h.tensors.find((t) => t.name === 'blk.1.attn_norm.weight')!;
    expect(norm.type).toBe(GgmlType.F32);
    const widened = readSafetensors(st).tensors.get('model.layers.1.input_layernorm.weight')!.data;
    const normAt = h.dataStart + norm.offset;
    expect(new Float32Array(gg.buffer.slice(gg.byteOffset + normAt, gg.byteOffset + normAt + 4 * widened.length))).toEqual(widened);
  });

  it('refuses an architecture it does not know', () => {
    const dir = tempDir();
    makeRandomModel(dir, { preset: 'tiny-mistral', dtype: 'bf16', seed: 1 });
    expect(() => convertHfToGguf(dir, join(dir, 'x.gguf'))).toThrow(/only qwen2 and llama are supported/);
  });
});

describe('HF llama to GGUF conversion', () => {
  it('permutes rows per head from rotate-half pairs (i, i + d/2) to interleaved pairs (2i, 2i + 1)', () => {
    // 2 heads of d = 4 rows, 1 byte per row: head rows [a0 a1 b0 b1] -> [a0 b0 a1 b1]
    const rows = Uint8Array.from([0, 1, 2, 3, 10, 11, 12, 13]);
    expect(Array.from(permuteRopeRows(rows, 8, 2))).toEqual([0, 2, 1, 3, 10, 12, 11, 13]);
    // rows of 3 bytes move whole
    const wide = Uint8Array.from({ length: 12 }, (_, i) => i);
    expect(Array.from(permuteRopeRows(wide, 4, 1))).toEqual([0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11]);
    expect(() => permuteRopeRows(rows, 8, 3)).toThrow(/cannot permute/);
  });

  it('converts a tiny bf16 llama folder: llama metadata, q and k permuted with their own head counts, v copied', () => {
    const dir = tempDir();
    makeRandomModel(dir, { preset: 'tiny-llama3', dtype: 'bf16', seed: 3 });
    const out = join(dir, 'model.gguf');
    convertHfToGguf(dir, out);
    const h = readGgufHeader(out);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, number>;
    expect(h.kv.get('general.architecture')).toBe('llama');
    expect(h.kv.get('llama.attention.head_count')).toBe(config.num_attention_heads);
    expect(h.kv.get('llama.attention.head_count_kv')).toBe(config.num_key_value_heads);
    const headDim = config.head_dim ?? config.hidden_size / config.num_attention_heads;
    expect(h.kv.get('llama.rope.dimension_count')).toBe(headDim);
    expect(h.kv.get('tokenizer.ggml.pre')).toBe('qwen2'); // the tiny presets share the byte-level tokenizer
    const st = join(dir, 'model.safetensors');
    const { entries, dataStart } = readHeader(st);
    const src = readFileSync(st);
    const gg = readFileSync(out);
    const bytesOf = (gguf: string, hf: string): [Uint8Array, Uint8Array] => {
      const t = h.tensors.find((x) => x.name === gguf)!;
      const e = entries.get(hf)!;
      const n = e.data_offsets[1] - e.data_offsets[0];
      return [Uint8Array.from(gg.subarray(h.dataStart + t.offset, h.dataStart + t.offset + n)), Uint8Array.from(src.subarray(dataStart + e.data_offsets[0], dataStart + e.data_offsets[1]))];
    };
    const [q, qHf] = bytesOf('blk.0.attn_q.weight', 'model.layers.0.self_attn.q_proj.weight');
    expect(q).toEqual(permuteRopeRows(qHf, config.num_attention_heads * headDim, config.num_attention_heads));
    expect(q).not.toEqual(qHf);
    const [k, kHf] = bytesOf('blk.1.attn_k.weight', 'model.layers.1.self_attn.k_proj.weight');
    expect(k).toEqual(permuteRopeRows(kHf, config.num_key_value_heads * headDim, config.num_key_value_heads));
    const [v, vHf] = bytesOf('blk.0.attn_v.weight', 'model.layers.0.self_attn.v_proj.weight');
    expect(v).toEqual(vHf);
  });

  it("writes stories260K's byte-fallback BPE as llama.cpp's SPM vocabulary: scores from merge ranks, byte tokens, space prefix", () => {
    const dir = tempDir();
    const out = join(dir, 'stories.gguf');
    convertHfToGguf(stories260K, out);
    const h = readGgufHeader(out);
    expect(h.kv.get('tokenizer.ggml.model')).toBe('llama');
    expect(h.kv.get('tokenizer.ggml.add_space_prefix')).toBe(true);
    expect(h.kv.get('tokenizer.ggml.add_bos_token')).toBe(true);
    expect(h.kv.get('tokenizer.ggml.bos_token_id')).toBe(1);
    expect(h.kv.get('tokenizer.ggml.eos_token_id')).toBe(2);
    expect(h.kv.get('tokenizer.ggml.unknown_token_id')).toBe(0);
    const tokens = h.kv.get('tokenizer.ggml.tokens') as string[];
    const types = h.kv.get('tokenizer.ggml.token_type') as number[];
    const scores = h.kv.get('tokenizer.ggml.scores') as number[];
    expect(tokens.length).toBe(512);
    expect([types[0], types[1], types[2]]).toEqual([3, 3, 3]); // <unk> <s> </s> are special (control)
    expect(types[tokens.indexOf('<0x0A>')]).toBe(6);
    // the first merge of tokenizer.json ("▁ t") makes the best-scored piece
    expect(scores[tokens.indexOf('▁t')]).toBe(-0);
    expect(scores[tokens.indexOf('▁the')]).toBeLessThan(scores[tokens.indexOf('he')]!);
  });

  it('names the pre-tokenizer llama.cpp must use, and refuses one it does not know', () => {
    const model = { type: 'BPE', vocab: {} };
    expect(byteLevelPre({ model, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true } })).toBe('gpt-2');
    const shipped = JSON.parse(readFileSync(join(repoRoot, 'fixtures', 'models', 'slipstream-code', 'tokenizer.json'), 'utf8')) as Parameters<typeof byteLevelPre>[0];
    expect(byteLevelPre(shipped)).toBe('gpt-2');
    expect(() => byteLevelPre({ model, pre_tokenizer: { type: 'Whitespace' } })).toThrow(/no.*llama.cpp pre-tokenizer|none this converter maps/);
  });
});
