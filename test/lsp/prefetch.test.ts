/**
 * Prefetch through the in-process server with the FAKE engine (issue 14): after a shown suggestion the
 * server computes, as background work on an idle engine, the suggestion that follows its acceptance;
 * the request after the accept is answered from the suggestion cache ('prefetched') with no engine
 * call, or attaches to the prefetch still running; a request for another document ends it at once;
 * cache.prefetch off does none. The prefetch is held on engine events, never on sleeps.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StatusResult, TracesResult } from '../../server/src/protocol.js';
import { PREFETCH_AFTER_MS } from '../../server/src/completion/prefetch.js';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;
const uri = 'file:///work/a.ts';
const other = 'file:///work/b.ts';
/** Released when a test held the prefetch's generation (respond below). */
let releasePrefetch: (() => void) | null = null;

async function start(opts: { prefetch?: boolean; holdPrefetch?: boolean } = {}): Promise<void> {
  engine = new FakeEngineHost();
  engine.prefetches = true;
  releasePrefetch = null;
  // the first suggestion, then (its acceptance in the prompt) the one that follows it
  engine.respond = (prompt) => {
    if (!prompt.includes('value;')) return 'value;';
    if (opts.holdPrefetch && !releasePrefetch) releasePrefetch = engine.hold();
    return ' // set';
  };
  pair = createPair({ engineHost: engine });
  await pair.initialize({}, { completion: { debounceMs: 0 }, cache: { enabled: true, prefetch: opts.prefetch ?? true } });
  await pair.open(uri, 'let a = \n', 'typescript', 1);
}
afterEach(() => {
  releasePrefetch?.();
  pair.dispose();
});

const accept = (version: number): Promise<void> =>
  pair.change(uri, version, [{ range: { start: { line: 0, character: 8 }, end: { line: 0, character: 8 } }, text: 'value;' }]);
const status = (): Promise<StatusResult> => pair.client.sendRequest('slipstream/status', {}) as Promise<StatusResult>;
const traces = async (): Promise<TracesResult['traces']> => ((await pair.client.sendRequest('slipstream/traces', {})) as TracesResult).traces;

describe('prefetch', () => {
  it('computes what follows the accepted suggestion while idle, and answers the next request from it', async () => {
    await start();
    expect((await pair.inline(uri, { line: 0, character: 8 }))?.items[0]?.insertText).toBe('value;');
    await vi.waitFor(async () => expect((await status()).cache.prefetched.computed).toBe(1));
    expect(engine.requests[1]!.background).toBe(true);
    expect(engine.calls[1]!.prompt).toContain('let a = value;');
    await accept(2);
    expect((await pair.inline(uri, { line: 0, character: 14 }))?.items[0]?.insertText).toBe(' // set');
    // the answer came from the cache; the prefetch of what follows it finds nothing new to ask
    const s = await status();
    expect(s.cache.prefetched).toMatchObject({ computed: 1, used: 1, abandoned: 0 });
    const t = await traces();
    expect(t.map((x) => [x.trigger, x.outcome, x.cacheHit])).toEqual([
      ['automatic', 'shown', 'none'],
      ['prefetch', 'prefetched', 'none'],
      ['automatic', 'cached', 'prefetched'],
    ]);
    // prefetches are not client requests: the request figures count the two requests only
    expect(s.requests).toMatchObject({ total: 2, shown: 1, cached: 1 });
  });

  it('lets the request after the accept attach to a prefetch still running', async () => {
    await start({ holdPrefetch: true });
    await pair.inline(uri, { line: 0, character: 8 });
    await vi.waitFor(() => expect(releasePrefetch).not.toBeNull());
    await accept(2);
    const next = pair.inline(uri, { line: 0, character: 14 });
    await status(); // handled in order: the request has attached by now
    expect(engine.calls[1]!.signal.aborted).toBe(false);
    releasePrefetch!();
    expect((await next)?.items[0]?.insertText).toBe(' // set');
    expect(engine.calls).toHaveLength(2);
    expect((await traces()).at(-1)).toMatchObject({ outcome: 'cached', cacheHit: 'attached' });
    expect((await status()).cache).toMatchObject({ attached: 1, prefetched: { computed: 1, used: 1 } });
  });

  it('ends the prefetch the moment a request for another document reaches the engine', async () => {
    await start({ holdPrefetch: true });
    await pair.open(other, 'let b = \n', 'typescript', 1);
    await pair.inline(uri, { line: 0, character: 8 });
    await vi.waitFor(() => expect(releasePrefetch).not.toBeNull());
    const prefetch = engine.calls[1]!;
    const theirs = pair.inline(other, { line: 0, character: 8 });
    await vi.waitFor(() => expect(prefetch.signal.aborted).toBe(true));
    releasePrefetch!(); // the other request's generation passes the fake's hold too
    expect((await theirs)?.items[0]?.insertText).toBe('value;');
    await vi.waitFor(async () => expect((await status()).cache.prefetched.abandoned).toBe(1));
    // the first document's prefetch ended unfinished and left nothing in the cache
    const t = await traces();
    expect(t.find((x) => x.trigger === 'prefetch' && x.uri === uri)?.outcome).toBe('superseded');
    await accept(2);
    await pair.inline(uri, { line: 0, character: 14 });
    expect((await traces()).filter((x) => x.trigger !== 'prefetch').at(-1)).toMatchObject({ cacheHit: 'none', outcome: 'shown' });
  });

  it('waits for a pause: a request within it cancels the prefetch', async () => {
    await start();
    await pair.inline(uri, { line: 0, character: 8 });
    await pair.change(uri, 2, [{ range: { start: { line: 0, character: 8 }, end: { line: 0, character: 8 } }, text: 'x' }]);
    await pair.inline(uri, { line: 0, character: 9 }); // the next keystroke, at once
    await vi.waitFor(() => expect(engine.requests).toHaveLength(3));
    // one prefetch: after the second suggestion (the first one's was cancelled by the keystroke)
    expect(engine.requests.map((r) => r.background ?? false)).toEqual([false, false, true]);
    expect(engine.calls[2]!.prompt).toContain('let a = xvalue;');
  });

  it('does nothing with cache.prefetch off', async () => {
    await start({ prefetch: false });
    expect((await pair.inline(uri, { line: 0, character: 8 }))?.items[0]?.insertText).toBe('value;');
    // nothing can be waited for here: give a prefetch twice its pause to start (the first test's starts within it)
    await new Promise((r) => setTimeout(r, 2 * PREFETCH_AFTER_MS));
    await accept(2);
    expect((await pair.inline(uri, { line: 0, character: 14 }))?.items[0]?.insertText).toBe(' // set');
    expect(engine.requests.map((r) => r.background ?? false)).toEqual([false, false]);
    expect((await status()).cache.prefetched).toEqual({ computed: 0, used: 0, abandoned: 0 });
  });
});
