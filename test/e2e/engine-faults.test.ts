/**
 * What a client sees when the engine fails, with real parts (a copy of stories260K that the test
 * breaks): a model folder that is missing or corrupt when the model loads answers completions with
 * no items, says so once with window/showMessage and in window/logMessage with the error code,
 * reports it in slipstream/status (engine.state "error", requests.errors) and loads on the next
 * request once the folder is whole again; a folder removed after the model loaded changes nothing.
 */
import { cpSync, mkdtempSync, renameSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnStdio, type SpawnedServer } from '../helpers/spawn-server.js';
import { stories260K } from '../helpers/paths.js';

let server: SpawnedServer | undefined;
let dir: string;
afterEach(() => {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

const text = 'Once upon a time';
const complete = (): Promise<{ items: { insertText: string }[] }> =>
  server!.client.request('textDocument/inlineCompletion', { textDocument: { uri: 'file:///f.txt' }, position: { line: 0, character: text.length }, context: { triggerKind: 1 } });

/** A server configured with `model` by initializationOptions (so the folder may be missing at start). */
async function start(model: string): Promise<void> {
  server = spawnStdio();
  await server.client.initialize({ engine: { model }, completion: { debounceMs: 0, maxTokens: 6 } });
  server.client.open('file:///f.txt', text);
}

function copyModel(): string {
  dir = mkdtempSync(join(tmpdir(), 'slipstream-faults-'));
  const model = join(dir, 'model');
  cpSync(stories260K, model, { recursive: true });
  return model;
}

describe('engine faults', () => {
  it('answers with no items while the model folder is missing, says why once, and loads once it is back', async () => {
    const model = copyModel();
    renameSync(model, `${model}.away`);
    await start(model);
    expect((await complete()).items).toEqual([]);
    expect((await complete()).items).toEqual([]);
    const status = await server!.client.request('slipstream/status');
    expect(status.engine).toMatchObject({ state: 'error', error: { code: 'ENGINE_BAD_MODEL' } });
    expect(status.requests.errors).toBe(2);
    const shown = server!.client.received.filter((m) => m.method === 'window/showMessage').map((m) => m.params.message);
    expect(shown).toEqual([expect.stringContaining(model)]);
    const logged = server!.client.received.filter((m) => m.method === 'window/logMessage' && m.params.type === 1).map((m) => m.params.message);
    expect(logged).toContainEqual(expect.stringContaining('[ENGINE_BAD_MODEL]'));
    renameSync(`${model}.away`, model);
    expect((await complete()).items[0]!.insertText.length).toBeGreaterThan(0);
    expect((await server!.client.request('slipstream/status')).engine.state).toBe('ready');
  });

  it('reports corrupt weights at load with the engine error code and recovers once they are fixed', async () => {
    const model = copyModel();
    cpSync(join(model, 'model.safetensors'), join(dir, 'good.safetensors'));
    truncateSync(join(model, 'model.safetensors'), 1000);
    await start(model);
    expect((await complete()).items).toEqual([]);
    const status = await server!.client.request('slipstream/status');
    expect(status.engine.state).toBe('error');
    expect(status.engine.error.code).toMatch(/^ENGINE_/);
    cpSync(join(dir, 'good.safetensors'), join(model, 'model.safetensors'));
    expect((await complete()).items[0]!.insertText.length).toBeGreaterThan(0);
  });

  it('keeps completing when the model folder is removed after the model loaded', async () => {
    const model = copyModel();
    await start(model);
    const before = (await complete()).items[0]!.insertText;
    rmSync(model, { recursive: true, force: true });
    server!.client.open('file:///g.txt', `${text} `);
    const after = await server!.client.request('textDocument/inlineCompletion', { textDocument: { uri: 'file:///g.txt' }, position: { line: 0, character: text.length + 1 }, context: { triggerKind: 1 } });
    expect(before.length).toBeGreaterThan(0);
    expect(after.items[0].insertText.length).toBeGreaterThan(0);
    expect((await server!.client.request('slipstream/status')).engine).toMatchObject({ state: 'ready', error: null });
  });
});
