/**
 * Decode rounds in a trace on the real engine (the shipped model): each round is placed where the
 * engine ran it (its end less its engine time), whether the steps ran ahead of the server
 * (engine.threads 1 leaves a CPU free: runAhead) or one at a time (every CPU computing): rounds in
 * order, none overlapping the next, all inside decode, each as long as the engine's time for it
 * unless it ran before decode began (then clamped to start with it).
 */
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestTrace, TraceSpan } from '../../server/src/protocol.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair | undefined;
afterEach(async () => {
  await pair?.client.sendRequest('shutdown');
  pair?.dispose();
  pair = undefined;
});

const text = 'export function clamp(x: number, lo: number, hi: number): number {\n  return ';

describe('decode rounds on the real engine', () => {
  for (const threads of [1, availableParallelism()]) {
    it(`places each round at the engine's time (engine.threads ${threads})`, async () => {
      pair = createPair({});
      await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 24 }, engine: { mode: 'ar', threads }, cache: { prefetch: false } });
      await pair.client.sendRequest('slipstream/complete', { text, offset: text.length, uri: 'untitled:clamp.ts' });
      const { traces } = (await pair.client.sendRequest('slipstream/traces', {})) as { traces: RequestTrace[] };
      const decode = traces[0]!.spans!.children!.find((c) => c.name === 'decode')!;
      const rounds = decode.children as TraceSpan[];
      expect(rounds.length).toBeGreaterThan(2);
      const eps = 0.02;  // ms: the clocks' conversion and rounding
      rounds.forEach((r, i) => {
        expect(r.start).toBeGreaterThanOrEqual(decode.start - eps);
        expect(r.start + r.dur).toBeLessThanOrEqual(decode.start + decode.dur + eps);
        // clamped into decode at most: never longer than the engine's step
        expect(r.dur).toBeLessThanOrEqual(Number(r.attrs!.engineMs) + eps);
        if (i > 0) expect(r.start).toBeGreaterThanOrEqual(rounds[i - 1]!.start + rounds[i - 1]!.dur - eps);
      });
      // a round that ran before decode began (ahead, while the prefill's tokens reached the
      // server) starts with decode, clamped; every later one is as long as its engine time
      const later = rounds.filter((r) => r.start > decode.start + eps);
      expect(later.length).toBeGreaterThan(0);
      for (const r of later) expect(r.dur).toBeCloseTo(Number(r.attrs!.engineMs), 1);
    });
  }
});
