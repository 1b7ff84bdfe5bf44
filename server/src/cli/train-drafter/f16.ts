/**
 * float32 -> IEEE 754 half precision (binary16) bits for the hidden states `slipstream
 * train-drafter` records (numpy reads them as float16). The rounding (to nearest even, subnormals,
 * NaN) is @petamoriken/float16's; what this file adds is the one rule the data needs: a value beyond
 * the half range saturates to +-65504 instead of becoming infinity, and is counted, so the data index
 * can say so.
 */
import { setFloat16 } from '@petamoriken/float16';

const HALF_MAX_BITS = 0x7bff;  // 65504
const view = new DataView(new ArrayBuffer(2));

/** The binary16 bits of x; `saturated` is true when |x| would round to infinity and was clamped. */
export function toHalfBits(x: number): { bits: number; saturated: boolean } {
  setFloat16(view, 0, x, true);
  const bits = view.getUint16(0, true);
  if ((bits & 0x7fff) === 0x7c00) return { bits: (bits & 0x8000) | HALF_MAX_BITS, saturated: true };
  return { bits, saturated: false };
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
