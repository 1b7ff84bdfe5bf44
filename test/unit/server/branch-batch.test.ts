/**
 * branch-batch.ts: the first seat to arrive starts one generateTogether call with a branch per seat
 * (the batch's samplings); each seat's stream yields exactly its branch's tokens and summary, a
 * late seat from the branch's start; a seat that stops early, aborts or is absent ends its branch
 * only; an engine error reaches every seat; a late seat that cannot share the generation (another
 * prompt), or a lone seat, gets one of its own. A seat leaves no listener on its request's signal
 * (a composite signal with one is kept alive by Node, with all it holds). Over the FAKE engine.
 */
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { BranchBatch } from '../../../server/src/completion/branch-batch.js';
import type { GeneratedChunk, GenerateRequest, GenerateSummary } from '../../../server/src/completion/engine-host.js';
import { FakeEngineHost } from '../../helpers/fake-engine.js';

function fakeEngine(): FakeEngineHost {
  const e = new FakeEngineHost();
  e.together = true;
  e.respond = (_prompt, req) => `s${req.seed}-${'x'.repeat(req.seed ?? 0)}`;
  return e;
}

function request(e: FakeEngineHost, prompt = 'let a = ', signal = new AbortController().signal): GenerateRequest {
  return { key: 'doc', prompt: e.tokenizer.encode(prompt, { addSpecialTokens: false }), maxTokens: 48, stopTokens: [1], temperature: 0.8, signal };
}

/** A batch with a seat per seed (temperature 0.8): the fake answers `s<seed>-` and `seed` x's. */
const batchOf = (e: FakeEngineHost, ...seeds: number[]): BranchBatch => new BranchBatch(e, seeds.map((seed) => ({ temperature: 0.8, seed })));

/** Reads a seat's stream to its end (or `stopAfter` chunks): its text and summary. */
async function read(e: FakeEngineHost, gen: AsyncGenerator<GeneratedChunk, GenerateSummary | undefined, void>, stopAfter = Infinity) {
  const ids: number[] = [];
  let chunks = 0;
  for (;;) {
    if (chunks >= stopAfter) {
      await gen.return(undefined);
      return { text: e.tokenizer.decode(ids), summary: undefined };
    }
    const r = await gen.next();
    if (r.done) return { text: e.tokenizer.decode(ids), summary: r.value };
    chunks++;
    ids.push(...(r.value as Int32Array));
  }
}

describe('BranchBatch', () => {
  it('starts one generation at the first seat, with a branch per seat; later seats read theirs from its start', async () => {
    const e = fakeEngine();
    const batch = batchOf(e, 1, 2, 3);
    const first = await read(e, batch.member(0, request(e)));
    expect([first.text, first.summary?.stoppedBy]).toEqual(['s1-x', 'eos']);
    expect(e.togetherCalls).toEqual([3]);
    // the others arrive after the first is done (as alternatives do): their branches ran meanwhile
    const later = await Promise.all([read(e, batch.member(2, request(e))), read(e, batch.member(1, request(e)))]);
    expect(later.map((r) => [r.text, r.summary?.stoppedBy])).toEqual([
      ['s3-xxx', 'eos'],
      ['s2-xx', 'eos'],
    ]);
    expect(e.calls).toHaveLength(1);
  });

  it('ends the branch of a seat marked absent; the others go on', async () => {
    const e = fakeEngine();
    const batch = batchOf(e, 9, 4);
    const release = e.hold(2); // the generation waits after its second step
    const pending = read(e, batch.member(1, request(e)));
    await new Promise((r) => setTimeout(r, 10));
    batch.absent(0);
    expect(e.requests.map((r) => r.signal.aborted)).toEqual([true, false]);
    release();
    expect((await pending).text).toBe('s4-xxxx');
    batch.absent(1); // a seat that ran: no effect
    await expect(read(e, batch.member(0, request(e)))).rejects.toThrow('seat 0 of a branch batch was taken twice');
  });

  it('ends the branch of a seat that stops reading; the others run to their end', async () => {
    const e = fakeEngine();
    const batch = batchOf(e, 9, 6);
    const release = e.hold(3); // the generation waits after its third step
    const pending = read(e, batch.member(1, request(e)));
    const short = await read(e, batch.member(0, request(e)), 2);
    expect(short.text).toBe('s9');
    // branch 0 ended while the generation runs on for branch 1
    expect(e.requests.map((r) => r.signal.aborted)).toEqual([true, false]);
    release();
    const long = await pending;
    expect([long.text, long.summary?.stoppedBy]).toEqual(['s6-xxxxxx', 'eos']);
  });

  it("ends the branch of a seat whose own signal aborts, with an 'aborted' summary", async () => {
    const e = fakeEngine();
    const batch = batchOf(e, 5, 4);
    const ac = new AbortController();
    const release = e.hold(2);
    const aborted = read(e, batch.member(0, request(e, 'let a = ', ac.signal)));
    const other = read(e, batch.member(1, request(e)));
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    release();
    expect((await aborted).summary?.stoppedBy).toBe('aborted');
    expect((await other).text).toBe('s4-xxxx');
  });

  it('hands an engine error to every seat, a late one too', async () => {
    const e = fakeEngine();
    e.failStep = Object.assign(new Error('step failed'), { code: 'ENGINE_NUMERIC' });
    const batch = batchOf(e, 1, 2);
    await expect(read(e, batch.member(0, request(e)))).rejects.toThrow('step failed');
    await expect(read(e, batch.member(1, request(e)))).rejects.toThrow('step failed');
  });

  it('gives a late seat with another prompt, and a lone seat, generations of their own', async () => {
    const e = fakeEngine();
    const batch = batchOf(e, 1, 2);
    expect((await read(e, batch.member(0, request(e)))).text).toBe('s1-x');
    // its branch in the shared generation ended; its own generation answers for its request
    expect((await read(e, batch.member(1, request(e, 'let b = ')))).text).toBe('s2-xx');
    expect(e.togetherCalls).toEqual([2]);
    expect(e.calls).toHaveLength(2);
    const lone = batchOf(e, 3);
    expect((await read(e, lone.member(0, request(e)))).text).toBe('s3-xxx');
    expect(e.togetherCalls).toEqual([2]);
    await expect(read(e, lone.member(1, request(e)))).rejects.toThrow('a branch batch of 1 has no seat 1');
  });

  it("leaves no abort listener on a seat's request signal once the seat is done, however it ended", async () => {
    const e = fakeEngine();
    const batch = batchOf(e, 1, 2, 3);
    // the provider's request signals are composite (AbortSignal.any), as here
    const signals = [0, 1, 2].map(() => AbortSignal.any([new AbortController().signal]));
    await read(e, batch.member(0, request(e, 'let a = ', signals[0])));
    await read(e, batch.member(1, request(e, 'let a = ', signals[1])), 1);
    await read(e, batch.member(2, request(e, 'let b = ', signals[2])));
    for (const s of signals) expect(getEventListeners(s, 'abort')).toEqual([]);
  });
});
