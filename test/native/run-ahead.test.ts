/**
 * Steps that run ahead (runAhead, native/addon/generation-wrap.cpp): the engine runs up to runAhead
 * steps before the consumer asks for them and no more; the tokens are the same with and without it
 * (greedy, seeded sampling, ReDrafter); a consumer that stops early frees the session when its
 * return() settles, with the run-ahead tokens committed and reusable; an abort ends it with its
 * totals readable; a step that fails after others ran ahead hands those out first, then the
 * error; and the native generation's own rules (one step() at a time, stats() only once
 * no step runs, stop(), dispose()).
 */
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../bench/lib/safetensors.js';
import { DEFAULT_RUN_AHEAD, defaultRunAhead, Drafter, Model, Tokenizer, type GenerateChunk } from '../../native/lib/index.js';
import type { NativeGenerateParams } from '../../native/lib/binding-types.js';
import { drain, removeTempModels, tempModel } from '../helpers/engine-compare.js';
import { shippedDrafter, shippedModel, stories260K } from '../helpers/paths.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('steps run ahead of the consumer', () => {
  let model: Model;
  let greedy: number[];
  beforeAll(async () => {
    model = await Model.load(stories260K, { threads: 1 });
    greedy = JSON.parse(readFileSync(join(stories260K, 'golden.json'), 'utf8')).generation[0].greedy_ids;
  });
  afterAll(() => model.dispose());

  it('runs at most runAhead steps before they are asked for', async () => {
    for (const runAhead of [0, 1, DEFAULT_RUN_AHEAD]) {
      const s = model.createSession();
      const gen = s.generate(Int32Array.of(1), { maxTokens: 40, stopTokens: [], runAhead });
      expect((await gen.next()).done).toBe(false);  // the prefill
      await sleep(100);  // far longer than runAhead steps of this model take, even on a loaded machine
      const askedAt = performance.now();
      const next: GenerateChunk[] = [];
      for (let i = 0; i <= runAhead; i++) next.push((await gen.next()).value as GenerateChunk);
      // the first runAhead ran during the sleep; the one after them only once asked for
      for (let i = 0; i < runAhead; i++) expect(next[i]!.endedAt, `runAhead ${runAhead}, step ${i}`).toBeLessThan(askedAt);
      expect(next[runAhead]!.endedAt, `runAhead ${runAhead}`).toBeGreaterThan(askedAt);
      await gen.return(undefined as never);
      s.dispose();
    }
  });

  it('gives the same tokens with and without running ahead (greedy and seeded sampling)', async () => {
    const s = model.createSession();
    for (const opts of [{ temperature: 0 }, { temperature: 1, topK: 40, topP: 0.95, seed: 11 }]) {
      const got: number[][] = [];
      for (const runAhead of [0, 1, DEFAULT_RUN_AHEAD, 16]) {
        const { chunks, result } = await drain(s.generate(Int32Array.of(1), { maxTokens: 60, stopTokens: [], runAhead, ...opts }));
        expect(chunks.flatMap((c) => Array.from(c.ids))).toEqual(Array.from(result.ids));
        expect(result.stats.forward_passes).toBe(60);
        got.push(Array.from(result.ids));
      }
      if (opts.temperature === 0) expect(got[0]).toEqual(greedy.slice(0, 60));
      for (const g of got) expect(g).toEqual(got[0]);
    }
    s.dispose();
  });

  it('frees the session when an early return() settles, with the run-ahead tokens committed and reused', async () => {
    const s = model.createSession();
    for (let i = 0; i < 30; i++) {
      const take = 1 + (i % 6);
      const gen = s.generate(Int32Array.of(1), { maxTokens: 100, stopTokens: [], runAhead: DEFAULT_RUN_AHEAD });
      const got: number[] = [];
      while (got.length < take) got.push(...((await gen.next()).value as GenerateChunk).ids);
      if (i % 2 === 1) await sleep(5);  // let it reach runAhead (else it is mid-step)
      await gen.return(undefined as never);
      // free at once (no ENGINE_BUSY from a step still running); committed: the prompt, the taken
      // tokens but the last (its KV comes with the next step) and what ran ahead
      const committed = Array.from(s.tokens);
      expect(committed).toEqual([1, ...greedy].slice(0, committed.length));
      expect(committed.length).toBeGreaterThanOrEqual(take);
      expect(committed.length).toBeLessThanOrEqual(1 + take + DEFAULT_RUN_AHEAD);
      const prompt = Int32Array.from([1, ...greedy.slice(0, take)]);
      expect(s.reusablePrefixLength(prompt)).toBe(prompt.length - 1);
      const after = await drain(s.generate(prompt, { maxTokens: 5, stopTokens: [], runAhead: 0 }));
      expect(Array.from(after.result.ids)).toEqual(greedy.slice(take, take + 5));
      s.truncate(0);
    }
    s.dispose();
  });

  it('ends with stoppedBy aborted when the signal fires while it runs ahead, with its totals read', async () => {
    const s = model.createSession();
    const ac = new AbortController();
    const gen = s.generate(Int32Array.of(1), { maxTokens: 200, stopTokens: [], runAhead: DEFAULT_RUN_AHEAD, signal: ac.signal });
    const got: number[] = [];
    let r = await gen.next();
    while (!r.done) {
      got.push(...r.value.ids);
      if (got.length === 3) ac.abort();
      r = await gen.next();
    }
    expect(r.value.stoppedBy).toBe('aborted');
    expect(got).toEqual(greedy.slice(0, got.length));
    expect(Array.from(r.value.ids)).toEqual(got);
    // the steps that ran count, whether or not they were taken
    expect(r.value.stats.forward_passes).toBeGreaterThanOrEqual(got.length);
    expect(r.value.stats.forward_passes).toBeLessThanOrEqual(got.length + DEFAULT_RUN_AHEAD + 1);
    await drain(s.generate(Int32Array.of(1), { maxTokens: 2, stopTokens: [] }));  // free again
    s.dispose();
  });

  it('takes runAhead from 0 to 16 and defaults to running ahead only when a CPU is left free', () => {
    const s = model.createSession();
    for (const bad of [-1, 17, 1.5, '2'])
      expect(() => s.generate(Int32Array.of(1), { maxTokens: 2, runAhead: bad as number })).toThrow(/runAhead/);
    const cpus = availableParallelism();
    expect(defaultRunAhead(cpus)).toBe(0);
    expect(defaultRunAhead(cpus + 1)).toBe(0);
    if (cpus > 1) expect(defaultRunAhead(cpus - 1)).toBe(DEFAULT_RUN_AHEAD);
    s.dispose();
  });
});

