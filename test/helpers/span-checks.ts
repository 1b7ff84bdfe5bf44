/**
 * The span-tree checks every trace test makes (unit, in-process LSP and end-to-end): the request
 * span equals the total; its stages are contiguous and add up to it; every child lies inside its
 * parent. The tolerance: spans are rounded to microseconds edge by edge.
 */
import { expect } from 'vitest';
import type { RequestTrace, TraceSpan } from '../../server/src/protocol.js';

/** Tolerance of "adds up" and "inside": spans are rounded to microseconds, edge by edge. */
const EPS = 0.002;

/** Asserts the tree of `r` nests and adds up. */
export function checkTree(r: RequestTrace): void {
  const root = r.spans!;
  expect(root.name).toBe('request');
  expect(root.dur).toBeCloseTo(r.totalMs, 3);
  const kids = root.children!;
  expect(kids[0]!.start).toBeCloseTo(root.start, 3);
  let at = root.start;
  for (const c of kids) {
    expect(Math.abs(c.start - at)).toBeLessThan(EPS); // contiguous
    at = c.start + c.dur;
  }
  expect(Math.abs(at - (root.start + root.dur))).toBeLessThan(EPS);
  const sum = kids.reduce((s, c) => s + c.dur, 0);
  expect(Math.abs(sum - r.totalMs)).toBeLessThan(EPS * kids.length);
  const inside = (s: TraceSpan): void => {
    for (const c of s.children ?? []) {
      expect(c.start).toBeGreaterThanOrEqual(s.start - EPS);
      expect(c.start + c.dur).toBeLessThanOrEqual(s.start + s.dur + EPS);
      inside(c);
    }
  };
  inside(root);
}

