/**
 * Request traces through the in-process server (fake engine): every request's span tree nests
 * and adds up, whatever its outcome (shown, from the typing cache, superseded, cancelled); a
 * client's trace id and keystroke time join the trace, and a malformed clientTrace is ignored,
 * not an error; slipstream/traces filters by document and time; spans can be turned off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RequestTrace } from '../../server/src/protocol.js';
import { nowMs } from '../../server/src/trace/clock.js';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { CancellationTokenSource, createPair, type LspPair } from '../helpers/lsp-pair.js';
import { checkTree } from '../helpers/span-checks.js';

let pair: LspPair;
afterEach(() => pair?.dispose());

async function setUp(options: Record<string, unknown> = {}): Promise<FakeEngineHost> {
  const engine = new FakeEngineHost();
  engine.respond = () => 'total += x;';
  pair = createPair({ engineHost: engine });
  await pair.initialize({}, { completion: { debounceMs: 0 }, ...options });
  return engine;
}

const traces = async (params: Record<string, unknown> = {}): Promise<RequestTrace[]> =>
  ((await pair.client.sendRequest('slipstream/traces', params)) as { traces: RequestTrace[] }).traces;

describe('request traces', () => {
  it('nest and add up for shown, cached, superseded and cancelled requests', async () => {
    const engine = await setUp();
    const uri = 'file:///w/a.ts';
    await pair.open(uri, 'let total = 0;\n');
    await pair.inline(uri, { line: 1, character: 0 });
    // typing the first character of the suggestion: the typing-through cache answers
    await pair.change(uri, 2, [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: 't' }]);
    await pair.inline(uri, { line: 1, character: 1 }, { textDocument: { version: 2 } });
    // a request held in the engine, superseded by the next one, which is cancelled while held
    const release = engine.hold();
    await pair.change(uri, 3, [{ range: { start: { line: 1, character: 1 }, end: { line: 1, character: 1 } }, text: 'x' }]);
    const started = engine.nextStart();
    const first = pair.inline(uri, { line: 1, character: 2 }, { textDocument: { version: 3 } });
    await started;
    const cancel = new CancellationTokenSource();
    const next = engine.nextStart();
    const second = pair.inline(uri, { line: 1, character: 2 }, { textDocument: { version: 3 }, context: { triggerKind: 1 } }, cancel);
    await next;
    cancel.cancel();
    await first;
    await expect(second).rejects.toMatchObject({ code: -32800 });
    release();
    const all = await traces();
    expect(all.map((t) => t.outcome)).toEqual(['shown', 'cached', 'superseded', 'cancelled']);
    for (const t of all) checkTree(t);
    const [shown, cached, superseded] = all;
    expect(shown!.spans!.children!.map((c) => c.name)).toEqual(['receive', 'cache', 'debounce', 'load', 'context', 'tokenize', 'queue', 'prefill', 'decode', 'postprocess', 'respond']);
    expect(shown!.spans!.children!.find((c) => c.name === 'decode')!.children!.map((r) => r.attrs)).toEqual(
      Array.from({ length: 'total += x;'.length - 1 }, (_, i) => ({ index: i, mode: 'ar', tokens: 1, treeSize: 1, accepted: 0 })),
    );
    expect(shown!.spans!.children!.find((c) => c.name === 'prefill')!.attrs).toMatchObject({ computedTokens: expect.any(Number) });
    expect(cached!.spans!.children!.map((c) => [c.name, c.attrs?.hit])).toEqual([['receive', undefined], ['cache', 'typing'], ['respond', undefined]]);
    // held after its first token: the superseded request's time ends in decode
    expect(superseded!.spans!.children!.at(-1)!.name).toBe('decode');
  });

  it("join the client's trace id and keystroke time; a malformed clientTrace is ignored, not fatal", async () => {
    await setUp();
    const uri = 'file:///w/b.ts';
    await pair.open(uri, 'x');
    const keystrokeAt = nowMs() - 3;
    const good = await pair.inline(uri, { line: 0, character: 1 }, { clientTrace: { traceId: 'editor-42', keystrokeAt } });
    expect(good?.items).toHaveLength(1);
    for (const bad of ['nope', 17, [1], { traceId: 'has space', keystrokeAt: 'noon' }, { keystrokeAt: keystrokeAt - 3_600_000 }, { traceId: 'x'.repeat(500) }]) {
      const r = await pair.inline(uri, { line: 0, character: 1 }, { clientTrace: bad });
      expect(r?.items).toHaveLength(1);
    }
    const r = await pair.client.sendRequest('slipstream/complete', { text: 'y', offset: 1, clientTrace: { traceId: 42 } });
    expect(r).toMatchObject({ items: [{ insertText: 'total += x;' }] });
    const all = await traces();
    expect(all[0]!.client).toMatchObject({ traceId: 'editor-42', keystrokeAt });
    expect(all[0]!.client!.editorMs).toBeGreaterThanOrEqual(3);
    expect(all.slice(1).map((t) => t.client)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('slipstream/traces filters by document and time, and rejects a malformed filter', async () => {
    await setUp();
    await pair.client.sendRequest('slipstream/complete', { text: 'a', offset: 1, uri: 'untitled:1' });
    const middle = nowMs();
    await pair.client.sendRequest('slipstream/complete', { text: 'b', offset: 1, uri: 'untitled:2' });
    await pair.client.sendRequest('slipstream/complete', { text: 'c', offset: 1, uri: 'untitled:1' });
    expect((await traces({ uri: 'untitled:1' })).map((t) => t.id)).toEqual([1, 3]);
    expect((await traces({ since: middle })).map((t) => t.id)).toEqual([2, 3]);
    expect((await traces({ uri: 'untitled:1', limit: 1 })).map((t) => t.id)).toEqual([3]);
    await expect(pair.client.sendRequest('slipstream/traces', { uri: 7 })).rejects.toMatchObject({ code: -32602 });
    await expect(pair.client.sendRequest('slipstream/traces', { since: 'yesterday' })).rejects.toMatchObject({ code: -32602 });
  });

  it('keep only totals with slipstream.trace.spans off', async () => {
    await setUp({ trace: { spans: false } });
    await pair.client.sendRequest('slipstream/complete', { text: 'a', offset: 1 });
    const [t] = await traces();
    expect(t).toMatchObject({ outcome: 'shown', stages: {}, promptTokens: expect.any(Number) });
    expect(t!.spans).toBeUndefined();
    expect(t!.totalMs).toBeGreaterThan(0);
  });
});
