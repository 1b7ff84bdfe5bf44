/**
 * The soak chart (bench/soak-plot.ts): one polyline per series through every sample, inside the
 * plot area, and the RSS slope in the subtitle.
 */
import { describe, expect, it } from 'vitest';
import { slopePerHour, type SoakResult } from '../../bench/soak.js';
import { soakSvg } from '../../bench/soak-plot.js';

const samples = [0, 60, 120, 180].map((t, i) => ({
  t_s: t,
  rss_bytes: (100 + i) * 1e6,
  heap_used_bytes: 20e6,
  engine_weight_bytes: 11e6,
  engine_kv_bytes: i * 1e6,
  requests: i * 100,
}));
const result = {
  date: '2026-12-02T00:00:00Z', model: '/x/slipstream-code', minutes: 3, clients: 4, documents: [], spots_per_document: 4, chars: 8,
  reference_requests: 10, samples, per_client: [], all_latency_ms: null, rss_mb: { first: 100, last: 103, max: 103 },
  rss_slope_mb_per_hour: slopePerHour(samples.map((s) => [s.t_s, s.rss_bytes / 1e6])), mismatch_examples: [],
} satisfies SoakResult;

describe('soak chart', () => {
  it('computes the RSS slope by least squares in MB per hour', () => {
    expect(slopePerHour([[0, 100], [60, 101], [120, 102]])).toBeCloseTo(60, 9);
    expect(slopePerHour([[0, 100], [60, 101]])).toBeNull();
  });

  it('draws RSS, heap and engine bytes through every sample, with the slope in the subtitle', () => {
    const svg = soakSvg(result);
    const lines = [...svg.matchAll(/<polyline points="([^"]+)"/g)].map((m) => m[1]!.split(' ').map((p) => p.split(',').map(Number)));
    expect(lines).toHaveLength(3);
    for (const pts of lines) {
      expect(pts).toHaveLength(4);
      for (const [x, y] of pts) {
        expect(x).toBeGreaterThanOrEqual(64);
        expect(y).toBeGreaterThanOrEqual(48);
        expect(y).toBeLessThanOrEqual(312);
      }
    }
    expect(svg).toContain('slope after warm-up 60.0 MB/h');
    expect(svg).toContain('(slipstream-code)');
  });
});
