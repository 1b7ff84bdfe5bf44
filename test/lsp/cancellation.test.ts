/**
 * The pipeline under concurrency: $/cancelRequest aborts the engine's generation and answers
 * RequestCancelled; a newer request for the same document supersedes the older one; a result
 * computed for a version the document has moved past is dropped. Synchronised on engine events.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { CancellationTokenSource, createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;
const uri = 'file:///k.ts';

beforeEach(async () => {
  engine = new FakeEngineHost();
  engine.respond = () => 'value';
  pair = createPair({ engineHost: engine });
  await pair.initialize({}, { completion: { debounceMs: 0 } });
  await pair.open(uri, 'let a = ');
});
afterEach(() => pair.dispose());

describe('cancellation and supersession', () => {
  it('answers $/cancelRequest with RequestCancelled and aborts the engine signal', async () => {
    const release = engine.hold();
    const started = engine.nextStart();
    const cts = new CancellationTokenSource();
    const pending = pair.inline(uri, { line: 0, character: 8 }, {}, cts);
    const call = await started;
    cts.cancel();
    await expect(pending).rejects.toMatchObject({ code: -32800 });
    expect(call.signal.aborted).toBe(true);
    release();
  });

  it('aborts the older request when a newer one arrives for the same document', async () => {
    const release = engine.hold();
    const started = engine.nextStart();
    const first = pair.inline(uri, { line: 0, character: 8 });
    const call = await started;
    await pair.change(uri, 2, [{ range: { start: { line: 0, character: 8 }, end: { line: 0, character: 8 } }, text: '1' }]);
    const second = pair.inline(uri, { line: 0, character: 9 });
    expect(await first).toEqual({ items: [] });
    expect(call.signal.aborted).toBe(true);
    release();
    expect((await second)?.items[0]?.insertText).toBe('value');
    const status = (await pair.client.sendRequest('slipstream/status')) as { requests: { superseded: number } };
    expect(status.requests.superseded).toBe(1);
  });

  it('keeps requests for different documents independent', async () => {
    await pair.open('file:///other.ts', 'x = ');
    const release = engine.hold();
    const started = engine.nextStart();
    const first = pair.inline(uri, { line: 0, character: 8 });
    const call = await started;
    const second = pair.inline('file:///other.ts', { line: 0, character: 4 });
    release();
    expect((await first)?.items).toHaveLength(1);
    expect((await second)?.items).toHaveLength(1);
    expect(call.signal.aborted).toBe(false);
  });

  it('drops a result when the document changed while it was computed', async () => {
    const release = engine.hold();
    const started = engine.nextStart();
    const pending = pair.inline(uri, { line: 0, character: 8 }, { textDocument: { version: 1 } });
    await started;
    await pair.change(uri, 2, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '// ' }]);
    // The change is applied before the release: the status round trip orders it.
    await pair.client.sendRequest('slipstream/status');
    release();
    expect(await pending).toEqual({ items: [] });
    const traces = (await pair.client.sendRequest('slipstream/traces', {})) as { traces: { outcome: string }[] };
    expect(traces.traces.at(-1)?.outcome).toBe('stale');
  });
});
