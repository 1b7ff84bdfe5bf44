/**
 * bench/lib/safetensors.ts and bench/make-random-model.ts: the file layout (length prefix,
 * __metadata__, 8-byte aligned data), dtype rounding, the reader, and random model folders that
 * are deterministic, shaped as their config.json says, and identical whether sharded or not.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits, readHeader, readModelTensors, readSafetensors, roundTo, writeSafetensors,
} from '../../bench/lib/safetensors.js';
import { PRESETS, REAL_PRESETS, TINY_PRESETS, configJson, headDimOf, makeRandomModel } from '../../bench/make-random-model.js';
import { Tokenizer } from '../../native/lib/tokenizer.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'slipstream-st-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('safetensors writer and reader', () => {
  it('writes a length-prefixed JSON header with __metadata__ first and 8-byte aligned data', () => {
    const path = join(tempDir(), 'a.safetensors');
    const a = Float32Array.from([1, -2, 3.5, 0.1, 1e-3, -7]);
    const b = Float32Array.from([0.5, 0.25, -1]);
    writeSafetensors(path, [{ name: 'a', dtype: 'F32', shape: [2, 3], data: a }, { name: 'b', dtype: 'BF16', shape: [3], data: b }]);
    const buf = readFileSync(path);
    const len = Number(buf.readBigUInt64LE(0));
    expect((8 + len) % 8).toBe(0);
    const text = buf.subarray(8, 8 + len).toString('utf8');
    expect(text.startsWith('{"__metadata__":{"format":"pt"}')).toBe(true);
    const h = readHeader(path);
    expect(h.entries.get('a')).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(h.entries.get('b')).toEqual({ dtype: 'BF16', shape: [3], data_offsets: [24, 30] });
    expect(buf.length).toBe(8 + len + 30);
    const r = readSafetensors(path);
    expect(Array.from(r.tensors.get('a')!.data)).toEqual(Array.from(a));
    expect(Array.from(r.tensors.get('b')!.data)).toEqual([0.5, 0.25, -1]);
  });

  it('reads the header of a file past 2 GiB without reading the file, and names a header longer than the file', () => {
    // A 1.5B-parameter bf16 model is 3.1 GB; readFileSync stops at 2 GiB. The extension is sparse.
    const path = join(tempDir(), 'big.safetensors');
    writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [2], data: Float32Array.of(1, 2) }]);
    truncateSync(path, 2 ** 31 + 4096);
    expect(readHeader(path).entries.get('w')).toEqual({ dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    const bad = join(tempDir(), 'bad.safetensors');
    const field = Buffer.alloc(16);
    field.writeBigUInt64LE(1000n, 0);
    writeFileSync(bad, field);
    expect(() => readHeader(bad)).toThrow(/header length 1000 exceeds the file \(16 bytes\)/);
    writeFileSync(bad, Buffer.alloc(3));
    expect(() => readHeader(bad)).toThrow(/not a safetensors file \(3 bytes/);
  });

  it('rounds to bfloat16 to nearest even and to float16 with subnormals', () => {
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(bf16BitsToF32(f32ToBf16Bits(1 + 2 ** -8))).toBe(1); // tie -> even
    expect(bf16BitsToF32(f32ToBf16Bits(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6); // tie -> even (up)
    expect(bf16BitsToF32(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -12))).toBe(1 + 2 ** -7);
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(70000)).toBe(0x7c00);
    expect(f16BitsToF32(f32ToF16Bits(2 ** -24))).toBe(2 ** -24);
    expect(f16BitsToF32(f32ToF16Bits(-0.1))).toBeCloseTo(-0.0999755859375, 12);
    expect(f16BitsToF32(f32ToF16Bits(1 + 2 ** -11))).toBe(1); // tie -> even
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 3);
    const bf = roundTo('BF16', x);
    for (let i = 0; i < x.length; i++) expect(Math.abs(bf[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -8);
    const path = join(tempDir(), 'h.safetensors');
    writeSafetensors(path, [{ name: 'x', dtype: 'F16', shape: [1000], data: x }]);
    expect(Array.from(readSafetensors(path).tensors.get('x')!.data)).toEqual(Array.from(roundTo('F16', x)));
  });
});

describe('random-weight model folders', () => {
  it('states the public shapes of the real presets', () => {
    expect(REAL_PRESETS['qwen2.5-coder-0.5b']).toMatchObject({ hiddenSize: 896, numLayers: 24, numHeads: 14, numKvHeads: 2, intermediateSize: 4864, vocabSize: 151936, tieWordEmbeddings: true, attentionBias: true, ropeTheta: 1e6 });
    expect(REAL_PRESETS['qwen2.5-coder-1.5b']).toMatchObject({ hiddenSize: 1536, numLayers: 28, numHeads: 12, numKvHeads: 2, intermediateSize: 8960, vocabSize: 151936, tieWordEmbeddings: true });
    expect(REAL_PRESETS['qwen2.5-coder-7b']).toMatchObject({ hiddenSize: 3584, numLayers: 28, numHeads: 28, numKvHeads: 4, intermediateSize: 18944, vocabSize: 152064, tieWordEmbeddings: false });
    expect(REAL_PRESETS['llama-3.2-1b']).toMatchObject({ hiddenSize: 2048, numLayers: 16, numHeads: 32, numKvHeads: 8, intermediateSize: 8192, vocabSize: 128256, headDim: 64, ropeTheta: 500000, tieWordEmbeddings: true });
    expect(REAL_PRESETS['llama-3.2-1b'].ropeScaling).toEqual({ factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    const gqa = Object.values(TINY_PRESETS).map((s) => s.numHeads / s.numKvHeads).sort();
    expect(gqa).toEqual([1, 2, 4, 8]);
  });

  it('writes tiny folders whose tensors match config.json, deterministically per seed', async () => {
    for (const name of Object.keys(TINY_PRESETS)) {
      const dir = tempDir();
      const m = makeRandomModel(dir, { preset: name, dtype: 'f32', seed: 3 });
      expect(m.paramCount).toBeGreaterThan(2_000);
      expect(m.paramCount).toBeLessThan(120_000);
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, number>;
      const t = readModelTensors(dir);
      const hd = headDimOf(PRESETS[name]);
      expect(t.get('model.embed_tokens.weight')!.shape).toEqual([cfg.vocab_size, cfg.hidden_size]);
      expect(t.get('model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([cfg.num_key_value_heads * hd, cfg.hidden_size]);
      expect(t.has('lm_head.weight')).toBe(!cfg.tie_word_embeddings);
      expect(t.has('model.layers.0.self_attn.q_proj.bias')).toBe((cfg as Record<string, unknown>).model_type === 'qwen2');
      // Activations sane: embedding std about 0.1, norm weights about 1.
      const e = t.get('model.embed_tokens.weight')!.data;
      const std = Math.sqrt(e.reduce((s, v) => s + v * v, 0) / e.length);
      expect(std).toBeGreaterThan(0.09);
      expect(std).toBeLessThan(0.11);
      const tok = await Tokenizer.load(dir);
      expect(tok.vocabSize).toBeLessThanOrEqual(cfg.vocab_size);
      expect(tok.eosTokenIds).toContain(cfg.eos_token_id);
      const again = tempDir();
      makeRandomModel(again, { preset: name, dtype: 'f32', seed: 3 });
      expect(readFileSync(join(again, 'model.safetensors')).equals(readFileSync(join(dir, 'model.safetensors')))).toBe(true);
    }
  });

  it('writes the same tensors sharded with an index, and bf16 values that are the f32 ones rounded', () => {
    const one = tempDir();
    const sharded = tempDir();
    const bf = tempDir();
    makeRandomModel(one, { preset: 'tiny-qwen2', dtype: 'f32', seed: 5 });
    makeRandomModel(sharded, { preset: 'tiny-qwen2', dtype: 'f32', seed: 5, shards: 3 });
    makeRandomModel(bf, { preset: 'tiny-qwen2', dtype: 'bf16', seed: 5 });
    expect(readdirSync(sharded).filter((f) => f.endsWith('.safetensors')).sort()).toEqual(
      ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']);
    const a = readModelTensors(one);
    const b = readModelTensors(sharded);
    const c = readModelTensors(bf);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [name, t] of a) {
      expect(Array.from(b.get(name)!.data)).toEqual(Array.from(t.data));
      expect(c.get(name)!.dtype).toBe('BF16');
      expect(Array.from(c.get(name)!.data)).toEqual(Array.from(roundTo('BF16', t.data)));
    }
  });

  it('spells config.json as transformers 4.x or 5.x', () => {
    const s = TINY_PRESETS['tiny-llama3'];
    const v4 = configJson(s, 'bf16', 4, null, 5);
    const v5 = configJson(s, 'bf16', 5, null, 5);
    expect(v4).toMatchObject({ torch_dtype: 'bfloat16', rope_theta: 500000, rope_scaling: { rope_type: 'llama3', factor: 8, original_max_position_embeddings: 64 } });
    expect(v4).not.toHaveProperty('rope_parameters');
    expect(v5).toMatchObject({ dtype: 'bfloat16', rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 8, low_freq_factor: 1, high_freq_factor: 4 } });
    expect(v5).not.toHaveProperty('rope_theta');
    expect(v5).not.toHaveProperty('torch_dtype');
    expect(configJson(TINY_PRESETS['tiny-qwen2'], 'f32', 5, null, 5).rope_parameters).toEqual({ rope_type: 'default', rope_theta: 1e6 });
  });
});
