/**
 * The engine's async API: steps run off the event loop, generate streams one chunk per step with
 * the golden tokens, reuses the longest common prefix of a new prompt, and is reproducible with a
 * seed when sampling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Model, type Session } from '../../native/lib/index.js';
import { drain } from '../helpers/engine-compare.js';
import { stories260K } from '../helpers/paths.js';

describe('engine async API on stories260K', () => {
  let model: Model;
  let golden: { generation: { greedy_ids: number[]; prompt_ids: number[]; generated_ids: number[] }[] };
  beforeAll(async () => {
    model = await Model.load(stories260K, { threads: 2 });
    golden = JSON.parse(readFileSync(join(stories260K, 'golden.json'), 'utf8'));
  });
  afterAll(() => model.dispose());

  it('keeps the event loop running while a forward runs on a worker thread', async () => {
    const s = model.createSession();
    const order: string[] = [];
    const p = s.forward(Int32Array.from({ length: 400 }, (_, i) => 1 + (i % 500))).then(() => order.push('forward'));
    setImmediate(() => order.push('immediate'));
    await p;
    expect(order).toEqual(['immediate', 'forward']);
    expect(s.length).toBe(400);
    s.dispose();
  });

  it('streams one chunk per step whose concatenation is the golden greedy continuation', async () => {
    const s = model.createSession();
    const want = golden.generation[0]!.greedy_ids.slice(0, 50);
    const { chunks, result } = await drain(s.generate(Int32Array.of(1), { maxTokens: 50, stopTokens: [] }));
    expect(chunks.every((c) => c.ids.length === 1)).toBe(true);
    expect(chunks.flatMap((c) => Array.from(c.ids))).toEqual(want);
    expect(Array.from(result.ids)).toEqual(want);
    expect(result.stoppedBy).toBe('max_tokens');
    expect(result.stats.forward_passes).toBe(50);
    expect(result.stats.tokens_per_step).toBe(1);
    s.dispose();
  });

  it('reuses the longest common prefix and prefills only the rest', async () => {
    const s = model.createSession();
    const prompt = Int32Array.from(golden.generation[1]!.prompt_ids);
    const first = await drain(s.generate(prompt, { maxTokens: 10, stopTokens: [] }));
    const longer = Int32Array.from([...prompt, ...first.result.ids]);
    const second = await drain(s.generate(longer, { maxTokens: 10, stopTokens: [] }));
    // all but the last generated token (its KV was never committed) are reused
    expect(second.result.stats.reused_tokens).toBe(prompt.length + 9);
    expect(second.result.stats.prompt_tokens).toBe(longer.length);
    const fresh = model.createSession();
    const again = await drain(fresh.generate(longer, { maxTokens: 10, stopTokens: [] }));
    expect(Array.from(second.result.ids)).toEqual(Array.from(again.result.ids));
    expect(Array.from([...first.result.ids, ...second.result.ids])).toEqual(golden.generation[1]!.generated_ids.slice(0, 20));
    s.dispose();
    fresh.dispose();
  });

  it('gives the same sampled tokens for the same seed and different ones for another seed', async () => {
    const run = async (session: Session, seed: number) =>
      Array.from((await drain(session.generate(Int32Array.of(1), { maxTokens: 40, temperature: 1, topK: 40, topP: 0.95, seed, stopTokens: [] }))).result.ids);
    const s = model.createSession();
    const a = await run(s, 7);
    const b = await run(s, 7);
    const c = await run(s, 8);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    s.dispose();
  });

  it('stops at a stop token without emitting it', async () => {
    const s = model.createSession();
    const greedy = golden.generation[0]!.greedy_ids;
    const stop = greedy[5]!;
    const { result } = await drain(s.generate(Int32Array.of(1), { maxTokens: 50, stopTokens: [stop] }));
    expect(result.stoppedBy).toBe('eos');
    expect(Array.from(result.ids)).toEqual(greedy.slice(0, greedy.indexOf(stop)));
    s.dispose();
  });

  it('returns logits and post-norm hidden states for the requested rows', async () => {
    const s = model.createSession();
    const r = await s.forward(Int32Array.of(1, 403, 407), { outputRows: Int32Array.of(0, 2), hidden: true });
    expect(r.logits.length).toBe(2 * 512);
    expect(r.hidden!.length).toBe(2 * 64);
    expect(Array.from(s.tokens)).toEqual([1, 403, 407]);
    s.truncate(1);
    expect(s.length).toBe(1);
    s.dispose();
  });
});
