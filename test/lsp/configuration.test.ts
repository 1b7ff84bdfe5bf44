/**
 * Configuration from initializationOptions, pulled with workspace/configuration and pushed with
 * didChangeConfiguration, in that order of precedence; engine settings reach the engine host; a
 * missing model folder is reported with window/showMessage; invalid values are ignored with a log.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;
const uri = 'file:///c.ts';

beforeEach(() => {
  engine = new FakeEngineHost();
  engine.respond = () => 'abcdefghijklmnopqrstuvwxyz';
  pair = createPair({ engineHost: engine });
});
afterEach(() => pair.dispose());

async function completionLength(): Promise<number> {
  const list = await pair.inline(uri, { line: 0, character: 0 });
  return list?.items[0]?.insertText.toString().length ?? 0;
}

describe('configuration', () => {
  it('takes settings from initializationOptions', async () => {
    await pair.initialize({}, { completion: { maxTokens: 5, debounceMs: 0 } });
    await pair.open(uri, '');
    expect(await completionLength()).toBe(5);
  });

  it('accepts dotted names and a slipstream wrapper in initializationOptions', async () => {
    await pair.initialize({}, { slipstream: { 'completion.maxTokens': 4 }, 'slipstream.completion.debounceMs': 0 });
    await pair.open(uri, '');
    expect(await completionLength()).toBe(4);
  });

  it('lets workspace/configuration override initializationOptions', async () => {
    pair.configuration = { completion: { maxTokens: 7 } };
    const pulled = pair.nextConfigurationRequest();
    await pair.initialize({ workspace: { configuration: true } }, { completion: { maxTokens: 5, debounceMs: 0 } });
    await pulled;
    await pair.open(uri, '');
    expect(await completionLength()).toBe(7);
  });

  it('applies settings pushed with didChangeConfiguration', async () => {
    await pair.initialize({}, { completion: { debounceMs: 0 } });
    await pair.client.sendNotification('workspace/didChangeConfiguration', { settings: { slipstream: { completion: { maxTokens: 3 } } } });
    await pair.open(uri, '');
    expect(await completionLength()).toBe(3);
  });

  it('pulls the configuration again when a change notification carries no settings', async () => {
    await pair.initialize({ workspace: { configuration: true } }, { completion: { debounceMs: 0 } });
    pair.configuration = { completion: { maxTokens: 2 } };
    const pulled = pair.nextConfigurationRequest();
    await pair.client.sendNotification('workspace/didChangeConfiguration', { settings: null });
    await pulled;
    await pair.open(uri, '');
    expect(await completionLength()).toBe(2);
  });

  it('passes engine settings to the engine host and reports a missing model folder', async () => {
    const shown = pair.nextMessage();
    await pair.initialize({}, { engine: { model: '/definitely/not/a/model', backend: 'cpu' } });
    expect(engine.configured.at(-1)).toMatchObject({ model: '/definitely/not/a/model', backend: 'cpu' });
    expect(await shown).toMatchObject({ type: 1, message: expect.stringContaining('/definitely/not/a/model') });
  });

  it('ignores an invalid value with a warning that names the setting', async () => {
    await pair.initialize({}, { completion: { maxTokens: -3, debounceMs: 0 } });
    await pair.open(uri, '');
    expect(await completionLength()).toBe(26);
    expect(pair.logs.some((l) => l.message.includes('slipstream.completion.maxTokens'))).toBe(true);
  });

  it('turns completions off with completion.enabled = false', async () => {
    await pair.initialize({}, { completion: { enabled: false } });
    await pair.open(uri, '');
    expect(await pair.inline(uri, { line: 0, character: 0 })).toEqual({ items: [] });
    expect(engine.calls).toHaveLength(0);
  });
});
