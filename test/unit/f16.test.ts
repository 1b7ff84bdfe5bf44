/**
 * The float32 -> binary16 conversion train-drafter stores hidden states with
^ * (server/src/cli/train-drafter/f16.ts, on @petamoriken/float16): exact values, round to nearest even, subnormals,
 * saturation beyond the half range (counted), NaN.
 */
import { describe, expect, it } from 'vitest';
import { toHalfArray, toHalfBits } from '../../server/src/cli/train-drafter/f16.js';

describe('toHalfBits', () => {
  it('converts exact values', () => {
    const cases: [number, number][] = [[0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
      [2 ** -14, 0x0400], [2 ** -24, 0x0001], [0.1, 0x2e66], [1 / 3, 0x3555], [3.140625, 0x4248]];
    for (const [x, bits] of cases) expect(toHalfBits(x).bits, String(x)).toBe(bits);
  });
  it('rounds to nearest even', () => {
    expect(toHalfBits(1 + 2 ** -11).bits).toBe(0x3c00);  // tie, even stays
    expect(toHalfBits(1 + 3 * 2 ** -11).bits).toBe(0x3c02);  // tie, odd rounds up
    expect(toHalfBits(1 + 2 ** -11 + 2 ** -20).bits).toBe(0x3c01);  // above the tie
    expect(toHalfBits(2 ** -25).bits).toBe(0x0000);  // tie at half the smallest subnormal: even (0)
    expect(toHalfBits(1.5 * 2 ** -25).bits).toBe(0x0001);
  });
  it('saturates beyond the half range and counts it; keeps NaN', () => {
    expect(toHalfBits(70000)).toEqual({ bits: 0x7bff, saturated: true });
    expect(toHalfBits(-1e9)).toEqual({ bits: 0xfbff, saturated: true });
    expect(toHalfBits(65519)).toEqual({ bits: 0x7bff, saturated: false });  // rounds down to 65504
    expect(toHalfBits(65520).saturated).toBe(true);  // would round to infinity
    expect(toHalfBits(Number.NaN).bits & 0x7e00).toBe(0x7e00);
    const dst = new Uint16Array(3);
    expect(toHalfArray(Float32Array.of(1, 1e6, -1e6), dst)).toBe(2);
    expect(Array.from(dst)).toEqual([0x3c00, 0x7bff, 0xfbff]);
  });
});
