/**
 * Session.generateBranches (docs/engine.md "Branches"): B samples of one prompt decoded side by
 * side, one engine forward per step for all of them. On the shipped model (bf16), 3 branches as the
 * server's alternatives (greedy + temperature 0.8 with seeds 1, 2) each equal generate() with the
 * same sampling, token for token, with and without a required prefix (token healing), with and
 * without running ahead; the chunks carry each token's branch and the ended branches; afterwards
 * the session holds the prompt and the next generate() reuses it. endBranch ends one branch and
 * leaves the others as they were; an abort through the signal ends the running branches as
 * 'aborted'; bad options are refused with clear errors before anything runs.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EngineError, Model, Tokenizer, type BranchesChunk, type BranchSampling, type GenerateOptions, type Session,
} from '../../native/lib/index.js';
import { drain } from '../helpers/engine-compare.js';
import { repoRoot } from '../helpers/paths.js';

const shippedModel = join(repoRoot, 'fixtures', 'models', 'slipstream-code');

const ALTERNATIVES: BranchSampling[] = [
  { temperature: 0, seed: 0 },
  { temperature: 0.8, seed: 1 },
  { temperature: 0.8, seed: 2 },
];

const CODE = [
  'export function clamp(x: number, lo: number, hi: number): number {\n    return Math.min(hi, Math.max(lo, x));\n}\n\nexport function lerp(',
  "import { readFileSync } from 'node:fs';\n\nconst config = JSON.parse(readFileSync(path, 'utf8'));\nfor (const key of Object.keys(",
];

let model: Model;
let tok: Tokenizer;
let session: Session;

beforeAll(async () => {
  model = await Model.load(shippedModel, { backend: 'cpu', threads: 2 });
  tok = await Tokenizer.load(shippedModel);
  model.setTokenBytes(tok.tokenBytes(model.info.vocabSize));
  session = model.createSession({ maxContext: 1024 });
}, 60_000);

afterAll(() => {
  session.dispose();
  model.dispose();
});

async function single(prompt: Int32Array, b: BranchSampling, opts: Partial<GenerateOptions>): Promise<{ ids: number[]; stoppedBy: string }> {
  const r = (await drain(session.generate(prompt, { maxTokens: 32, ...b, ...opts }))).result;
  return { ids: Array.from(r.ids), stoppedBy: r.stoppedBy };
}

/** The chunks' tokens regrouped per branch (each chunk: at most one token per branch). */
function perBranch(chunks: BranchesChunk[], B: number): number[][] {
  const out: number[][] = Array.from({ length: B }, () => []);
  for (const c of chunks) {
    expect(c.branches.length).toBe(c.ids.length);
    expect(new Set(c.branches).size).toBe(c.branches.length);
    c.ids.forEach((t, i) => out[c.branches[i]!]!.push(t));
  }
  return out;
}

