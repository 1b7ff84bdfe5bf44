/**
 * The shared daemon's connections in-process (real loopback sockets, a FAKE engine host shared by
 * all): two editors with the same document get two engine sessions; a didClose in one closes only
 * its own; a connection that hangs up has all of its sessions closed on the shared host. After a
 * shown suggestion a connection prefetches on the idle shared engine (cache.prefetch).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { startInProcessDaemon, type InProcessDaemon } from '../helpers/in-process-daemon.js';

let engine: FakeEngineHost;
let daemon: InProcessDaemon;

beforeEach(async () => {
  engine = new FakeEngineHost();
  engine.respond = () => 'value';
  daemon = await startInProcessDaemon(engine);
});
afterEach(() => daemon.close());

const URI = 'file:///same.ts';
const TEXT = 'let a = ';

async function editor() {
  const { client, socket } = await daemon.connect();
  await client.initialize({ completion: { debounceMs: 0 } });
  client.open(URI, TEXT, 'typescript');
  return { client, socket };
}

const inline = (client: Awaited<ReturnType<typeof editor>>['client'], uri = URI) =>
  client.request('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: 0, character: TEXT.length }, context: { triggerKind: 2 } });

/** Resolves when the shared host is asked to close `key`. */
function closing(key: string): Promise<void> {
  return new Promise((resolve) => {
    const close = engine.closeSession.bind(engine);
    engine.closeSession = (k) => {
      close(k);
      if (k === key) resolve();
    };
  });
}

describe('shared daemon: engine sessions per connection', () => {
  it('keys the same document of two connections apart, and a didClose in one leaves the other its session', async () => {
    const a = await editor();
    const b = await editor();
    expect((await inline(a.client)).items[0].insertText).toBe('value');
    expect((await inline(b.client)).items[0].insertText).toBe('value');
    const [keyA, keyB] = engine.calls.map((c) => c.key);
    expect(keyA).not.toBe(keyB);
    expect(keyA!.endsWith(URI) && keyB!.endsWith(URI)).toBe(true);

    const closedA = closing(keyA!);
    a.client.notify('textDocument/didClose', { textDocument: { uri: URI } });
    await closedA;
    expect(engine.closed).toEqual([keyA]);
    // b's document and session are untouched: it completes on its own key
    expect((await inline(b.client)).items[0].insertText).toBe('value');
    expect(engine.calls.at(-1)!.key).toBe(keyB);
    expect(engine.closed).toEqual([keyA]);
  });

  it('prefetches what follows a shown suggestion on the idle shared engine, under the connection\'s key', async () => {
    engine.prefetches = true;
    const a = await editor();
    const prefetch = engine.nextStart().then(() => engine.nextStart()); // the request's, then the prefetch's
    expect((await inline(a.client)).items[0].insertText).toBe('value');
    const call = await prefetch;
    const req = engine.requests.at(-1)!;
    expect(req.background).toBe(true);
    expect(call.prompt).toContain(TEXT + 'value');
    expect(call.key).toBe(engine.calls[0]!.key);
  });

  it("closes all of a connection's sessions when it hangs up, and none of another's", async () => {
    const a = await editor();
    const b = await editor();
    a.client.open('file:///other.ts', TEXT, 'typescript');
    await inline(a.client);
    await inline(a.client, 'file:///other.ts');
    await inline(b.client);
    const [keyA, keyOther, keyB] = engine.calls.map((c) => c.key);

    const closed = Promise.all([closing(keyA!), closing(keyOther!)]);
    a.socket.end();
    await closed;
    expect(engine.closed.sort()).toEqual([keyA, keyOther].sort());
    expect(engine.closed).not.toContain(keyB);
    expect((await inline(b.client)).items[0].insertText).toBe('value');
  });
});
