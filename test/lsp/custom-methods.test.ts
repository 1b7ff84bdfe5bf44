/**
 * The slipstream/* methods: status figures, one-shot completion for clients without document
 * state, per-request stage traces; unknown methods get MethodNotFound.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEYS_KEPT } from '../../server/src/completion/keys-kept.js';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;

beforeEach(async () => {
  engine = new FakeEngineHost();
  engine.respond = () => 'sum(a, b);';
  pair = createPair({ engineHost: engine });
  await pair.initialize({}, { completion: { debounceMs: 0 } });
});
afterEach(() => pair.dispose());

describe('slipstream/* methods', () => {
  it('slipstream/complete completes {text, offset} without an open document', async () => {
    const r = await pair.client.sendRequest('slipstream/complete', { text: 'return \n}', offset: 7, languageId: 'typescript' });
    expect(r).toMatchObject({ items: [{ insertText: 'sum(a, b);', start: 7, end: 7 }], traceId: expect.any(Number) });
    expect(engine.calls[0]!.prompt).toBe('<|fim_prefix|>return <|fim_suffix|>\n}<|fim_middle|>');
  });

  it.each([
    [{ text: 'abc', offset: 4 }, 'params.offset: offset is past the end of text'],
    [{ text: 42, offset: 0 }, 'params.text: expected a string'],
    [{ text: 'a', offset: 0, maxTokens: 0 }, 'params.maxTokens: expected an integer 1..1024'],
  ])('slipstream/complete rejects %j with InvalidParams', async (params, message) => {
    await expect(pair.client.sendRequest('slipstream/complete', params)).rejects.toMatchObject({ code: -32602, message: expect.stringContaining(message) });
  });

  it('slipstream/complete naming a new document every time keeps the state of the last KEYS_KEPT only', async () => {
    for (let i = 0; i < KEYS_KEPT + 20; i++) await pair.client.sendRequest('slipstream/complete', { text: 'x', offset: 1, uri: `untitled:${i}` });
    expect(pair.server.completion.provider.documentsTracked).toBe(KEYS_KEPT);
  });

  it('slipstream/status reports the engine, latency and request figures', async () => {
    await pair.client.sendRequest('slipstream/complete', { text: 'x', offset: 1 });
    const s = (await pair.client.sendRequest('slipstream/status')) as Record<string, any>;
    expect(s.engine).toMatchObject({ state: 'ready', backend: 'fake', backends: [{ name: 'fake', available: true }] });
    expect(s.latency.count).toBe(1);
    expect(s.latency.p50Ms).toBeGreaterThanOrEqual(0);
    expect(s.requests).toMatchObject({ total: 1, shown: 1 });
    // the request looked in the suggestion cache (a miss) and its suggestion was remembered
    expect(s.cache).toEqual({
      hits: 0,
      misses: 1,
      enabled: true,
      kv: null,
      suggestions: { entries: 1, hits: 0, misses: 1 },
      drafts: { offered: 0, accepted: 0 },
      attached: 0,
      prefetched: { computed: 0, used: 0, abandoned: 0 },
    });
    expect(typeof s.version).toBe('string');
  });

  it('slipstream/traces returns stage timings for each request, newest last, bounded by limit', async () => {
    await pair.client.sendRequest('slipstream/complete', { text: 'a', offset: 1 });
    await pair.client.sendRequest('slipstream/complete', { text: 'b', offset: 1 });
    const all = (await pair.client.sendRequest('slipstream/traces', {})) as { capacity: number; traces: Record<string, any>[] };
    expect(all.capacity).toBe(200);
    expect(all.traces).toHaveLength(2);
    const t = all.traces[1]!;
    expect(t).toMatchObject({ trigger: 'complete', outcome: 'shown', promptTokens: expect.any(Number), generatedTokens: 10 });
    for (const stage of ['receive', 'context', 'tokenize', 'prefill', 'decode', 'postprocess', 'respond']) expect(t.stages[stage]).toBeGreaterThanOrEqual(0);
    const last = (await pair.client.sendRequest('slipstream/traces', { limit: 1 })) as { traces: { id: number }[] };
    expect(last.traces.map((x) => x.id)).toEqual([t.id]);
    const after = (await pair.client.sendRequest('slipstream/traces', { after: t.id })) as { traces: unknown[] };
    expect(after.traces).toEqual([]);
  });

  it('answers an unknown method with MethodNotFound and keeps serving', async () => {
    await expect(pair.client.sendRequest('slipstream/nope', {})).rejects.toMatchObject({ code: -32601 });
    await expect(pair.client.sendRequest('slipstream/status')).resolves.toBeTypeOf('object');
  });

  it('rejects an accept command without an item id', async () => {
    await expect(pair.client.sendRequest('workspace/executeCommand', { command: 'slipstream.didAcceptCompletionItem', arguments: [] })).rejects.toMatchObject({ code: -32602 });
  });
});
