/**
 * Work never outlives its client or piles up: when the client's stream ends, every request it
 * left in flight is cancelled (the engine's signal aborts; TCP clients that sent a request and
 * disconnected used to keep the engine busy and the memory held); one connection has at most
 * MAX_PENDING completions in flight, a new one superseding the oldest; a client that does not read
 * its answers is not read until it does. Synchronised on engine and stream events.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { frame } from '../../bench/lib/rpc-client.js';
import { MAX_PENDING } from '../../server/src/completion/provider.js';
import { startServer } from '../../server/src/server.js';
import { createStreamConnection } from '../../server/src/transport.js';
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

  it('stops reading a client that does not read its answers, and reads again once it does', async () => {
    const input = new PassThrough();
    const output = new PassThrough(); // the client's side of the answers, not read at first
    const connection = createStreamConnection(input, output, { exit: () => {} });
    startServer(connection, { engineHost: new FakeEngineHost() });
    const status = (id: number): Buffer => frame({ jsonrpc: '2.0', id, method: 'slipstream/status' });
    input.write(frame({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { processId: null, capabilities: {} } }));
    let id = 1;
    // bounded by time, not by a count: on a loaded machine the server answers (and so fills its
    // output) more slowly, and pauses later
    for (const deadline = Date.now() + 20_000; Date.now() < deadline && !input.isPaused(); ) {
      input.write(Buffer.concat(Array.from({ length: 50 }, () => status(id++))));
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(input.isPaused()).toBe(true);
    // what the server had read before pausing is still answered (on a loaded machine one read can
    // hold hundreds of requests): wait until its output stops growing, at most 5 s
    const pending = (): number => output.readableLength + output.writableLength;
    let backlog = pending();
    for (const deadline = Date.now() + 5_000; Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 25));
      if (pending() === backlog) break;
      backlog = pending();
    }
    expect(backlog).toBeLessThan(8 * 1024 * 1024);
    // the server reads no more while its answers wait (50 ms: nothing may happen, so nothing to
    // wait on); 500 more answers would be ~750 KB
    input.write(Buffer.concat(Array.from({ length: 500 }, () => status(id++))));
    await new Promise((r) => setTimeout(r, 50));
    expect(output.readableLength + output.writableLength).toBeLessThan(backlog + 256 * 1024);
    // once the client reads, the server reads again and answers every request
    let tail = '';
    const all = new Promise<void>((resolve) =>
      output.on('data', (d: Buffer) => {
        tail = tail.slice(-64) + d.toString('latin1');
        if (tail.includes(`"id":${id - 1},`)) resolve();
      }),
    );
    await all;
    expect(input.isPaused()).toBe(false);
    connection.dispose();
  }, 60_000);
});