describe('generateBranches', () => {
  for (const [label, extra] of [
    ['plain', {}],
    ['a required prefix', { requiredPrefix: 'x, ' }],
    ['runAhead 0', { runAhead: 0 }],
    ['no stop tokens, runAhead 4', { runAhead: 4, stopTokens: [] }],
  ] as [string, Partial<GenerateOptions>][]) {
    it(`gives each branch exactly what generate() gives with its sampling (${label})`, async () => {
      for (const text of CODE) {
        const prompt = tok.encode(text);
        const opts = extra;
        const refs = [];
        for (const b of ALTERNATIVES) refs.push(await single(prompt, b, opts));
        expect(new Set(refs.map((r) => r.ids.join())).size).toBe(3);  // three different samples: the test compares something
        const gen = session.generateBranches(prompt, { branches: ALTERNATIVES, maxTokens: 32, ...(opts as object) });
        const { chunks, result } = await drain(gen);
        expect(result.ids.map((a) => Array.from(a))).toEqual(refs.map((r) => r.ids));
        expect(result.stoppedBy).toEqual(refs.map((r) => r.stoppedBy));
        expect(perBranch(chunks, 3)).toEqual(refs.map((r) => r.ids));
        const ended = chunks.flatMap((c) => Array.from(c.ended)).sort();
        expect(ended).toEqual([0, 1, 2]);
        expect(chunks[0]!.step.kind).toBe('prefill');
        expect(result.stats.forward_passes).toBeLessThanOrEqual(33);  // one per step for all branches
        if ('requiredPrefix' in opts) for (const r of result.ids) expect(tok.decode(r).startsWith('x, ')).toBe(true);
        // the session holds the prompt: the next generation keeps all but its last token
        expect(Array.from(session.tokens)).toEqual(Array.from(prompt));
        expect(session.reusablePrefixLength(prompt)).toBe(prompt.length - 1);
      }
    }, 120_000);
  }

  it('endBranch ends one branch and leaves the others unchanged', async () => {
    const prompt = tok.encode(CODE[0]!);
    const full = await drain(session.generateBranches(prompt, { branches: ALTERNATIVES, maxTokens: 24, stopTokens: [], runAhead: 0 }));
    const gen = session.generateBranches(prompt, { branches: ALTERNATIVES, maxTokens: 24, stopTokens: [], runAhead: 0 });
    gen.endBranch(2);  // before the first step: branch 2 emits nothing
    const chunks: BranchesChunk[] = [];
    for (let step = 0; ; step++) {
      const it = await gen.next();
      if (it.done) {
        const r = it.value;
        expect(Array.from(r.ids[0]!)).toEqual(Array.from(full.result.ids[0]!));
        expect(Array.from(r.ids[1]!)).toEqual(Array.from(full.result.ids[1]!.subarray(0, 5)));
        expect(r.ids[2]!.length).toBe(0);
        expect(r.stoppedBy).toEqual(['max_tokens', 'ended', 'ended']);
        break;
      }
      chunks.push(it.value);
      if (step === 4) gen.endBranch(1);  // runAhead 0: takes effect at the next step
      gen.endBranch(2);  // already ended: a no-op
    }
    expect(chunks[0]!.ended).toEqual(Int32Array.of(2));
    expect(() => gen.endBranch(3)).toThrow(RangeError);
    expect(Array.from(session.tokens)).toEqual(Array.from(prompt));
  }, 60_000);

  it('an abort through the signal ends the running branches as aborted', async () => {
    const prompt = tok.encode(CODE[1]!);
    const ac = new AbortController();
    const gen = session.generateBranches(prompt, { branches: ALTERNATIVES, maxTokens: 200, stopTokens: [], signal: ac.signal });
    let steps = 0;
    let r;
    for (;;) {
      const it = await gen.next();
      if (it.done) {
        r = it.value;
        break;
      }
      if (++steps === 3) ac.abort();
    }
    expect(r.stoppedBy).toEqual(['aborted', 'aborted', 'aborted']);
    expect(r.ids.every((ids) => ids.length >= 3 && ids.length < 200)).toBe(true);
    expect(Array.from(session.tokens)).toEqual(Array.from(prompt));
    // an early return() releases the session too
    const g2 = session.generateBranches(prompt, { branches: ALTERNATIVES, maxTokens: 50 });
    await g2.next();
    await g2.return(undefined as never);
    expect(Array.from(session.tokens)).toEqual(Array.from(prompt));
    const again = await single(prompt, ALTERNATIVES[0]!, { maxTokens: 4 });
    expect(again.ids.length).toBeGreaterThan(0);
  }, 60_000);

  it('is busy-guarded like generate()', async () => {
    const prompt = tok.encode(CODE[0]!);
    const gen = session.generateBranches(prompt, { branches: ALTERNATIVES, maxTokens: 8 });
    await gen.next();
    await expect(drain(session.generate(prompt, { maxTokens: 2 }))).rejects.toMatchObject({ code: 'ENGINE_BUSY' });
    await drain(gen);
  }, 60_000);

  it('refuses bad options with clear errors', () => {
    const p = tok.encode('x');
    const bad = (opts: unknown): (() => unknown) => () => session.generateBranches(p, opts as never);
    expect(bad({ branches: [], maxTokens: 4 })).toThrow(/branches must have 1 to 16 entries \(got 0\)/);
    expect(bad({ branches: Array(17).fill({ temperature: 0.8, seed: 1 }), maxTokens: 4 })).toThrow(/got 17/);
    expect(bad({ branches: 'x', maxTokens: 4 })).toThrow(TypeError);
    expect(bad({ branches: [{ temperature: 0.8 }], maxTokens: 4 })).toThrow(/branches\[0\] needs temperature and seed/);
    expect(bad({ branches: [{ temperature: -1, seed: 1 }], maxTokens: 4 })).toThrow(/branches\[0\]\.temperature/);
    expect(bad({ branches: [{ temperature: 1, seed: 1, topP: 0 }], maxTokens: 4 })).toThrow(/branches\[0\]\.topP/);
    expect(bad({ branches: [{ temperature: 1, seed: 1, tempreature: 2 }], maxTokens: 4 })).toThrow(/unknown option 'tempreature'/);
    expect(bad({ branches: ALTERNATIVES })).toThrow(/maxTokens is required/);
    expect(bad({ branches: ALTERNATIVES, maxTokens: 4, mode: 'redrafter' })).toThrow(/unknown option 'mode'/);
    expect(bad({ branches: ALTERNATIVES, maxTokens: 4, logprobs: true })).toThrow(/unknown option 'logprobs'/);
    expect(bad({ branches: ALTERNATIVES, maxTokens: 400 })).toThrow(/3 branches x maxTokens \(400\) exceed maxContext 1024/);
    expect(bad({ branches: ALTERNATIVES, maxTokens: 4, runAhead: 17 })).toThrow(/runAhead/);
    expect(() => session.generateBranches(Int32Array.of(), { branches: ALTERNATIVES, maxTokens: 4 })).toThrow(/prompt must not be empty/);
  });

  it('needs the token bytes for a required prefix', async () => {
    const m = await Model.load(shippedModel, { backend: 'cpu', threads: 1 });
    const s = m.createSession({ maxContext: 256 });
    try {
      expect(() => s.generateBranches(Int32Array.of(1, 2), { branches: ALTERNATIVES, maxTokens: 4, requiredPrefix: 'a' })).toThrow(EngineError);
    } finally {
      s.dispose();
      m.dispose();
    }
  }, 60_000);
});
