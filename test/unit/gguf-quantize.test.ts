/**
 * bench/llama-cpp/gguf-quantize.ts (llama.cpp's Q8_0 / Q4_0 blocks for hf-to-gguf --weights):
 * f32 -> f16 rounding, the block layout and arithmetic on hand-made values, and a converted folder
 * whose matrices carry the right ggml types and sizes (the output head / embedding Q8_0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { f32ToF16Bits, quantBytes, quantizeRows } from '../../bench/llama-cpp/gguf-quantize.js';
import { GgmlType, readGgufHeader } from '../../bench/llama-cpp/gguf-writer.js';
import { convertHfToGguf } from '../../bench/llama-cpp/hf-to-gguf.js';
import { f16BitsToF32 } from '../../bench/lib/safetensors.js';
import { makeRandomModel } from '../../bench/make-random-model.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('GGUF Q8_0 / Q4_0 blocks', () => {
  it('rounds f32 to f16 to nearest even', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00);
    expect(f32ToF16Bits(1 + 1 / 2048)).toBe(0x3c00);
    expect(f32ToF16Bits(1 + 3 / 2048)).toBe(0x3c02);
    expect(f32ToF16Bits(2 ** -24)).toBe(1);
    for (let h = 0; h < 0x7c00; h += 7) expect(f32ToF16Bits(f16BitsToF32(h))).toBe(h);
  });

  it('Q8_0: f16 d = max|x| / 127, then 32 int8 round(x / d)', () => {
    const x = Float32Array.from({ length: 32 }, (_, j) => (j - 16) / 4);  // -4 .. 3.75
    const b = quantizeRows('q8_0', x, 1, 32);
    expect(b.length).toBe(34);
    const d = f16BitsToF32(b[0]! | (b[1]! << 8));
    expect(d).toBeCloseTo(4 / 127, 4);
    const q = new Int8Array(b.buffer, 2, 32);
    expect(q[0]).toBe(-127);
    expect(q[16]).toBe(0);
    for (let j = 0; j < 32; j++) expect(Math.abs(q[j]! * d - x[j]!)).toBeLessThanOrEqual(d / 2 + 1e-3);
  });

  it('Q4_0: f16 d = (value of largest magnitude) / -8, nibbles j and j + 16 in byte j', () => {
    const x = Float32Array.from({ length: 32 }, (_, j) => (j === 5 ? -8 : (j % 8) - 4));
    const b = quantizeRows('q4_0', x, 1, 32);
    expect(b.length).toBe(18);
    const d = f16BitsToF32(b[0]! | (b[1]! << 8));
    expect(d).toBe(1);  // -8 / -8
    for (let j = 0; j < 32; j++) {
      const byte = b[2 + (j % 16)]!;
      const q = j < 16 ? byte & 15 : byte >> 4;
      expect((q - 8) * d).toBe(x[j]);
    }
    expect(quantBytes('q4_0', 3, 64)).toBe(3 * 2 * 18);
  });

  it('converts a folder with the layers in the format and the embedding in Q8_0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipstream-ggufq-'));
    dirs.push(dir);
    makeRandomModel(join(dir, 'm'), { preset: 'tiny-llama3', dtype: 'bf16', seed: 3 });
    for (const [w, layerType] of [['q8_0', GgmlType.Q8_0], ['q4_0', GgmlType.Q4_0]] as const) {
      const out = join(dir, `${w}.gguf`);
      convertHfToGguf(join(dir, 'm'), out, w);
      const h = readGgufHeader(out);
      expect(h.kv.get('general.file_type')).toBe(w === 'q8_0' ? 7 : 2);
      const byName = new Map(h.tensors.map((t) => [t.name, t]));
      expect(byName.get('token_embd.weight')!.type).toBe(GgmlType.Q8_0);
      expect(byName.get('blk.0.ffn_down.weight')!.type).toBe(layerType);
      expect(byName.get('blk.0.attn_norm.weight')!.type).toBe(GgmlType.F32);
    }
  });
});
