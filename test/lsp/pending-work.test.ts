/**
 * Work never outlives its client or piles up: when the client's stream ends, every request it
 * left in flight is cancelled (the engine's signal aborts; TCP clients that sent a request and
 * disconnected used to keep the engine busy and the memory held); and one connection has at most
 * MAX_PENDING completions in flight, a new one superseding the oldest. Synchronised on engine events.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_PENDING } from '../../server/src/completion/provider.js';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;

beforeEach(async () => {
  engine = new FakeEngineHost();
  engine.respond = () => 'value';
  pair = createPair({ engineHost: engine });
  await pair.initialize({}, { completion: { debounceMs: 0 } });
});
afterEach(() => pair.dispose());

const aborted = (signal: AbortSignal): Promise<void> =>
  signal.aborted ? Promise.resolve() : new Promise((r) => signal.addEventListener('abort', () => r(), { once: true }));

describe('pending work', () => {
  it('cancels the requests in flight when the client stream ends', async () => {
    await pair.open('file:///a.ts', 'let a = ');
    const release = engine.hold();
    const started = engine.nextStart();
    void pair.inline('file:///a.ts', { line: 0, character: 8 }).catch(() => {});
    const call = await started;
    expect(call.signal.aborted).toBe(false);
    pair.toServer.end();
    await aborted(call.signal);
    release();
  });

  it(`keeps at most ${MAX_PENDING} completions of one connection in flight, superseding the oldest`, async () => {
    const release = engine.hold();
    const extra = 3;
    const answers: Promise<unknown>[] = [];
    for (let i = 0; i < MAX_PENDING + extra; i++) {
      const uri = `file:///doc${i}.ts`;
      await pair.open(uri, 'let a = ');
      const started = engine.nextStart();
      answers.push(pair.inline(uri, { line: 0, character: 8 }));
      await started;
    }
    // the oldest `extra` requests were superseded: answered with no items, their generations aborted
    for (let i = 0; i < extra; i++) {
      expect(await answers[i]).toEqual({ items: [] });
      expect(engine.calls[i]!.signal.aborted).toBe(true);
    }
    expect(engine.calls.slice(extra).every((c) => !c.signal.aborted)).toBe(true);
    release();
    const rest = (await Promise.all(answers.slice(extra))) as { items: { insertText: string }[] }[];
    expect(rest.map((l) => l.items[0]?.insertText)).toEqual(Array(MAX_PENDING).fill('value'));
    const traces = (await pair.client.sendRequest('slipstream/traces', {})) as { traces: { outcome: string; error?: string }[] };
    expect(traces.traces.filter((t) => t.outcome === 'superseded').map((t) => t.error)).toEqual(
      Array(extra).fill(`superseded: more than ${MAX_PENDING} completion requests were pending on this connection`),
    );
  });
});
