/**
 * A request's span tree (trace/request-trace.ts, trace/engine-steps.ts): stages are contiguous
 * children of the request span and add up to its total; decode rounds lie inside decode and
 * their draft / verify / accept phases inside the round; a request that ends early gives its
 * unfinished time to the stage that was running; with spans off only the total is kept.
 */
import { describe, expect, it } from 'vitest';
import { engineStep, roundSpan } from '../../../server/src/trace/engine-steps.js';
import { Trace } from '../../../server/src/trace/request-trace.js';
import { checkTree } from '../../helpers/span-checks.js';
import { syntheticTrace } from '../../helpers/synthetic-traces.js';

describe('a request trace', () => {
  it('has contiguous stages that add up to the total, rounds inside decode and phases inside rounds', () => {
    const r = syntheticTrace({ id: 1, at: 1_700_000_000_000, debounce: 12, prefill: 7, rounds: [2, 3, 1.5], roundStats: true });
    checkTree(r);
    expect(r.spans!.children!.map((c) => c.name)).toEqual(['receive', 'cache', 'debounce', 'load', 'context', 'tokenize', 'queue', 'prefill', 'decode', 'postprocess', 'respond']);
    expect(r.stages.debounce).toBeCloseTo(12, 3);
    expect(r.stages.tokenize).toBeCloseTo(0.3, 3);
    expect(r.stages.context).toBeCloseTo(0.2, 3);
    const decode = r.spans!.children!.find((c) => c.name === 'decode')!;
    expect(decode.children!.map((c) => c.attrs)).toEqual([
      { index: 0, mode: 'redrafter', tokens: 2, treeSize: 9, accepted: 1, engineMs: 1.8 },
      { index: 1, mode: 'redrafter', tokens: 2, treeSize: 9, accepted: 1, engineMs: 2.7 },
      { index: 2, mode: 'redrafter', tokens: 2, treeSize: 9, accepted: 1, engineMs: 1.35 },
    ]);
    expect(decode.children![1]!.children!.map((p) => [p.name, p.dur])).toEqual([['draft', 0.9], ['verify', 1.5], ['accept', 0.3]]);
    expect(r.spans!.children!.find((c) => c.name === 'prefill')!.attrs).toEqual({ reusedTokens: 100, computedTokens: 20 });
  });

  it('gives the unfinished time of a request that ends early to the stage that was running', () => {
    const t = new Trace({ id: 2, uri: 'u', version: 1, trigger: 'automatic', receivedAt: 1000, spans: true });
    t.stageAt('receive', 1000.2);
    t.stageAt('cache', 1000.3);
    const r = t.finish('superseded', undefined, 1040); // cancelled while debouncing
    expect(r.spans!.children!.map((c) => [c.name, c.dur])).toEqual([['receive', 0.2], ['cache', 0.1], ['debounce', 39.7]]);
    checkTree(r);
    const q = new Trace({ id: 3, uri: 'u', version: 1, trigger: 'invoked', receivedAt: 0, spans: true });
    for (const [s, at] of [['receive', 1], ['cache', 2], ['debounce', 3], ['load', 4], ['context', 5]] as const) q.stageAt(s, at);
    q.queued(9); // gave up waiting for the engine
    expect(q.finish('cancelled', undefined, 9.5).spans!.children!.slice(-2).map((c) => [c.name, c.dur])).toEqual([['queue', 4], ['prefill', 0.5]]);
  });

  it('extends respond to the finish, and keeps only the total with spans off', () => {
    const t = new Trace({ id: 4, uri: 'u', version: null, trigger: 'complete', receivedAt: 0, spans: true });
    t.stageAt('receive', 1);
    t.stageAt('cache', 2, { hit: 'typing' });
    t.stageAt('respond', 2.5);
    const r = t.finish('cached', undefined, 3);
    expect(r.spans!.children!.map((c) => [c.name, c.dur])).toEqual([['receive', 1], ['cache', 1], ['respond', 1]]);
    expect(r.stages).toEqual({ receive: 1, cache: 1, respond: 1 });
    const off = new Trace({ id: 5, uri: 'u', version: null, trigger: 'complete', receivedAt: 0, spans: false });
    off.stageAt('receive', 1);
    expect(off.engine()).toBeUndefined();
    const o = off.finish('shown', undefined, 7.25);
    expect(o.spans).toBeUndefined();
    expect(o.totalMs).toBe(7.25);
  });

  it('puts a remote engine\'s time to first byte under prefill', () => {
    const t = new Trace({ id: 6, uri: 'u', version: 1, trigger: 'automatic', receivedAt: 0, spans: true });
    t.stageAt('receive', 1);
    t.stageAt('prefill', 51);
    t.stageAt('decode', 80);
    t.record.remote = { endpoint: 'http://h/v1/completions', api: 'openai', status: 200, ttfbMs: 41.5, tokens: 3, ended: 'completed' };
    const r = t.finish('shown', undefined, 80);
    const prefill = r.spans!.children!.find((c) => c.name === 'prefill')!;
    expect(prefill.children).toEqual([{ name: 'ttfb', start: 1, dur: 41.5 }]);
    expect(prefill.attrs).toMatchObject({ httpStatus: 200, remoteEnded: 'completed' });
    checkTree(r);
  });
});

describe('engine steps', () => {
  it('a step with only its tokens makes a round with mode and tokens (today\'s Session.generate chunks)', () => {
    const step = engineStep('ar', 10, 12.5, { ids: Int32Array.of(5) });
    expect(step).toEqual({ kind: 'ar', start: 10, end: 12.5, tokens: 1 });
    expect(roundSpan(step, 3)).toEqual({ name: 'round', start: 10, dur: 2.5, attrs: { index: 3, mode: 'ar', tokens: 1 } });
  });

  it('a step with the engine\'s figures gets them, and phases that never leave the round', () => {
    const stats = { kind: 'redrafter', treeSize: 12, accepted: 3, draftMs: 1, verifyMs: 5, acceptMs: 1 };
    const span = roundSpan(engineStep('redrafter', 0, 6, { ids: Int32Array.of(1, 2, 3, 4), step: stats }), 0);
    expect(span.attrs).toEqual({ index: 0, mode: 'redrafter', tokens: 4, treeSize: 12, accepted: 3 });
    // 1 + 5 + 1 ms of phases in a 6 ms round: accept is cut at the round's end
    expect(span.children!.map((c) => [c.name, c.start, c.dur])).toEqual([['draft', 0, 1], ['verify', 1, 5]]);
  });
});
