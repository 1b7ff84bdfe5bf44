/**
 * The in-process server on the real engine host (stories260K from fixtures/models):
 * engine calls from concurrent requests are serialized (never ENGINE_BUSY), supersession reaches
 * the engine, ReDrafter mode with a drafter gives the same greedy completion as plain decoding,
 * and a model folder switched to a bad path is reported, then switched back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';
import { stories260K } from '../helpers/paths.js';
import { writeDrafterFolder } from '../helpers/random-drafter.js';

let pair: LspPair;
let drafterDir: string;

beforeAll(() => {
  drafterDir = mkdtempSync(join(tmpdir(), 'slipstream-drafter-'));
  writeDrafterFolder(drafterDir, { vocabSize: 512, hiddenSize: 64, seed: 3 });
});
afterAll(() => rmSync(drafterDir, { recursive: true, force: true }));
afterEach(async () => {
  await pair?.client.sendRequest('shutdown');
  pair?.dispose();
});

describe('the server on the real engine', () => {
  it('serializes engine calls from concurrent requests for different documents', async () => {
    pair = createPair({ modelDir: stories260K });
    // (minTokenProbability and timeBudgetMs 0: both get the whole suggestion, however sure the model is of it and however long it takes)
    await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 16, minTokenProbability: 0, timeBudgetMs: 0 } });
    await pair.open('file:///a.txt', 'Once upon a time', 'plaintext');
    await pair.open('file:///b.txt', 'The dog was', 'plaintext');
    const [a, b] = await Promise.all([pair.inline('file:///a.txt', { line: 0, character: 16 }), pair.inline('file:///b.txt', { line: 0, character: 11 })]);
    expect(a?.items[0]?.insertText.toString().length).toBeGreaterThan(0);
    expect(b?.items[0]?.insertText.toString().length).toBeGreaterThan(0);
    expect(pair.logs.filter((l) => l.type === 1)).toEqual([]);
  });

  it('supersedes an older request for the same document without engine errors', async () => {
    pair = createPair({ modelDir: stories260K });
    await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 200, contextTokens: 32 } });
    await pair.open('file:///a.txt', 'Once upon a time', 'plaintext');
    const first = pair.inline('file:///a.txt', { line: 0, character: 16 });
    const second = pair.inline('file:///a.txt', { line: 0, character: 16 });
    const [r1, r2] = await Promise.all([first, second]);
    expect(r1).toEqual({ items: [] });
    expect(r2?.items[0]?.insertText.toString().length).toBeGreaterThan(0);
    const status = (await pair.client.sendRequest('slipstream/status')) as { requests: { superseded: number; errors: number } };
    expect(status.requests).toMatchObject({ superseded: 1, errors: 0 });
  });

  it('gives the same greedy completion with ReDrafter as with plain decoding', async () => {
    pair = createPair({ modelDir: stories260K });
    await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 24 } });
    await pair.open('file:///a.txt', 'Once upon a time, there was a', 'plaintext');
    const plain = await pair.inline('file:///a.txt', { line: 0, character: 29 }, { context: { triggerKind: 1 } });
    await pair.client.sendNotification('workspace/didChangeConfiguration', { settings: { slipstream: { engine: { drafter: drafterDir, mode: 'redrafter' } } } });
    await pair.open('file:///b.txt', 'Once upon a time, there was a', 'plaintext');
    const spec = await pair.inline('file:///b.txt', { line: 0, character: 29 }, { context: { triggerKind: 1 } });
    const status = (await pair.client.sendRequest('slipstream/status')) as { engine: { mode: string; drafter: unknown } };
    expect(status.engine).toMatchObject({ mode: 'redrafter', drafter: { dir: drafterDir } });
    expect(spec?.items[0]?.insertText).toBe(plain?.items[0]?.insertText);
    expect((plain?.items[0]?.insertText.toString() ?? '').length).toBeGreaterThan(0);
  });

  it('reports a model folder switched to a bad path, and works again when switched back', async () => {
    pair = createPair({ modelDir: stories260K });
    await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 8 } });
    await pair.open('file:///a.txt', 'Once upon a time', 'plaintext');
    const shown = pair.nextMessage();
    await pair.client.sendNotification('workspace/didChangeConfiguration', { settings: { slipstream: { engine: { model: '/no/such/model' } } } });
    expect((await shown).message).toContain('/no/such/model');
    expect(await pair.inline('file:///a.txt', { line: 0, character: 16 })).toEqual({ items: [] });
    const status = (await pair.client.sendRequest('slipstream/status')) as { engine: { state: string; error: { code: string } } };
    expect(status.engine).toMatchObject({ state: 'error', error: { code: 'ENGINE_BAD_MODEL' } });
    await pair.client.sendNotification('workspace/didChangeConfiguration', { settings: { slipstream: { engine: { model: stories260K } } } });
    const back = await pair.inline('file:///a.txt', { line: 0, character: 16 });
    expect(back?.items[0]?.insertText.toString().length).toBeGreaterThan(0);
  });
});
