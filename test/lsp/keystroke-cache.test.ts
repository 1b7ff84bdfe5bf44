/**
 * Cross-keystroke reuse through the in-process server with the FAKE engine (issue 14): a request
 * that types what the running generation produces attaches to it (one engine call, its answer from
 * that generation), also after the client cancelled the first request; one that types something
 * else supersedes it; cache.enabled off turns attachment and the suggestion cache off; the cache
 * figures in slipstream/status and the hit kind in slipstream/traces. Synchronised on engine events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StatusResult, TracesResult } from '../../server/src/protocol.js';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { CancellationTokenSource, createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;
const uri = 'file:///work/a.ts';

async function start(cache: boolean): Promise<void> {
  engine = new FakeEngineHost();
  engine.respond = () => 'value;';
  pair = createPair({ engineHost: engine });
  await pair.initialize({}, { completion: { debounceMs: 0 }, cache: { enabled: cache } });
  await pair.open(uri, 'let a = \n', 'typescript', 1);
}
afterEach(() => pair.dispose());

/** Types `chars` at line 0, `character` (one version step). */
const type = (version: number, character: number, chars: string): Promise<void> =>
  pair.change(uri, version, [{ range: { start: { line: 0, character }, end: { line: 0, character } }, text: chars }]);

const status = (): Promise<StatusResult> => pair.client.sendRequest('slipstream/status', {}) as Promise<StatusResult>;
const traces = async (): Promise<TracesResult['traces']> => ((await pair.client.sendRequest('slipstream/traces', {})) as TracesResult).traces;

describe('in-flight attachment', () => {
  it('answers a request that typed what the running generation produced from that generation, with one engine call', async () => {
    await start(true);
    const release = engine.hold();
    const started = engine.nextStart();
    const first = pair.inline(uri, { line: 0, character: 8 });
    const call = await started;
    await type(2, 8, 'v'); // the generation's first character
    const second = pair.inline(uri, { line: 0, character: 9 });
    // the server handles messages in order: once a later one is answered, the second has attached
    await status();
    expect(call.signal.aborted).toBe(false);
    release();
    expect(await first).toEqual({ items: [] }); // computed for version 1: stale
    expect((await second)?.items[0]?.insertText).toBe('alue;');
    expect(engine.calls).toHaveLength(1);
    const s = await status();
    expect(s.cache.attached).toBe(1);
    expect((await traces()).map((t) => [t.outcome, t.cacheHit])).toEqual([
      ['stale', 'none'],
      ['cached', 'attached'],
    ]);
  });

  it('keeps the generation for a request that extends it after the client cancelled the first', async () => {
    await start(true);
    const release = engine.hold();
    const started = engine.nextStart();
    const cancel = new CancellationTokenSource();
    const first = pair.inline(uri, { line: 0, character: 8 }, {}, cancel).catch(() => null);
    const call = await started;
    cancel.cancel(); // the editor cancels its request when the user types
    await type(2, 8, 'va');
    const second = pair.inline(uri, { line: 0, character: 10 });
    await status();
    release();
    await first;
    expect((await second)?.items[0]?.insertText).toBe('lue;');
    expect(call.signal.aborted).toBe(false);
    expect(engine.calls).toHaveLength(1);
  });

  it('supersedes the running generation when the typed characters disagree with it', async () => {
    await start(true);
    const release = engine.hold();
    const started = engine.nextStart();
    const first = pair.inline(uri, { line: 0, character: 8 });
    const call = await started;
    await type(2, 8, 'x');
    const second = pair.inline(uri, { line: 0, character: 9 });
    await status();
    expect(call.signal.aborted).toBe(true);
    release();
    expect(await first).toEqual({ items: [] });
    expect((await second)?.items[0]?.insertText).toBe('value;');
    expect(engine.calls).toHaveLength(2);
    expect((await status()).cache.attached).toBe(0);
  });
});

describe('cache.enabled', () => {
  it('off: no attachment, no suggestion cache, every request runs the engine with reuse off', async () => {
    await start(false);
    const release = engine.hold();
    const started = engine.nextStart();
    const first = pair.inline(uri, { line: 0, character: 8 });
    const call = await started;
    await type(2, 8, 'v');
    const second = pair.inline(uri, { line: 0, character: 9 });
    await status();
    expect(call.signal.aborted).toBe(true);
    release();
    await first;
    expect((await second)?.items[0]?.insertText).toBe('value;');
    // typing through the shown suggestion asks the engine again
    await type(3, 9, 'v');
    expect((await pair.inline(uri, { line: 0, character: 10 }))?.items[0]?.insertText).toBe('value;');
    expect(engine.calls).toHaveLength(3);
    expect(engine.requests.every((r) => r.reuse === false)).toBe(true);
    const s = await status();
    expect(s.cache).toMatchObject({ enabled: false, attached: 0, suggestions: { entries: 0, hits: 0 } });
    expect((await traces()).map((t) => t.cacheHit)).toEqual(['off', 'off', 'off']);
  });

  it('on: typing through answers from the suggestion cache; a divergence offers the re-aligned rest as a draft', async () => {
    await start(true);
    engine.respond = () => 'foo(bar, baz);';
    expect((await pair.inline(uri, { line: 0, character: 8 }))?.items[0]?.insertText).toBe('foo(bar, baz);');
    await type(2, 8, 'foo(b');
    expect((await pair.inline(uri, { line: 0, character: 13 }))?.items[0]?.insertText).toBe('ar, baz);');
    expect(engine.calls).toHaveLength(1);
    await type(3, 13, 'x,'); // "foo(bx," : the user's own argument
    await pair.inline(uri, { line: 0, character: 15 });
    expect(engine.calls).toHaveLength(2);
    expect(engine.requests[1]!.reuse).toBe(true);
    const offered = (engine.requests[1]!.extraDrafts ?? []).map((d) => engine.tokenizer.decode(d));
    expect(offered[0]).toBe(' baz);');
    const s = await status();
    expect(s.cache).toMatchObject({ enabled: true, suggestions: { hits: 1 }, attached: 0 });
    expect(s.cache.suggestions.entries).toBeGreaterThanOrEqual(2);
    expect((await traces()).map((t) => t.cacheHit)).toEqual(['none', 'typing', 'none']);
  });
});
