/**
 * The float64 reference forward (test/helpers/reference-llama.ts) is itself right: it reproduces
 * stories260K's golden greedy trajectories and first-position logits, its llama3 rope scaling
 * matches HF's formula on hand-checked values, and its KV-cache, mask and position paths agree.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeRandomModel } from '../../bench/make-random-model.js';
import { ReferenceModel, argmax, ropeInvFreq } from '../helpers/reference-llama.js';
import { stories260K } from '../helpers/paths.js';

interface GoldenGeneration {
  prompt_ids: number[]; steps: number; greedy_ids?: number[]; ids?: number[]; generated_ids?: number[];
  first_logits?: { first16: number[]; argmax: number; max: number; tolerance: number };
}

describe('reference forward on stories260K', () => {
  const golden = (): GoldenGeneration[] =>
    (JSON.parse(readFileSync(join(stories260K, 'golden.json'), 'utf8')) as { generation: GoldenGeneration[] }).generation;

  it('gives the golden first-position logits within 1e-5', () => {
    const [g] = golden();
    const m = ReferenceModel.load(stories260K);
    const logits = m.createSession().forward([1]).logits[0];
    const fl = g.first_logits!;
    fl.first16.forEach((v, i) => expect(Math.abs(logits[i] - v)).toBeLessThan(1e-5));
    expect(argmax(logits)).toBe(fl.argmax);
    expect(Math.abs(logits[fl.argmax] - fl.max)).toBeLessThan(1e-5);
  });

  it('decodes the 200 golden greedy tokens from BOS and the Zoo continuation', () => {
    const [fromBos, zoo] = golden();
    const m = ReferenceModel.load(stories260K);
    expect(m.greedy([1], 200)).toEqual(fromBos.greedy_ids);
    expect(m.greedy(zoo.prompt_ids, zoo.generated_ids!.length)).toEqual(zoo.generated_ids);
  });
});

describe('reference forward internals', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("scales llama3 rope frequencies as HF's _compute_llama3_parameters", () => {
    // head_dim 16, theta 500000, factor 8, low 1, high 4, original 64: wavelengths 2π·500000^(i/8).
    const inv = ropeInvFreq(16, 500000, { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 });
    const base = (i: number): number => 1 / 500000 ** (i / 8);
    expect(inv[0]).toBe(base(0)); // wavelen 6.28 < 16: unchanged
    const wl1 = 2 * Math.PI / base(1); // 32.4: between 16 and 64, smoothed
    const s = (64 / wl1 - 1) / (4 - 1);
    expect(inv[1]).toBeCloseTo((1 - s) * base(1) / 8 + s * base(1), 15);
    for (let i = 2; i < 8; i++) expect(inv[i]).toBeCloseTo(base(i) / 8, 20); // wavelen > 64: divided
  });

  it('gives the same logits through the KV cache as in one pass, and for a tree mask as for each path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipstream-ref-'));
    dirs.push(dir);
    makeRandomModel(dir, { preset: 'tiny-llama3', dtype: 'f32', seed: 2 });
    const m = ReferenceModel.load(dir);
    const tokens = [5, 17, 200, 3, 99, 42, 7];
    const whole = m.createSession().forward(tokens).logits;
    const s = m.createSession();
    tokens.forEach((t, i) => {
      const row = s.forward([t]).logits[0];
      row.forEach((v, j) => expect(Math.abs(v - whole[i][j])).toBeLessThan(1e-12));
    });
    // Tree after a 3-token prefix: root a (pos 3) with children b, c (pos 4); b has child d (pos 5).
    const prefix = tokens.slice(0, 3);
    const tree = [11, 12, 13, 14]; // a b c d
    const parents = [-1, 0, 0, 1];
    const n = tree.length;
    const total = prefix.length + n;
    const mask = new Uint8Array(n * total);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < prefix.length; j++) mask[r * total + j] = 1;
      for (let a = r; a >= 0; a = parents[a]) mask[r * total + prefix.length + a] = 1;
    }
    const ts = m.createSession();
    ts.forward(prefix);
    const treeLogits = ts.forward(tree, { positions: [3, 4, 4, 5], mask }).logits;
    for (const [leaf, path] of [[3, [11, 12, 14]], [2, [11, 13]]] as const) {
      const ps = m.createSession();
      const rows = ps.forward([...prefix, ...path]).logits;
      const nodes = leaf === 3 ? [0, 1, 3] : [0, 2];
      nodes.forEach((node, k) => treeLogits[node].forEach((v, j) => expect(Math.abs(v - rows[prefix.length + k][j])).toBeLessThan(1e-12)));
    }
    // Logits are O(1): the random init keeps activations sane.
    const spread = Math.max(...whole[6]) - Math.min(...whole[6]);
    expect(spread).toBeGreaterThan(0.5);
    expect(spread).toBeLessThan(50);
  });
});
