/**
 * branch-batch.ts: seats of one batch meet in one generateTogether call once every seat is taken
 * or absent; each seat's stream yields exactly its branch's tokens and summary; a seat that stops
 * early ends its branch only; an engine error reaches every seat; seats that cannot share a
 * generation (another prompt), or a lone seat, get one of their own. Over the FAKE engine.
 */
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

function request(e: FakeEngineHost, seed: number, prompt = 'let a = ', signal = new AbortController().signal): GenerateRequest {
  return { key: 'doc', prompt: e.tokenizer.encode(prompt, { addSpecialTokens: false }), maxTokens: 48, stopTokens: [1], temperature: 0.8, seed, signal };
}

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
  it('starts one generation once every seat is taken, each seat getting its own branch', async () => {
    const e = fakeEngine();
    const batch = new BranchBatch(e, 3);
    const results = [1, 2, 3].map((seed, i) => read(e, batch.member(i, request(e, seed))));
    expect((await Promise.all(results)).map((r) => [r.text, r.summary?.stoppedBy])).toEqual([
      ['s1-x', 'eos'],
      ['s2-xx', 'eos'],
      ['s3-xxx', 'eos'],
    ]);
    expect(e.togetherCalls).toEqual([3]);
    expect(e.calls).toHaveLength(1);
  });

  it('waits for a seat not taken yet, and starts without one marked absent', async () => {
    const e = fakeEngine();
    const batch = new BranchBatch(e, 3);
    const first = read(e, batch.member(0, request(e, 1)));
    const second = read(e, batch.member(2, request(e, 2)));
    await new Promise((r) => setTimeout(r, 10));
    expect(e.calls).toHaveLength(0); // seat 1 is neither taken nor absent
    batch.absent(1);
    expect((await first).text).toBe('s1-x');
    expect((await second).text).toBe('s2-xx');
    expect(e.togetherCalls).toEqual([2]);
    batch.absent(0); // a seat that ran: no effect
  });

  it('ends the branch of a seat that stops reading; the others run to their end', async () => {
    const e = fakeEngine();
    const batch = new BranchBatch(e, 2);
    const release = e.hold(3); // the generation waits after its third step
    const pending = read(e, batch.member(1, request(e, 6)));
    const short = await read(e, batch.member(0, request(e, 9)), 2);
    expect(short.text).toBe('s9');
    // branch 0 ended while the generation runs on for branch 1
    expect(e.requests.map((r) => r.signal.aborted)).toEqual([true, false]);
    release();
    const long = await pending;
    expect([long.text, long.summary?.stoppedBy]).toEqual(['s6-xxxxxx', 'eos']);
  });

  it("ends the branch of a seat whose own signal aborts, with an 'aborted' summary", async () => {
    const e = fakeEngine();
    const batch = new BranchBatch(e, 2);
    const ac = new AbortController();
    const release = e.hold(2);
    const aborted = read(e, batch.member(0, request(e, 5, 'let a = ', ac.signal)));
    const other = read(e, batch.member(1, request(e, 4)));
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    release();
    expect((await aborted).summary?.stoppedBy).toBe('aborted');
    expect((await other).text).toBe('s4-xxxx');
  });

  it('hands an engine error to every seat', async () => {
    const e = fakeEngine();
    e.failStep = Object.assign(new Error('step failed'), { code: 'ENGINE_NUMERIC' });
    const batch = new BranchBatch(e, 2);
    const results = [0, 1].map((i) => read(e, batch.member(i, request(e, i + 1))));
    for (const r of results) await expect(r).rejects.toThrow('step failed');
  });

  it('gives seats with different prompts, and a lone seat, generations of their own', async () => {
    const e = fakeEngine();
    const batch = new BranchBatch(e, 2);
    const results = await Promise.all([read(e, batch.member(0, request(e, 1))), read(e, batch.member(1, request(e, 2, 'let b = ')))]);
    expect(results.map((r) => r.text)).toEqual(['s1-x', 's2-xx']);
    expect(e.togetherCalls).toEqual([]);
    expect(e.calls).toHaveLength(2);
    const lone = new BranchBatch(e, 1);
    expect((await read(e, lone.member(0, request(e, 3)))).text).toBe('s3-xxx');
    expect(e.togetherCalls).toEqual([]);
  });

  it('refuses a seat taken twice', async () => {
    const e = fakeEngine();
    const batch = new BranchBatch(e, 2);
    void read(e, batch.member(0, request(e, 1)));
    await expect(read(e, batch.member(0, request(e, 2)))).rejects.toThrow('seat 0 of a branch batch was taken twice');
    batch.absent(1);
  });
});
