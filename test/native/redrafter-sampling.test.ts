/**
 * ReDrafter sampling is exactly the base model's distribution (docs/redrafter.md §2.7): on a tiny
 * random model (temperature 0.7, top-k 6, so each position has 6 possible tokens), the empirical
 * distribution of the first and second tokens a ReDrafter round emits matches the exact marginals
 * of plain sampling, computed from the model's own logits (a mixture over the preceding tokens).
 * Chi-square goodness of fit at significance 0.001 (cells with expected count < 5 pooled), over
 * 3000 generations each with a good drafter (built from the model's own embeddings, so drafts are
 * often accepted) and a bad one (random heads, drafts almost always rejected).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRandomModel } from '../../bench/make-random-model.js';
import { readModelTensors } from '../../bench/lib/safetensors.js';
import { Drafter, Model, type Session } from '../../native/lib/index.js';
import { chi2Critical001, chiSquare } from '../helpers/chi-square.js';
import { writeDrafterFolder } from '../helpers/random-drafter.js';

const T = 0.7;
const TOP_K = 6;
const N = 3000;
const PROMPT = Int32Array.of(40, 41, 42, 43);

/** The engine's sampling distribution, written independently: softmax(l / T), top-k by probability (ties by id). */
function processed(logits: Float32Array): Map<number, number> {
  const mx = Math.max(...logits);
  const p = Array.from(logits, (l) => Math.exp((l - mx) / T));
  const ids = p.map((_, i) => i).sort((a, b) => p[b]! - p[a]! || a - b).slice(0, TOP_K);
  const z = ids.reduce((s, i) => s + p[i]!, 0);
  return new Map(ids.map((i) => [i, p[i]! / z]));
}

let tmp: string;
let model: Model;
let session: Session;
let exact1: Map<number, number>;
let exact2: Map<number, number>;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'redrafter-sampling-'));
  makeRandomModel(join(tmp, 'model'), { preset: 'tiny-llama3', dtype: 'f32', seed: 11 });
  model = await Model.load(join(tmp, 'model'), { backend: 'cpu', threads: 1 });
  session = model.createSession({ maxContext: 64 });
  // Exact marginals of the 2nd and 3rd generated tokens under plain sampling.
  const next = async (ctx: number[]): Promise<Map<number, number>> => {
    session.truncate(0);
    const r = await session.forward(Int32Array.from(ctx));
    return processed(r.logits);
  };
  exact1 = new Map();
  exact2 = new Map();
  for (const [g, pg] of await next([...PROMPT])) {
    for (const [x1, p1] of await next([...PROMPT, g])) {
      exact1.set(x1, (exact1.get(x1) ?? 0) + pg * p1);
      for (const [x2, p2] of await next([...PROMPT, g, x1])) exact2.set(x2, (exact2.get(x2) ?? 0) + pg * p1 * p2);
    }
  }
  session.truncate(0);
});

afterAll(() => {
  session?.dispose();
  model?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * A drafter that guesses from the model itself: the state is the last token's input embedding
 * (SiLU kept near-linear by an offset that input_proj removes), the head is the tied embedding
 * matrix scaled by the final norm, which approximates the next-token logits of a shallow model.
 */
function goodDrafter(dir: string): string {
  const t = readModelTensors(join(tmp, 'model'));
  const emb = t.get('model.embed_tokens.weight')!.data;
  const norm = t.get('model.norm.weight')!.data;
  const V = model.info.vocabSize;
  const H = model.info.hiddenSize;
  const E = H;  // != 2H: input_proj selects the state
  const OFFSET = 4;
  const eye = (n: number, s: number): Float32Array => {
    const m = new Float32Array(n * n);
    for (let i = 0; i < n; i++) m[i * n + i] = s;
    return m;
  };
  const proj = new Float32Array(E * 2 * H);
  for (let i = 0; i < E; i++) proj[i * 2 * H + H + i] = 1;  // z = state
  const head = new Float32Array(V * E);
  for (let v = 0; v < V; v++) for (let i = 0; i < E; i++) head[v * E + i] = (emb[v * H + i]! * norm[i]!) / 0.1;
  return writeDrafterFolder(dir, {
    vocabSize: V, hiddenSize: H, exitDim: E, numDraftLayers: 1,
    values: {
      'rnn_w.weight': eye(H, 1),
      'rnn_u.weight': new Float32Array(H * H),
      'rnn_u.bias': new Float32Array(H).fill(OFFSET),
      'input_proj.weight': proj,
      'input_proj.bias': new Float32Array(E).fill(-OFFSET),
      'lm_head.0.linear.weight': new Float32Array(E * E),
      'lm_head.0.linear.bias': new Float32Array(E),
      'lm_head.1.weight': head,
    },
  });
}

async function sample(drafter: Drafter): Promise<{ first: Map<number, number>; second: Map<number, number>; acceptedRate: number }> {
  const first = new Map<number, number>();
  const second = new Map<number, number>();
  let rounds = 0;
  let accepting = 0;
  for (let seed = 1; seed <= N; seed++) {
    const gen = session.generate(PROMPT, {
      maxTokens: 6, temperature: T, topK: TOP_K, seed, stopTokens: [], mode: 'redrafter', drafter, beams: 3, beamLength: 4,
    });
    let r = await gen.next();
    while (!r.done) r = await gen.next();
    const { ids, stats } = r.value;
    first.set(ids[1]!, (first.get(ids[1]!) ?? 0) + 1);
    second.set(ids[2]!, (second.get(ids[2]!) ?? 0) + 1);
    const h = stats.accepted_histogram!;
    rounds += h.reduce((a, b) => a + b, 0);
    accepting += h.slice(1).reduce((a, b) => a + b, 0);
  }
  return { first, second, acceptedRate: accepting / rounds };
}

describe('ReDrafter sampling', () => {
  for (const kind of ['good', 'bad'] as const) {
    it(`emits tokens distributed as plain sampling, with a ${kind} drafter (chi-square, alpha 0.001)`, async () => {
      const dir = join(tmp, kind);
      const drafter = await Drafter.load(
        kind === 'good' ? goodDrafter(dir) : writeDrafterFolder(dir, { vocabSize: model.info.vocabSize, hiddenSize: model.info.hiddenSize, seed: 9 }),
        model,
      );
      const { first, second, acceptedRate } = await sample(drafter);
      drafter.dispose();
      const c1 = chiSquare(first, exact1, N);
      const c2 = chiSquare(second, exact2, N);
      console.warn(
        `${kind} drafter: rounds accepting >= 1 draft: ${(100 * acceptedRate).toFixed(1)}%; ` +
          `chi2 first ${c1.stat.toFixed(1)} (df ${c1.df}, crit ${chi2Critical001(c1.df).toFixed(1)}), ` +
          `second ${c2.stat.toFixed(1)} (df ${c2.df}, crit ${chi2Critical001(c2.df).toFixed(1)})`,
      );
      if (kind === 'good') expect(acceptedRate).toBeGreaterThan(0.15);
      else expect(acceptedRate).toBeLessThan(0.05);
      expect(c1.df).toBeGreaterThanOrEqual(4);
      expect(c1.stat).toBeLessThan(chi2Critical001(c1.df));
      expect(c2.stat).toBeLessThan(chi2Critical001(c2.df));
    });
  }
});
