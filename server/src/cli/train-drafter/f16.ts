/**
 * float32 -> IEEE 754 half precision (binary16) bits, round to nearest even, for the hidden states
 * `slipstream train-drafter` records (numpy reads them as float16). Values beyond the half range
 * saturate to +-65504 (counted, so the data index can say so); NaN stays NaN.
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits of x; `saturated` is true when |x| was too large and was clamped. */
export function toHalfBits(x: number): { bits: number; saturated: boolean } {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return { bits: sign | (mant ? 0x7e00 : 0x7bff), saturated: mant === 0 };
  const e = exp - 127 + 15;
  if (e >= 31) return { bits: sign | 0x7bff, saturated: true };
  if (e <= 0) {
    if (e < -10) return { bits: sign, saturated: false };  // below half the smallest subnormal
    const m = mant | 0x800000;
    const shift = 14 - e;  // 14..24
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return { bits: sign | half, saturated: false };
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  if ((half & 0x7fff) >= 0x7c00) return { bits: sign | 0x7bff, saturated: true };
  return { bits: sign | half, saturated: false };
}

/** Converts src into dst (same length) as binary16 bits; returns how many values saturated. */
export function toHalfArray(src: Float32Array, dst: Uint16Array): number {
  if (dst.length !== src.length) throw new RangeError(`toHalfArray: ${src.length} values, ${dst.length} slots`);
  let saturated = 0;
  for (let i = 0; i < src.length; i++) {
    const r = toHalfBits(src[i]!);
    dst[i] = r.bits;
    if (r.saturated) saturated++;
  }
  return saturated;
}
