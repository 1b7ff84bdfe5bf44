/**
 * The shared KV block pool through the addon (Model.setKvPool / kvPool, native/src/core/kv-pool.h)
 * on stories260K: documents that start alike share blocks across sessions; many random interleaved
 * edits of four documents, served by two sessions that keep switching documents with the pool on,
 * give exactly the greedy ids of a cold model (pool off, a fresh session per request); a tiny budget
 * evicts and never exceeds it; budget 0 turns reuse from the pool off. The K/V dtype follows the
 * weights: the shipped bf16 model stores bf16 K/V (half the bytes of forced f32), stories260K f32.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, type Session } from '../../native/lib/index.js';
import { drain } from '../helpers/engine-compare.js';
import { shippedModel, stories260K } from '../helpers/paths.js';
import { mulberry32 } from '../../server/src/mulberry32.js';


async function greedy(s: Session, prompt: number[], maxTokens = 6): Promise<{ ids: number[]; reused: number }> {
  const { result } = await drain(s.generate(Int32Array.from(prompt), { maxTokens }));
  return { ids: Array.from(result.ids), reused: result.stats.reused_tokens };
}

describe('the shared KV block pool', () => {
  let model: Model;
  let cold: Model;
  beforeAll(async () => {
    model = await Model.load(stories260K, { backend: 'cpu', threads: 1 });
    cold = await Model.load(stories260K, { backend: 'cpu', threads: 1 });
  });
  afterAll(() => {
    model?.dispose();
    cold?.dispose();
  });

  it('is off until given a budget, and reports its figures', () => {
    const p = model.kvPool();
    expect(p).toMatchObject({ bytes: 0, budgetBytes: 0, blocks: 0, hits: 0 });
    // stories260K: 5 layers x 2 x 16 positions x 4 kv heads x 8 x 4 bytes
    expect(p.blockBytes).toBe(5 * 2 * 16 * 4 * 8 * 4);
    expect(() => model.setKvPool(-1)).toThrow(RangeError);
  });

  it('lets a second document that starts alike reuse the first one\'s full blocks', async () => {
    model.setKvPool(1 << 24);
    const r = mulberry32(7);
    const header = Array.from({ length: 48 }, () => 1 + Math.floor(r() * 511));
    const a = [...header, ...Array.from({ length: 20 }, () => 1 + Math.floor(r() * 511))];
    const b = [...header, ...Array.from({ length: 9 }, () => 1 + Math.floor(r() * 511))];
    const s1 = model.createSession({ maxContext: 256 });
    const s2 = model.createSession({ maxContext: 256 });
    const c = cold.createSession({ maxContext: 256 });
    try {
      expect((await greedy(s1, a)).reused).toBe(0);
      const got = await greedy(s2, b);
      expect(got.reused).toBe(48);
      expect(got.ids).toEqual((await greedy(c, b)).ids);
      expect(model.kvPool().hits).toBeGreaterThanOrEqual(3);
    } finally {
      s1.dispose();
      s2.dispose();
      c.dispose();
      model.setKvPool(0);
    }
  });

  for (const [name, blocks] of [['a roomy', 4096], ['a 4-block', 4]] as const) {
    it(`gives a cold engine's ids over random interleaved edits of four documents with ${name} budget`, async () => {
      const budget = blocks * model.kvPool().blockBytes;
      model.setKvPool(budget);
      const r = mulberry32(blocks);
      const tok = (): number => 1 + Math.floor(r() * 511);
      const header = Array.from({ length: 37 }, tok);
      const docs = Array.from({ length: 4 }, () => [...header, ...Array.from({ length: 5 + Math.floor(r() * 40) }, tok)]);
      const sessions = [model.createSession({ maxContext: 256 }), model.createSession({ maxContext: 256 })];
      let fromPool = 0;
      try {
        for (let round = 0; round < 40; round++) {
          const d = docs[Math.floor(r() * 4)]!;
          const at = r() < 0.7 ? d.length - Math.floor(r() * 3) : 1 + Math.floor(r() * (d.length - 1));
          if (r() < 0.6) d.splice(at, 0, tok(), tok());
          else d.splice(Math.min(at, d.length - 2), 1);
          if (d.length > 200) d.length = 200;
          const s = sessions[Math.floor(r() * 2)]!;
          const own = s.reusablePrefixLength(Int32Array.from(d));
          const got = await greedy(s, d);
          if (got.reused > own) fromPool++;
          const c = cold.createSession({ maxContext: 256 });
          try {
            const want = await greedy(c, d);
            expect(want.reused).toBe(0);
            expect(got.ids).toEqual(want.ids);
          } finally {
            c.dispose();
          }
          expect(model.kvPool().bytes).toBeLessThanOrEqual(budget);
        }
        expect(fromPool).toBeGreaterThan(0);
        if (blocks === 4) expect(model.kvPool().evictions).toBeGreaterThan(0);
      } finally {
        for (const s of sessions) s.dispose();
        model.setKvPool(0);
      }
    });
  }

  it('finds nothing with budget 0 (cache.enabled off): every prefill is cold', async () => {
    model.setKvPool(1 << 24);
    const p = Array.from({ length: 40 }, (_, i) => 3 + i);
    const s1 = model.createSession({ maxContext: 128 });
    const s2 = model.createSession({ maxContext: 128 });
    try {
      await greedy(s1, p);
      expect(model.kvPool().blocks).toBe(2);
      model.setKvPool(0);
      expect(model.kvPool()).toMatchObject({ bytes: 0, blocks: 0 });
      expect((await greedy(s2, p)).reused).toBe(0);
    } finally {
      s1.dispose();
      s2.dispose();
    }
  });
});

describe('K/V in the model\'s dtype (docs/engine.md "K/V dtype")', () => {
  it('stores the shipped bf16 model\'s K/V as bf16: half the bytes per token and per pool block of f32 K/V', async () => {
    const bf16 = await Model.load(shippedModel, { backend: 'cpu', threads: 1 });
    const f32 = await Model.load(shippedModel, { backend: 'cpu', threads: 1, kv: 'f32' });
    try {
      const i = bf16.info;
      expect(i.storedDtype).toBe('bf16');
      expect(i.kvDtype).toBe('bf16');
      expect(f32.info.kvDtype).toBe('f32');
      expect(i.kvBytesPerToken).toBe(2 * i.numLayers * i.numKvHeads * i.headDim * 2);
      expect(f32.info.kvBytesPerToken).toBe(2 * i.kvBytesPerToken);
      expect(bf16.kvPool().blockBytes).toBe(i.kvBytesPerToken * 16);
      expect(f32.kvPool().blockBytes).toBe(2 * bf16.kvPool().blockBytes);
    } finally {
      bf16.dispose();
      f32.dispose();
    }
  });

  it('reads a found prefix in place: sharedLength counts it, truncating below it gives it back', async () => {
    const m = await Model.load(shippedModel, { backend: 'cpu', threads: 1 });
    try {
      m.setKvPool(1 << 24);
      const prompt = Array.from({ length: 70 }, (_, i) => 10 + ((i * 37) % 3000));
      const a = m.createSession();
      await greedy(a, prompt);
      expect(a.sharedLength).toBe(0); // computed, not found
      const b = m.createSession();
      const r = await greedy(b, prompt);
      expect(r.reused).toBe(64);
      expect(b.sharedLength).toBe(64); // 4 blocks held in place
      expect(m.kvPool().held).toBe(4);
      b.truncate(20);
      expect(b.sharedLength).toBe(16);
      expect(m.kvPool().held).toBe(1);
      b.dispose();
      a.dispose();
      expect(m.kvPool().held).toBe(0);
    } finally {
      m.dispose();
    }
  });

  it('keeps f32 K/V for the f32 stories260K', async () => {
    const m = await Model.load(stories260K, { backend: 'cpu', threads: 1 });
    try {
      expect(m.info.storedDtype).toBe('f32');
      expect(m.info.kvDtype).toBe('f32');
      expect(m.info.kvBytesPerToken).toBe(2 * m.info.numLayers * m.info.numKvHeads * m.info.headDim * 4);
    } finally {
      m.dispose();
    }
  });
});
