/**
 * The ReDrafter CLI on stories260K with a seeded random drafter: `slipstream generate --mode
 * redrafter --json` prints the same ids as plain decoding plus the ReDrafter stats, and
 * `slipstream bench redrafter` writes a JSON report whose greedy outputs are identical; with
 * --calibrate (on the shipped pair) it also reports mode auto's calibration and measures each of
 * its candidate shapes. Speed is not asserted (benchmarks report ratios; tests never time).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDrafterFolder } from '../helpers/random-drafter.js';
import { cliPath, repoRoot, stories260K } from '../helpers/paths.js';

describe('slipstream CLI with ReDrafter', () => {
  let tmp: string;
  let drafter: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'redrafter-cli-'));
    drafter = writeDrafterFolder(join(tmp, 'drafter'), { vocabSize: 512, hiddenSize: 64, seed: 21 });
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const generate = (args: string[]): { ids: number[]; stats: Record<string, unknown> } =>
    JSON.parse(execFileSync(process.execPath, [cliPath, 'generate', '--model', stories260K, '--prompt', 'Once upon a time', '--max-tokens', '40', ...args, '--json'], { encoding: 'utf8', timeout: 60_000 }));

  it('generate --mode redrafter prints the plain greedy ids and the ReDrafter stats', () => {
    const plain = generate([]);
    for (const [m, l] of [['1', '2'], ['3', '5']] as const) {
      const rd = generate(['--mode', 'redrafter', '--drafter', drafter, '--beams', m, '--beam-length', l]);
      expect(rd.ids).toEqual(plain.ids);
      expect(rd.stats).toHaveProperty('accepted_histogram');
      expect(rd.stats).toHaveProperty('mean_tree_size');
      expect(rd.stats).toHaveProperty('draft_ms');
      expect(rd.stats).toHaveProperty('verify_ms');
      expect(rd.stats).toHaveProperty('accept_ms');
      expect(rd.stats.tokens_per_step).toBeCloseTo(40 / (rd.stats.forward_passes as number), 10);
    }
  });

  it('generate --mode redrafter without --drafter is a usage error', () => {
    const r = spawnSync(process.execPath, [cliPath, 'generate', '--model', stories260K, '--prompt-ids', '1', '--mode', 'redrafter'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--mode redrafter needs --drafter DIR/);
  });

  it('bench redrafter writes plain vs ReDrafter figures and checks identical greedy output', () => {
    const out = join(tmp, 'bench.json');
    const r = spawnSync(process.execPath, [cliPath, 'bench', 'redrafter', '--model', stories260K, '--drafter', drafter, '--max-tokens', '16', '--beams', '2', '--beam-length', '3', '--threads', '1', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/speedup/);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.identical_greedy_output).toBe(true);
    expect(j.redrafter).toMatchObject({ beams: 2, beam_length: 3, identical: true });
    expect(j.plain.tok_s).toBeGreaterThan(0);
    expect(j.redrafter.speedup).toBeCloseTo(j.redrafter.tok_s / j.plain.tok_s, 10);
  });

  it('bench redrafter --calibrate runs mode auto\'s calibration on the shipped pair and measures each of its shapes', () => {
    const shipped = join(repoRoot, 'fixtures', 'models');
    const out = join(tmp, 'calibrate.json');
    const r = spawnSync(
      process.execPath,
      [cliPath, 'bench', 'redrafter', '--model', join(shipped, 'slipstream-code'), '--drafter', join(shipped, 'slipstream-code-drafter'), '--calibrate', '--max-tokens', '16', '--threads', '1', '--out', out],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/calibration \(\d+ ms, \d+-token prompts\): auto: ReDrafter M=\d+ L=\d+ /);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    const shapes = j.calibration.figures.shapes.map((s: { beams: number; beamLength: number }) => [s.beams, s.beamLength]);
    expect(shapes).toEqual([[1, 2], [1, 3], [1, 4], [2, 4]]);
    expect(shapes).toContainEqual([j.calibration.fastest.beams, j.calibration.fastest.beamLength]);
    // every candidate measured in the bench too, all with the plain greedy output
    expect(j.sweep.map((c: { beams: number; beam_length: number }) => [c.beams, c.beam_length]).sort()).toEqual(shapes.sort());
    expect(j.identical_greedy_output).toBe(true);
  }, 120_000);
});
