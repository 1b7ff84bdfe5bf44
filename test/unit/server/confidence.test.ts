/**
 * confidence.ts: where a suggestion is cut for an unsure token, and whether what is left is worth
 * showing.
 */
import { describe, expect, it } from 'vitest';
import { firstUnsure, UNSURE_MIN_CHARS, worthShowingCut } from '../../../server/src/completion/confidence.js';

describe('firstUnsure', () => {
  const lp = Float32Array.from([0.9, 0.5, 0.19, 0.8].map(Math.log));
  it('is the first token below the bound', () => {
    expect(firstUnsure(lp, 0.2)).toBe(2);
    expect(firstUnsure(lp, 0.6)).toBe(1);
    expect(firstUnsure(lp, 0.95)).toBe(0);
  });
  it('is -1 when none is below, or the bound is 0 (off)', () => {
    expect(firstUnsure(lp, 0.1)).toBe(-1);
    expect(firstUnsure(lp, 0)).toBe(-1);
    expect(firstUnsure([], 0.5)).toBe(-1);
  });
  it('takes a token exactly at the bound as sure', () => {
    expect(firstUnsure([Math.log(0.25)], 0.25)).toBe(-1);
  });
});

describe('worthShowingCut', () => {
  it(`needs ${UNSURE_MIN_CHARS} characters when cut inside the first line, blanks aside`, () => {
    expect(worthShowingCut('return')).toBe(true);
    expect(worthShowingCut('retur')).toBe(false);
    expect(worthShowingCut('   ret  ')).toBe(false);
    expect(worthShowingCut('')).toBe(false);
  });
  it('takes a whole first line, however short, when the cut came after its line break', () => {
    expect(worthShowingCut(' {\n')).toBe(true);
    expect(worthShowingCut(') {\n    this.')).toBe(true);
  });
});
