/**
 * NativeEngineHost.generateTogether over the real engine (the shipped model): each branch's tokens
 * are exactly those generate() gives for its temperature and seed (plain decoding), whether the
 * branches fit the session side by side (one generation of branches) or not (each in turn on the
 * claimed session); every branch is reported ended once, with its reason; a branch whose own signal
 * aborts ends as 'aborted' while the others run to their end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BranchChunk, BranchRequest, GenerateSummary } from '../../server/src/completion/engine-host.js';
import { NativeEngineHost } from '../../server/src/completion/native-engine-host.js';
import { defaultSettings } from '../../server/src/config.js';
import { Logger } from '../../server/src/log.js';

let host: NativeEngineHost;
let prompt: Int32Array;
let maxContext: number;

beforeAll(async () => {
  host = new NativeEngineHost(new Logger(() => {}), null);
  host.configure({ ...defaultSettings().engine, mode: 'ar' });
  const model = await host.ready();
  maxContext = model.maxContext;
  prompt = model.tokenizer.encode('export function mean(values: number[]): number {\n  let sum = 0;\n  for (const v of ', { addSpecialTokens: true });
});
afterAll(async () => host.dispose());

const SAMPLING = [
  { temperature: 0, seed: 0 },
  { temperature: 0.8, seed: 1 },
  { temperature: 0.8, seed: 2 },
];

/** generate()'s tokens for one sampling, on a session of its own, cold. */
async function alone(key: string, s: { temperature: number; seed: number }, maxTokens: number): Promise<{ ids: number[]; stoppedBy?: string }> {
  const gen = host.generate({ key, prompt, maxTokens, stopTokens: [], temperature: s.temperature, seed: s.seed, plainDecoding: true, signal: new AbortController().signal, reuse: false });
  const ids: number[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { ids, stoppedBy: r.value?.stoppedBy };
    ids.push(...(r.value as Int32Array));
  }
}

/** generateTogether's tokens per branch, and each branch's summary (once each). */
async function together(key: string, branches: BranchRequest[], maxTokens: number): Promise<{ ids: number[][]; ended: Map<number, GenerateSummary> }> {
  const ids = branches.map((): number[] => []);
  const ended = new Map<number, GenerateSummary>();
  const gen = host.generateTogether({ key, prompt, maxTokens, stopTokens: [], temperature: 0, signal: new AbortController().signal, reuse: false }, branches);
  for await (const step of gen as AsyncGenerator<BranchChunk, void, void>) {
    step.ids.forEach((t, i) => ids[step.branches[i]!]!.push(t));
    for (const e of step.ended) {
      expect(ended.has(e.branch)).toBe(false);
      ended.set(e.branch, e.summary);
    }
  }
  return { ids, ended };
}

const branchesOf = (signals: AbortSignal[] = []): BranchRequest[] =>
  SAMPLING.map((s, b) => ({ ...s, signal: signals[b] ?? new AbortController().signal }));

describe('NativeEngineHost.generateTogether', () => {
  it('gives each branch exactly the tokens generate() gives for its sampling, side by side', async () => {
    const maxTokens = 24;
    const expected = await Promise.all(SAMPLING.map((s, b) => alone(`alone-${b}`, s, maxTokens)));
    const got = await together('together', branchesOf(), maxTokens);
    expect(got.ids).toEqual(expected.map((e) => e.ids));
    expect([...got.ended.keys()].sort()).toEqual([0, 1, 2]);
    expect(SAMPLING.map((_, b) => got.ended.get(b)!.stoppedBy)).toEqual(expected.map((e) => e.stoppedBy));
    expect(new Set(got.ids.map((x) => x.join(','))).size).toBeGreaterThan(1); // the samples differ
  }, 60_000);

  it('runs the branches in turn when they do not fit the session side by side, with the same tokens', async () => {
    const maxTokens = Math.ceil((maxContext - prompt.length) / 2); // one fits, three side by side do not
    const expected = await Promise.all(SAMPLING.map((s, b) => alone(`alone-${b}`, s, maxTokens)));
    const got = await together('in-turn', branchesOf(), maxTokens);
    expect(got.ids).toEqual(expected.map((e) => e.ids));
    expect(SAMPLING.map((_, b) => got.ended.get(b)!.stoppedBy)).toEqual(expected.map((e) => e.stoppedBy));
  }, 120_000);

  it("ends a branch whose signal aborts as 'aborted'; the others run to their end", async () => {
    const maxTokens = 24;
    const expected = await Promise.all(SAMPLING.map((s, b) => alone(`alone-${b}`, s, maxTokens)));
    const stop = new AbortController();
    stop.abort('its suggestion is whole');
    const got = await together('one-ended', branchesOf([new AbortController().signal, stop.signal]), maxTokens);
    expect(got.ended.get(1)!.stoppedBy).toBe('aborted');
    expect(got.ids[1]!.length).toBeLessThanOrEqual(1); // ended before its first step, or at it
    expect([got.ids[0], got.ids[2]]).toEqual([expected[0]!.ids, expected[2]!.ids]);
  }, 60_000);
});
