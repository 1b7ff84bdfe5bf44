/**
 * A short `slipstream bench soak`: two TCP clients type through three documents at once against
 * one server with stories260K; each gets the reference answer for every keystroke, memory is
 * sampled, and the JSON's figures agree with each other. CI runs it longer (.ci/run); the
 * 30-minute run is recorded in docs/reliability.md. No timing is asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planSpots } from '../../bench/keystroke-plan.js';
import { DOCUMENTS, type SoakResult } from '../../bench/soak.js';
import { cliPath, repoRoot, stories260K } from '../helpers/paths.js';

describe('bench soak', () => {
  it('gives every client the reference answers and samples the server memory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipstream-soak-'));
    try {
      const out = join(dir, 'soak.json');
      const r = spawnSync(
        process.execPath,
        [cliPath, 'bench', 'soak', '--model', stories260K, '--minutes', '0.1', '--clients', '2', '--sample-seconds', '2', '--spots', '2', '--chars', '4', '--out', out],
        { encoding: 'utf8', timeout: 110_000 },
      );
      expect(r.status, r.stderr).toBe(0);
      const result = JSON.parse(readFileSync(out, 'utf8')) as SoakResult;
      // two visits of every document, two spots each, a request per typed character
      const keystrokes = DOCUMENTS.map((d, i) => planSpots(readFileSync(join(repoRoot, d), 'utf8'), 2, 4, 1 + i).reduce((a, s) => a + [...s.typed].length, 0));
      expect(result.reference_requests).toBe(2 * keystrokes.reduce((a, b) => a + b, 0));
      expect(result.per_client).toHaveLength(2);
      for (const c of result.per_client) {
        expect(c).toMatchObject({ mismatches: 0, errors: 0 });
        expect(c.requests).toBeGreaterThan(0);
        expect(c.latency_ms!.p50).toBeLessThanOrEqual(c.latency_ms!.max);
      }
      expect(result.samples.length).toBeGreaterThanOrEqual(3);
      for (const s of result.samples) {
        expect(s.rss_bytes).toBeGreaterThan(s.heap_used_bytes);
        expect(s.engine_weight_bytes).toBeGreaterThan(1e6); // stories260K's f32 weights
      }
      expect(result.samples.at(-1)!.requests).toBe(result.per_client.reduce((a, c) => a + c.requests, 0));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
