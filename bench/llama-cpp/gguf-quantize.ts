/**
 * llama.cpp's Q8_0 and Q4_0 blocks (ggml-quants.c quantize_row_q8_0_ref / quantize_row_q4_0_ref),
 * for bench/llama-cpp/hf-to-gguf.ts --weights: a block of 32 values along a row is an f16 scale d
 * then the quants. Q8_0: d = max|x| / 127, q = round(x / d) as int8 (34 bytes a block). Q4_0:
 * d = (the value of largest magnitude) / -8, q = min(15, trunc(x / d + 8.5)), byte j holding
 * element j in its low nibble and element j + 16 in its high one (18 bytes a block). The engine's
 * load-time quantization (native/src/kernels/quant-formats.cpp) does the same arithmetic in f32,
 * so both programs read the same blocks.
 */

export type QuantFormat = 'q8_0' | 'q4_0';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 -> f16 bits, round to nearest even (as native f32_to_f16). */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  let b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  b &= 0x7fffffff;
  if (b > 0x7f800000) return sign | 0x7e00;
  if (b >= 0x477ff000) return sign | 0x7c00;
  if (b < 0x38800000) {
    u32[0] = b;
    const v = f32[0]! * 16777216;
    let r = Math.round(v);
    if (Math.abs(v % 1) === 0.5 && r % 2 !== 0) r -= 1;  // halfway: to even
    return sign | r;
  }
  b -= 112 << 23;
  b += 0xfff + ((b >>> 13) & 1);
  return (sign | (b >>> 13)) & 0xffff;
}

/** Bytes of `rows` rows of `cols` values (cols a multiple of 32). */
export function quantBytes(format: QuantFormat, rows: number, cols: number): number {
  return rows * (cols / 32) * (format === 'q8_0' ? 34 : 18);
}

/** Rows (rows, cols) f32 -> GGUF blocks. cols must be a multiple of 32 (as ggml requires). */
export function quantizeRows(format: QuantFormat, src: Float32Array, rows: number, cols: number): Uint8Array {
  if (cols % 32 !== 0) throw new Error(`${format} needs rows of a multiple of 32 values, not ${cols}`);
  const out = new Uint8Array(quantBytes(format, rows, cols));
  const view = new DataView(out.buffer);
  const fr = Math.fround;
  let o = 0;
  for (let base = 0; base < rows * cols; base += 32) {
    if (format === 'q8_0') {
      let amax = 0;
      for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(src[base + j]!));
      const d = fr(amax / 127);
      const id = d !== 0 ? fr(1 / d) : 0;
      view.setUint16(o, f32ToF16Bits(d), true);
      for (let j = 0; j < 32; j++) {
        const v = fr(src[base + j]! * id);
        view.setInt8(o + 2 + j, Math.sign(v) * Math.round(Math.abs(v)));  // roundf: halfway away from zero
      }
      o += 34;
    } else {
      let amax = 0, mx = 0;
      for (let j = 0; j < 32; j++) {
        const v = src[base + j]!;
        if (amax < Math.abs(v)) {
          amax = Math.abs(v);
          mx = v;
        }
      }
      const d = fr(mx / -8);
      const id = d !== 0 ? fr(1 / d) : 0;
      view.setUint16(o, f32ToF16Bits(d), true);
      const q = (v: number): number => Math.min(15, Math.trunc(fr(fr(v * id) + 8.5)));
      for (let j = 0; j < 16; j++) out[o + 2 + j] = q(src[base + j]!) | (q(src[base + 16 + j]!) << 4);
      o += 18;
    }
  }
  return out;
}
