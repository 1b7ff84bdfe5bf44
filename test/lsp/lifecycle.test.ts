/**
 * The LSP lifecycle enforced before any handler runs (message-gate.ts): requests before
 * initialize answer ServerNotInitialized (-32002) and notifications are dropped; initialize is
 * accepted once; after shutdown every request answers InvalidRequest (-32600) and exit still
 * ends the connection with code 0.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;
const uri = 'file:///l.ts';

beforeEach(() => {
  engine = new FakeEngineHost();
  pair = createPair({ engineHost: engine });
});
afterEach(() => pair.dispose());

describe('lifecycle', () => {
  it('answers requests before initialize with ServerNotInitialized', async () => {
    await expect(pair.client.sendRequest('slipstream/status')).rejects.toMatchObject({ code: -32002, message: expect.stringContaining('before initialize') });
    await expect(pair.client.sendRequest('slipstream/complete', { text: 'a', offset: 1 })).rejects.toMatchObject({ code: -32002 });
    expect(engine.calls).toHaveLength(0);
  });

  it('drops notifications before initialize, with a log line', async () => {
    await pair.open(uri, 'let a = ');
    await pair.initialize({}, { completion: { debounceMs: 0 } });
    await expect(pair.inline(uri, { line: 0, character: 8 })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('unknown document') });
    expect(pair.logs.map((l) => l.message)).toContainEqual(expect.stringContaining('ignored textDocument/didOpen notification: server not initialized'));
  });

  it('accepts initialize once', async () => {
    await pair.initialize();
    await expect(pair.client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} })).rejects.toMatchObject({ code: -32600 });
  });

  it('answers requests after shutdown with InvalidRequest and still exits with 0', async () => {
    await pair.initialize({}, { completion: { debounceMs: 0 } });
    await pair.open(uri, 'let a = ');
    expect(await pair.client.sendRequest('shutdown')).toBeNull();
    await expect(pair.client.sendRequest('slipstream/status')).rejects.toMatchObject({ code: -32600, message: expect.stringContaining('after shutdown') });
    await expect(pair.inline(uri, { line: 0, character: 8 })).rejects.toMatchObject({ code: -32600 });
    await expect(pair.client.sendRequest('shutdown')).rejects.toMatchObject({ code: -32600 });
    expect(engine.calls).toHaveLength(0);
    await pair.client.sendNotification('exit');
    expect(await pair.exitCode).toBe(0);
  });
});
