/**
 * A batched masked forward over a token tree (explicit positions, ancestor-only mask) gives, for
 * every node, bit for bit the logits of running its root-to-node path on its own after the same
 * prefix (the kernels are batch-invariant: docs/engine.md), in f32 and bf16; on stories260K (real
 * weights), a tiny random mistral (GQA 4, head_dim != hidden/heads) and a bf16 llama3. The float64
 * reference with the same mask is checked too, within 2e-4 relative (independent arithmetic).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Model } from '../../native/lib/index.js';
import { ReferenceModel } from '../helpers/reference-llama.js';
import { firstBitDifference, maxAbs, maxRowDiff, range, removeTempModels, tempModel } from '../helpers/engine-compare.js';
import { stories260K } from '../helpers/paths.js';

afterAll(removeTempModels);

/**
 * The tree: node i has token tokens[i] and parent parents[i] (-1 = child of the prefix's last token).
 *        a0
 *      /  |  \
 *    b1   c2  d3
 *   / \    |
 *  e4  f5  g6
 *  |
 *  h7
 */
const PARENTS = [-1, 0, 0, 0, 1, 1, 2, 4];

function depth(i: number): number {
  return PARENTS[i] < 0 ? 0 : 1 + depth(PARENTS[i]);
}

function pathTo(i: number): number[] {
  return PARENTS[i] < 0 ? [i] : [...pathTo(PARENTS[i]), i];
}

/** mask: (n, prefixLen + n) row-major; a node sees the prefix, its ancestors and itself. */
function treeMask(prefixLen: number): Uint8Array {
  const n = PARENTS.length;
  const total = prefixLen + n;
  const mask = new Uint8Array(n * total);
  for (let r = 0; r < n; r++) {
    mask.fill(1, r * total, r * total + prefixLen);
    for (const a of pathTo(r)) mask[r * total + prefixLen + a] = 1;
  }
  return mask;
}

async function checkTree(dir: string, prefix: Int32Array, tree: Int32Array): Promise<void> {
  const model = await Model.load(dir, { backend: 'cpu' });
  const V = model.info.vocabSize;
  const n = tree.length;
  const positions = Int32Array.from(PARENTS.map((_, i) => prefix.length + depth(i)));
  const mask = treeMask(prefix.length);
  const ref = ReferenceModel.load(dir);
  try {
    const s = model.createSession();
    await s.forward(prefix);
    const batched = await s.forward(tree, { positions, mask, outputRows: range(n) });
    expect(batched.logits.length).toBe(n * V);
    expect(s.length).toBe(prefix.length + n);

    const refSession = ref.createSession();
    refSession.forward(prefix);
    const refTree = refSession.forward(tree, { positions, mask }).logits;

    // Each leaf path on its own, reusing the prefix by truncating the same session back to it.
    const leaves = PARENTS.map((_, i) => i).filter((i) => !PARENTS.includes(i));
    expect(leaves).toEqual([3, 5, 6, 7]);
    for (const leaf of leaves) {
      s.truncate(prefix.length);
      const path = pathTo(leaf);
      const alone = await s.forward(Int32Array.from(path.map((i) => tree[i])), { outputRows: range(path.length) });
      path.forEach((node, k) => {
        const want = alone.logits.subarray(k * V, (k + 1) * V);
        expect(firstBitDifference(batched.logits, node, want), `node ${node}`).toBeNull();
        expect(maxRowDiff(batched.logits, node, refTree[node]) / Math.max(1, maxAbs(refTree[node]))).toBeLessThan(2e-4);
      });
    }
    s.dispose();
  } finally {
    model.dispose();
  }
}

describe('batched masked forward of a draft tree', () => {
  it('equals each root-to-leaf path run separately on stories260K', async () => {
    // Prefix "<s> Once upon a", then continuations of it as a tree.
    await checkTree(stories260K, Int32Array.of(1, 403, 407, 261), Int32Array.of(378, 432, 383, 376, 286, 261, 298, 315));
  });

  it('equals each root-to-leaf path run separately on a tiny random mistral', async () => {
    const dir = tempModel({ preset: 'tiny-mistral', dtype: 'f32', seed: 21 });
    await checkTree(dir, Int32Array.of(5, 77, 140, 9, 250), Int32Array.of(17, 18, 19, 20, 21, 22, 23, 24));
  });

  it('equals each path with bf16 weights', async () => {
    const dir = tempModel({ preset: 'tiny-llama3', dtype: 'bf16', seed: 22 });
    const model = await Model.load(dir, { backend: 'cpu' });
    try {
      const V = model.info.vocabSize;
      const prefix = Int32Array.of(3, 4, 5);
      const tree = Int32Array.of(30, 31, 32, 33, 34, 35, 36, 37);
      const s = model.createSession();
      await s.forward(prefix);
      const positions = Int32Array.from(PARENTS.map((_, i) => prefix.length + depth(i)));
      const batched = await s.forward(tree, { positions, mask: treeMask(prefix.length), outputRows: range(tree.length) });
      for (const leaf of [3, 5, 6, 7]) {
        s.truncate(prefix.length);
        const path = pathTo(leaf);
        const alone = await s.forward(Int32Array.from(path.map((i) => tree[i])), { outputRows: range(path.length) });
        path.forEach((node, k) => {
          const want = alone.logits.subarray(k * V, (k + 1) * V);
          expect(firstBitDifference(batched.logits, node, want), `node ${node}`).toBeNull();
        });
      }
      s.dispose();
    } finally {
      model.dispose();
    }
  });
});