describe('a step that fails while steps run ahead', () => {
  afterAll(removeTempModels);

  it('hands out the steps before it, then its error', async () => {
    // an untied model whose embedding row of one greedy token is NaN: the step that emits it is
    // fine (the head is separate); the next one, which reads it, fails with ENGINE_NUMERIC
    const dir = tempModel({ preset: 'tiny-qwen2', dtype: 'f32', seed: 7 });
    const prompt = Int32Array.of(5, 6, 7);
    const healthy = await Model.load(dir, { threads: 1 });
    const s0 = healthy.createSession();
    const greedy = Array.from((await drain(s0.generate(prompt, { maxTokens: 12, stopTokens: [] }))).result.ids);
    s0.dispose();
    healthy.dispose();
    const k = greedy.findIndex((t, i) => i >= 2 && !prompt.includes(t) && !greedy.slice(0, i).includes(t));
    expect(k).toBeGreaterThanOrEqual(2);
    const path = join(dir, 'model.safetensors');
    const { tensors } = readSafetensors(path);
    const embed = tensors.get('model.embed_tokens.weight')!;
    const hidden = embed.shape[1]!;
    embed.data.fill(NaN, greedy[k]! * hidden, (greedy[k]! + 1) * hidden);
    writeSafetensors(path, [...tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.data })));

    const model = await Model.load(dir, { threads: 1 });
    const s = model.createSession();
    const gen = s.generate(prompt, { maxTokens: 12, stopTokens: [], runAhead: 16 });
    const got = Array.from(((await gen.next()).value as GenerateChunk).ids);
    await sleep(100);  // the loop runs on to the failing step
    let error: unknown;
    try {
      for (;;) {
        const r = await gen.next();
        if (r.done) break;
        got.push(...r.value.ids);
      }
    } catch (err) {
      error = err;
    }
    expect(got).toEqual(greedy.slice(0, k + 1));
    expect(error).toMatchObject({ name: 'EngineError', code: 'ENGINE_NUMERIC' });
    await drain(s.generate(Int32Array.of(5), { maxTokens: 1, stopTokens: [] }));  // the session serves again
    s.dispose();
    model.dispose();
  });
});

