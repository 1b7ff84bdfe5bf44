/**
 * Cancellation and the busy guard: an abort during a prefill settles the call with nothing
 * committed and leaves the session usable; an abort between steps ends generate with
 * stoppedBy 'aborted'; a second call on a busy session, or any call while a generation holds it
 * between steps, is refused with ENGINE_BUSY by the engine's one guard (the TS wrapper and the
 * addon have none of their own).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError, Model } from '../../native/lib/index.js';
import { drain } from '../helpers/engine-compare.js';
import { stories260K } from '../helpers/paths.js';

describe('engine cancellation and busy guard', () => {
  let model: Model;
  let greedy: number[];
  beforeAll(async () => {
    model = await Model.load(stories260K, { threads: 2 });
    greedy = JSON.parse(readFileSync(join(stories260K, 'golden.json'), 'utf8')).generation[0].greedy_ids;
  });
  afterAll(() => model.dispose());

  const prompt = Int32Array.from({ length: 300 }, (_, i) => (i === 0 ? 1 : 3 + ((i * 37) % 500)));

  it('settles an aborted prefill with stoppedBy aborted, commits nothing, and stays usable', async () => {
    const s = model.createSession();
    const ac = new AbortController();
    const gen = s.generate(prompt, { maxTokens: 10, signal: ac.signal });
    const first = gen.next();  // the prefill worker is queued now
    ac.abort();  // the native flag is checked between layers
    const r = await first;
    expect(r.done).toBe(true);
    expect(r.value).toMatchObject({ stoppedBy: 'aborted' });
    expect((r.value as { ids: Int32Array }).ids.length).toBe(0);
    expect(s.length).toBe(0);
    const after = await drain(s.generate(Int32Array.of(1), { maxTokens: 20, stopTokens: [] }));
    expect(Array.from(after.result.ids)).toEqual(greedy.slice(0, 20));
    s.dispose();
  });

  it('ends generate between steps when the signal aborts', async () => {
    const s = model.createSession();
    const ac = new AbortController();
    const gen = s.generate(Int32Array.of(1), { maxTokens: 100, signal: ac.signal, stopTokens: [] });
    const got: number[] = [];
    let r = await gen.next();
    while (!r.done) {
      got.push(...r.value.ids);
      if (got.length === 5) ac.abort();
      r = await gen.next();
    }
    expect(r.value.stoppedBy).toBe('aborted');
    expect(got.length).toBeGreaterThanOrEqual(5);
    expect(got.length).toBeLessThan(100);
    expect(got).toEqual(greedy.slice(0, got.length));
    s.dispose();
  });

  it('rejects an aborted forward with ENGINE_CANCELLED and keeps the committed length', async () => {
    const s = model.createSession();
    await s.forward(Int32Array.of(1, 403));
    const ac = new AbortController();
    const p = s.forward(prompt.subarray(1), { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'EngineError', code: 'ENGINE_CANCELLED' });
    expect(s.length).toBe(2);
    const r = await s.forward(Int32Array.of(407));
    expect(r.logits.length).toBe(512);
    expect(s.length).toBe(3);
    s.dispose();
  });

  it('refuses a second call on a busy session with ENGINE_BUSY', async () => {
    const s = model.createSession();
    const running = s.forward(prompt);
    await expect(s.forward(Int32Array.of(1))).rejects.toMatchObject({ code: 'ENGINE_BUSY' });
    await expect(s.generate(Int32Array.of(1), { maxTokens: 2 }).next()).rejects.toMatchObject({ code: 'ENGINE_BUSY' });
    expect(() => s.truncate(0)).toThrow(EngineError);
    await running;
    expect(s.length).toBe(prompt.length);
    s.dispose();
  });

  it('refuses other calls while a generation holds the session between its steps, and serves again after it', async () => {
    const s = model.createSession();
    const gen = s.generate(Int32Array.of(1), { maxTokens: 20, stopTokens: [] });
    expect((await gen.next()).done).toBe(false);  // suspended after its first step: the session is still held
    await expect(s.forward(Int32Array.of(1))).rejects.toMatchObject({ code: 'ENGINE_BUSY' });
    await expect(s.generate(Int32Array.of(1), { maxTokens: 2 }).next()).rejects.toMatchObject({ code: 'ENGINE_BUSY' });
    expect(() => s.truncate(0)).toThrow(expect.objectContaining({ code: 'ENGINE_BUSY' }));
    // the addon has no guard of its own: the native call is refused by the engine's
    expect(() => s.native.generate({
      prompt: Int32Array.of(1), maxTokens: 1, temperature: 0, topK: 0, topP: 1, seed: 0, stopTokens: new Int32Array(0),
      drafter: null, beams: 0, beamLength: 0, extraTokens: null, extraLens: null, requiredPrefix: null, logprobs: false, runAhead: 0,
    })).toThrow(expect.objectContaining({ code: 'ENGINE_BUSY' }));
    await gen.return(undefined as never);  // ends the generation: the session is free again
    const after = await drain(s.generate(Int32Array.of(1), { maxTokens: 20, stopTokens: [] }));
    expect(Array.from(after.result.ids)).toEqual(greedy.slice(0, 20));
    s.truncate(0);
    expect(s.length).toBe(0);
    s.dispose();
  });

  it('settles a call whose session is disposed under it, then refuses further calls', async () => {
    const m = await Model.load(stories260K, { threads: 2 });
    const s = m.createSession();
    const first = s.generate(prompt, { maxTokens: 4 }).next();
    s.dispose();  // during the prefill: the native session is freed when the call settles
    m.dispose();  // the weights go with the last session
    const r = await first;
    expect(r.done).toBe(true);
    expect(r.value).toMatchObject({ stoppedBy: 'aborted' });
    await expect(s.forward(Int32Array.of(1))).rejects.toMatchObject({ code: 'ENGINE_INVALID_ARGUMENT', message: 'session is disposed' });
    expect(() => s.truncate(0)).toThrow('session is disposed');
    expect(() => m.createSession()).toThrow('model is disposed');
  });

  it('rejects a load aborted by its signal with ENGINE_CANCELLED or AbortError', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(Model.load(stories260K, { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
