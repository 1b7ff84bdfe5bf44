/**
 * A connection's document limits end to end in-process (a FAKE engine host): a didOpen past a
 * limit is not stored, the client is warned once (window/showMessage, Warning) until it closes a
 * document, the log says why, and completions for that document answer no items while its other
 * documents still complete; a didChange past the size limit drops the document and its completion
 * state; a document never opened still gets -32602. On the shared daemon, one connection past its
 * limits leaves another connection's documents alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { documentBytes } from '../../server/src/document-limits.js';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { startInProcessDaemon, type InProcessDaemon } from '../helpers/in-process-daemon.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

const TEXT = 'let a = ';
const at = { line: 0, character: TEXT.length };
const WARNING = 2;

let pair: LspPair | undefined;
let daemon: InProcessDaemon | undefined;
afterEach(async () => {
  pair?.dispose();
  pair = undefined;
  await daemon?.close();
  daemon = undefined;
});

async function start(limits: { maxDocuments?: number; maxBytes?: number }): Promise<{ pair: LspPair; engine: FakeEngineHost }> {
  const engine = new FakeEngineHost();
  engine.respond = () => 'value';
  pair = createPair({ engineHost: engine, documentLimits: limits });
  await pair.initialize({}, { completion: { debounceMs: 0 } });
  return { pair, engine };
}

const limitLogs = (p: LspPair): string[] => p.logs.filter((l) => l.type === WARNING && /^slipstream: document /.test(l.message)).map((l) => l.message);

describe('document limits of a connection', () => {
  it('refuses a didOpen past the document limit: warned once, no items for it, its other documents complete', async () => {
    const { pair, engine } = await start({ maxDocuments: 2 });
    await pair.open('file:///1.ts', TEXT);
    await pair.open('file:///2.ts', TEXT);
    const warned = pair.nextMessage();
    await pair.open('file:///3.ts', TEXT);
    expect(await warned).toEqual({ type: WARNING, message: 'Slipstream: no completions for file:///3.ts: 2 documents are open, the limit is 2. Close documents you do not need, then reopen it.' });
    expect(await pair.inline('file:///3.ts', at)).toEqual({ items: [] });
    expect(engine.calls).toHaveLength(0);
    expect((await pair.inline('file:///1.ts', at))?.items[0]?.insertText).toBe('value');
    expect((await pair.inline('file:///2.ts', at))?.items[0]?.insertText).toBe('value');

    // a second refusal is logged, not shown again
    await pair.open('file:///4.ts', TEXT);
    await pair.change('file:///3.ts', 2, [{ text: 'typing on' }]);
    expect(await pair.inline('file:///4.ts', at)).toEqual({ items: [] });
    expect(pair.messages).toHaveLength(1);
    expect(limitLogs(pair)).toEqual([
      'slipstream: document file:///3.ts not opened: 2 documents are open, the limit is 2; it gets no completions until it is opened again under the limits',
      'slipstream: document file:///4.ts not opened: 2 documents are open, the limit is 2; it gets no completions until it is opened again under the limits',
    ]);
    // and no "not open" warning per keystroke for the refused document
    expect(pair.logs.some((l) => /didChange for a document that is not open/.test(l.message))).toBe(false);

    // after a close the client is under the limit: reopening works; the next crossing is shown again
    await pair.client.sendNotification('textDocument/didClose', { textDocument: { uri: 'file:///1.ts' } });
    await pair.open('file:///3.ts', TEXT, 'typescript', 3);
    expect((await pair.inline('file:///3.ts', at))?.items[0]?.insertText).toBe('value');
    const again = pair.nextMessage();
    await pair.open('file:///5.ts', TEXT);
    expect((await again).message).toMatch(/^Slipstream: no completions for file:\/\/\/5\.ts: 2 documents are open/);
  });

  it('refuses a didOpen past the size limit', async () => {
    const small = documentBytes('file:///small.ts', TEXT.length, 1);
    const limit = small + 1000;
    const { pair } = await start({ maxBytes: limit });
    await pair.open('file:///small.ts', TEXT);
    const warned = pair.nextMessage();
    await pair.open('file:///big.ts', 'x'.repeat(1000));
    expect((await warned).message).toBe(`Slipstream: no completions for file:///big.ts: the open documents would take ${small + documentBytes('file:///big.ts', 1000, 1)} bytes, the limit is ${limit} bytes. Close documents you do not need, then reopen it.`);
    expect(await pair.inline('file:///big.ts', { line: 0, character: 0 })).toEqual({ items: [] });
    expect((await pair.inline('file:///small.ts', at))?.items[0]?.insertText).toBe('value');
  });

  it('drops a document a didChange makes pass the size limit, with its engine session, and warns', async () => {
    const { pair, engine } = await start({ maxBytes: 2000 });
    await pair.open('file:///other.ts', TEXT);
    await pair.open('file:///grows.ts', TEXT);
    expect((await pair.inline('file:///grows.ts', at))?.items[0]?.insertText).toBe('value');
    const warned = pair.nextMessage();
    await pair.change('file:///grows.ts', 2, [{ range: { start: at, end: at }, text: 'y'.repeat(1000) }]);
    expect((await warned).message).toMatch(/^Slipstream: no completions for file:\/\/\/grows\.ts: the open documents would take \d+ bytes, the limit is 2000 bytes\./);
    expect(limitLogs(pair)).toEqual([expect.stringMatching(/^slipstream: document file:\/\/\/grows\.ts dropped at version 2: the open documents would take/)]);
    expect(engine.closed).toEqual(['file:///grows.ts']);
    expect(await pair.inline('file:///grows.ts', at)).toEqual({ items: [] });
    expect((await pair.inline('file:///other.ts', at))?.items[0]?.insertText).toBe('value');
  });

  it('still answers -32602 for a document that was never opened', async () => {
    const { pair } = await start({ maxDocuments: 1 });
    await expect(pair.inline('file:///never.ts', at)).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('unknown document') });
  });
});

describe('document limits on the shared daemon', () => {
  it("keeps one connection past its limits from touching another connection's documents", async () => {
    const engine = new FakeEngineHost();
    engine.respond = () => 'value';
    daemon = await startInProcessDaemon(engine, { documentLimits: { maxDocuments: 2, maxBytes: 4000 } });
    const connect = async () => {
      const { client } = await daemon!.connect();
      await client.initialize({ completion: { debounceMs: 0 } });
      return client;
    };
    const inline = (client: Awaited<ReturnType<typeof connect>>, uri: string) =>
      client.request('textDocument/inlineCompletion', { textDocument: { uri }, position: at, context: { triggerKind: 2 } });
    const victim = await connect();
    victim.open('file:///v1.ts', TEXT, 'typescript');
    victim.open('file:///shared.ts', TEXT, 'typescript');

    const greedy = await connect();
    greedy.open('file:///shared.ts', TEXT, 'typescript');
    greedy.open('file:///g2.ts', 'x'.repeat(1000));
    greedy.open('file:///g3.ts', TEXT);
    greedy.open('file:///g4.ts', 'x'.repeat(5000));
    const warning = await greedy.waitFor((m) => m.method === 'window/showMessage');
    expect(warning.params).toEqual({ type: WARNING, message: expect.stringMatching(/^Slipstream: no completions for file:\/\/\/g3\.ts: 2 documents are open/) });
    expect(await inline(greedy, 'file:///g3.ts')).toEqual({ items: [] });
    greedy.notify('textDocument/didChange', { textDocument: { uri: 'file:///shared.ts', version: 2 }, contentChanges: [{ text: 'z'.repeat(3000) }] });
    expect(await inline(greedy, 'file:///shared.ts')).toEqual({ items: [] });

    // the victim's documents, the same URI included, are all there and complete
    expect((await inline(victim, 'file:///v1.ts')).items[0].insertText).toBe('value');
    expect((await inline(victim, 'file:///shared.ts')).items[0].insertText).toBe('value');
    expect(victim.received.some((m) => m.method === 'window/showMessage')).toBe(false);
  });
});
