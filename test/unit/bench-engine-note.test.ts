/**
 * bench engine's roofline wording: a share of the DRAM roofline up to 100%; above it, the model is
 * cache-resident and the table says so instead of printing e.g. "145.9% of the roofline".
 */
import { describe, expect, it } from 'vitest';
import { rooflineNote } from '../../bench/engine.js';

describe('rooflineNote', () => {
  it('prints a share up to 100% and flags a cache-resident model above it', () => {
    expect(rooflineNote(0.734, 'median ', ' paired with each round')).toBe('median 73.4% of the roofline paired with each round');
    expect(rooflineNote(1.459, 'median ', '')).toBe('146% of the DRAM roofline: cache-resident model, the roofline does not apply');
  });
});
