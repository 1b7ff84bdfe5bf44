/**
 * The project's one percentile (server/src/percentile.ts, nearest rank): its values on small
 * inputs, and `slipstream/status` (TraceLog.latency) reporting exactly what the benchmarks compute
 * from the same latencies.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TraceLog } from '../../../server/src/completion/traces.js';
import { percentile, percentileOfSorted } from '../../../server/src/percentile.js';

afterEach(() => vi.restoreAllMocks());

describe('percentile (nearest rank)', () => {
  it('is null for no values', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentileOfSorted([], 99)).toBeNull();
  });

  it('takes the ceil(p/100 * n)-th smallest value, without interpolating', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    // an even count: the lower middle value (rank 2 of 4), not the mean and not the upper one
    expect(percentile([40, 10, 30, 20], 50)).toBe(20);
    expect(percentile([40, 10, 30, 20], 75)).toBe(30);
    expect(percentile([40, 10, 30, 20], 76)).toBe(40);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
  });

  it('gives the minimum at p = 0 and the maximum at p = 100', () => {
    expect(percentile([7, 3, 9], 0)).toBe(3);
    expect(percentile([7, 3, 9], 100)).toBe(9);
    expect(percentile([4], 50)).toBe(4);
  });

  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    percentile(xs, 50);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('slipstream/status latency', () => {
  it('reports the same p50 / p95 / p99 as percentile() on the same request latencies', () => {
    const latencies = [12, 40, 8, 25, 31, 19];
    const log = new TraceLog();
    let now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    for (const ms of latencies) {
      now = 1000;
      const trace = log.start('file:///a.ts', 1, 'automatic');
      now = 1000 + ms;
      log.finish(trace, 'shown');
    }
    const status = log.latency();
    expect(status.count).toBe(latencies.length);
    expect(status.p50Ms).toBe(19);
    expect(status.p50Ms).toBe(percentile(latencies, 50));
    expect(status.p95Ms).toBe(percentile(latencies, 95));
    expect(status.p99Ms).toBe(percentile(latencies, 99));
  });
});
