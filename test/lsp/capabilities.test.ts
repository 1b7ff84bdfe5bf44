/**
 * What the server advertises in initialize: incremental sync, inline completions, the accept
 * command, the negotiated position encoding and the custom methods; a completion menu only where
 * the client shows no inline completions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
afterEach(() => pair?.dispose());

describe('initialize', () => {
  it('advertises incremental sync, inline completions and the accept command', async () => {
    pair = createPair({ engineHost: new FakeEngineHost() });
    const { capabilities } = await pair.initialize();
    expect(capabilities).toMatchObject({
      textDocumentSync: { openClose: true, change: 2 },
      inlineCompletionProvider: true,
      executeCommandProvider: { commands: ['slipstream.didAcceptCompletionItem'] },
      positionEncoding: 'utf-16',
      experimental: { slipstream: { methods: ['slipstream/status', 'slipstream/complete', 'slipstream/traces'] } },
    });
  });

  it('offers a completion menu only to clients that do not say they show inline completions', async () => {
    pair = createPair({ engineHost: new FakeEngineHost() });
    const menu = (await pair.initialize({ textDocument: { completion: {} } })).capabilities;
    expect(menu.completionProvider).toEqual({ triggerCharacters: ['.', '(', '[', '{', ',', ':', '=', ' '] });
    expect(menu.inlineCompletionProvider).toBe(true);
    pair.dispose();
    pair = createPair({ engineHost: new FakeEngineHost() });
    const inline = (await pair.initialize({ textDocument: { completion: {}, inlineCompletion: { dynamicRegistration: false } } })).capabilities;
    expect(inline.completionProvider).toBeUndefined();
  });

  it.each([
    [['utf-8', 'utf-16'], 'utf-8'],
    [['utf-32'], 'utf-32'],
    [['utf-16'], 'utf-16'],
    [['latin-1'], 'utf-16'],
  ])('negotiates the position encoding from the client offer %j', async (offered, expected) => {
    pair = createPair({ engineHost: new FakeEngineHost() });
    const { capabilities } = await pair.initialize({ general: { positionEncodings: offered } });
    expect(capabilities.positionEncoding).toBe(expected);
  });

  it('answers shutdown with null and exits with code 0 after exit', async () => {
    pair = createPair({ engineHost: new FakeEngineHost() });
    await pair.initialize();
    expect(await pair.client.sendRequest('shutdown')).toBeNull();
    await pair.client.sendNotification('exit');
    expect(await pair.exitCode).toBe(0);
  });
});