describe('the native generation with steps running ahead', () => {
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(stories260K, { threads: 1 });
  });
  afterAll(() => model.dispose());

  const params = (runAhead: number): NativeGenerateParams => ({
    prompt: Int32Array.of(1), maxTokens: 50, temperature: 0, topK: 0, topP: 1, seed: 0, stopTokens: new Int32Array(0),
    drafter: null, beams: 0, beamLength: 0, extraTokens: null, extraLens: null, requiredPrefix: null, logprobs: false, runAhead,
  });

  it('refuses a second step() while one waits, and stats() while steps run', async () => {
    const s = model.createSession();
    const g = s.native.generate(params(DEFAULT_RUN_AHEAD));
    const first = g.step();
    expect(() => g.stats()).toThrow(expect.objectContaining({ code: 'ENGINE_BUSY' }));
    await expect(g.step()).rejects.toMatchObject({ code: 'ENGINE_BUSY' });
    expect((await first)[0]).toBe(0);  // not done
    await g.stop();
    expect(g.stats().forwardPasses).toBeGreaterThanOrEqual(1);
    await expect(g.step()).rejects.toThrow('generation is stopped');
    await g.dispose();
    await g.dispose();  // twice is harmless
    await expect(g.step()).rejects.toThrow('generation is disposed');
    await s.forward(Int32Array.of(2));  // the session is free
    s.dispose();
  });

  it('resolves dispose() once the running step ended, and the session serves again', async () => {
    const s = model.createSession();
    const g = s.native.generate({ ...params(16), maxTokens: 400 });
    await g.step();
    await g.dispose();  // the loop is running ahead: aborted between layers
    const r = await s.forward(Int32Array.of(2));
    expect(r.logits.length).toBe(model.info.vocabSize);
    s.dispose();
  });
});

describe('ReDrafter with steps running ahead on the shipped pair', () => {
  it('emits the same tokens as without, and as plain decoding', async () => {
    const model = await Model.load(shippedModel, { threads: 1 });
    const drafter = await Drafter.load(shippedDrafter, model);
    const s = model.createSession();
    const prompt = (await Tokenizer.load(shippedModel)).encode('class LRUCache<K, V> {\n  private map = new Map<K, V>();\n');
    const plain = (await drain(s.generate(prompt, { maxTokens: 48, stopTokens: [], runAhead: 0 }))).result;
    for (const runAhead of [0, DEFAULT_RUN_AHEAD]) {
      const rd = (await drain(s.generate(prompt, { maxTokens: 48, stopTokens: [], mode: 'redrafter', drafter, runAhead }))).result;
      expect(Array.from(rd.ids), `runAhead ${runAhead}`).toEqual(Array.from(plain.ids));
      expect(rd.stats.forward_passes).toBeLessThan(48);
    }
    s.dispose();
    drafter.dispose();
    model.dispose();
  });
});
