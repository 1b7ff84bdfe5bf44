/**
 * textDocument/inlineCompletion against the in-process server with a fake engine: items with the
 * right text, range and accept command; Copilot's extra params; show / accept events; errors for
 * unknown documents and positions past the end.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;
const uri = 'file:///work/a.ts';
const noDebounce = { completion: { debounceMs: 0 } };

beforeEach(async () => {
  engine = new FakeEngineHost();
  pair = createPair({ engineHost: engine });
  await pair.initialize({}, noDebounce);
});
afterEach(() => pair.dispose());

describe('textDocument/inlineCompletion', () => {
  it('returns the engine completion at the cursor with an accept command', async () => {
    engine.respond = () => 'b + 1;';
    await pair.open(uri, 'const a = \nconst z = 2;\n');
    const list = await pair.inline(uri, { line: 0, character: 10 });
    expect(list?.items).toHaveLength(1);
    const item = list!.items[0]!;
    expect(item.insertText).toBe('b + 1;');
    expect(item.range).toEqual({ start: { line: 0, character: 10 }, end: { line: 0, character: 10 } });
    expect(item.command).toMatchObject({ command: 'slipstream.didAcceptCompletionItem', arguments: [expect.any(String)] });
  });

  it('builds a fill-in-the-middle prompt from the text around the cursor, the typed line at the middle\'s start (PSM)', async () => {
    engine.respond = () => 'x';
    await pair.open(uri, 'function f() {\n  return \n}\n');
    await pair.inline(uri, { line: 1, character: 9 });
    expect(engine.calls[0]!.prompt).toBe('<|fim_prefix|>function f() {\n<|fim_suffix|>\n}\n<|fim_middle|>  return ');
    // the standard layout: the whole prefix before the suffix
    await pair.client.sendNotification('workspace/didChangeConfiguration', { settings: { slipstream: { completion: { psmTypedLines: 'prefix' } } } });
    await pair.change(uri, 2, [{ range: { start: { line: 1, character: 9 }, end: { line: 1, character: 9 } }, text: 'y' }]);
    await pair.inline(uri, { line: 1, character: 10 });
    expect(engine.calls.at(-1)!.prompt).toBe('<|fim_prefix|>function f() {\n  return y<|fim_suffix|>\n}\n<|fim_middle|>');
  });

  it('adds a snippet from another open document of the same language to the prompt', async () => {
    engine.respond = () => 'x';
    await pair.open('file:///work/stats.ts', 'export function percentile(values: number[], p: number): number {\n  return values[0];\n}\n');
    await pair.open('file:///work/notes.py', 'def percentile(values, p):\n    pass\n', 'python');
    await pair.open(uri, 'const p95 = percentile(values, ');
    await pair.inline(uri, { line: 0, character: 31 });
    const prompt = engine.calls[0]!.prompt;
    expect(prompt.startsWith('<|fim_prefix|>// Compare this snippet from /work/stats.ts:\n// export function percentile(')).toBe(true);
    expect(prompt).not.toContain('notes.py');
    expect(prompt.endsWith('const p95 = percentile(values, <|fim_suffix|><|fim_middle|>')).toBe(true);
  });

  it('accepts the document version and formatting options Copilot sends', async () => {
    engine.respond = () => '42;';
    await pair.open(uri, 'let x = ', 'typescript', 7);
    const list = await pair.inline(uri, { line: 0, character: 8 }, { textDocument: { version: 7 }, formattingOptions: { tabSize: 2, insertSpaces: true } });
    expect(list?.items[0]?.insertText).toBe('42;');
  });

  it('returns no items when the request names a version the document no longer has', async () => {
    await pair.open(uri, 'let x = ', 'typescript', 3);
    const list = await pair.inline(uri, { line: 0, character: 8 }, { textDocument: { version: 2 } });
    expect(list).toEqual({ items: [] });
    expect(engine.calls).toHaveLength(0);
  });

  it('replaces the rest of the line when the completion ends with it', async () => {
    // fixtures/postprocess/pipeline/replace-remainder.toml through the server: the suggestion
    // '"hi");' ends with the text after the cursor ('");'), so its range covers those 3 characters.
    engine.respond = () => '"hi");';
    await pair.open(uri, 'print(");\nnext();\n');
    const list = await pair.inline(uri, { line: 0, character: 6 });
    expect(list?.items).toHaveLength(1);
    expect(list!.items[0]!.insertText).toBe('"hi");');
    expect(list!.items[0]!.range).toEqual({ start: { line: 0, character: 6 }, end: { line: 0, character: 9 } });
  });

  it('replaces nothing when balance-brackets cut the closer already after the cursor', async () => {
    engine.respond = () => 'a, b)';
    await pair.open(uri, 'call()\n');
    const list = await pair.inline(uri, { line: 0, character: 5 });
    expect(list?.items[0]).toMatchObject({ insertText: 'a, b', range: { start: { line: 0, character: 5 }, end: { line: 0, character: 5 } } });
  });

  it.each([
    ['LF', 'a();\n  b();'],
    ['CR LF', 'a();\r\n  b();'],
  ])("writes a multi-line suggestion the model ends with %s in the CR LF document's line ending", async (_what, raw) => {
    engine.respond = () => raw;
    await pair.open(uri, 'function f() {\r\n  \r\n}\r\n');
    const list = await pair.inline(uri, { line: 1, character: 2 });
    expect(list?.items[0]?.insertText).toBe('a();\r\n  b();');
    expect(engine.calls[0]!.prompt).toBe('<|fim_prefix|>function f() {\r\n  <|fim_suffix|>\r\n}\r\n<|fim_middle|>');
  });

  it('keeps the first line only when the cursor is mid-line', async () => {
    engine.respond = () => 'first\nsecond';
    await pair.open(uri, 'const v = ;\n');
    const list = await pair.inline(uri, { line: 0, character: 10 });
    expect(list?.items[0]?.insertText).toBe('first');
  });

  it('drops the engine session of a closed document and forgets the document', async () => {
    await pair.open(uri, 'x');
    await pair.client.sendNotification('textDocument/didClose', { textDocument: { uri } });
    await expect(pair.inline(uri, { line: 0, character: 1 })).rejects.toMatchObject({ code: -32602 });
    expect(engine.closed).toEqual([uri]);
  });

  it('rejects an unknown document with InvalidParams', async () => {
    await expect(pair.inline('file:///nope.ts', { line: 0, character: 0 })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('unknown document') });
  });

  it.each([
    [{ line: 5, character: 0 }, 'past the end'],
    [{ line: -1, character: 0 }, 'params.position.line: expected an integer 0..2147483647 (LSP uinteger)'],
    [{ line: 0.5, character: 0 }, 'params.position.line: expected an integer'],
  ])('rejects position %j with InvalidParams', async (position, message) => {
    await pair.open(uri, 'abc\n');
    await expect(pair.inline(uri, position)).rejects.toMatchObject({ code: -32602, message: expect.stringContaining(message) });
  });

  it('completes at the end of the line for a character past it (LSP: it defaults back to the line length)', async () => {
    engine.respond = () => 'def';
    await pair.open(uri, 'abc\nxyz\n');
    const list = await pair.inline(uri, { line: 0, character: 99 });
    expect(list?.items[0]?.insertText).toBe('def');
    expect(list?.items[0]?.range).toEqual({ start: { line: 0, character: 3 }, end: { line: 0, character: 3 } });
    expect(engine.calls[0]!.prompt).toBe('<|fim_prefix|>abc<|fim_suffix|>\nxyz\n<|fim_middle|>');
  });

  it('answers the same suggestion from the typing-through cache without calling the engine', async () => {
    engine.respond = () => 'hello()';
    await pair.open(uri, 'x.');
    await pair.inline(uri, { line: 0, character: 2 });
    await pair.change(uri, 2, [{ range: { start: { line: 0, character: 2 }, end: { line: 0, character: 2 } }, text: 'he' }]);
    const list = await pair.inline(uri, { line: 0, character: 4 });
    expect(list?.items[0]?.insertText).toBe('llo()');
    expect(engine.calls).toHaveLength(1);
  });

  it('skips the debounce for an answer from the typing-through cache', async () => {
    engine.respond = () => 'hello()';
    await pair.open(uri, 'x.');
    await pair.inline(uri, { line: 0, character: 2 });
    await pair.client.sendNotification('workspace/didChangeConfiguration', { settings: { slipstream: { completion: { debounceMs: 5000 } } } });
    await pair.change(uri, 2, [{ range: { start: { line: 0, character: 2 }, end: { line: 0, character: 2 } }, text: 'h' }]);
    expect((await pair.inline(uri, { line: 0, character: 3 }))?.items[0]?.insertText).toBe('ello()');
    const { traces } = (await pair.client.sendRequest('slipstream/traces', {})) as { traces: { outcome: string; stages: Record<string, number> }[] };
    expect(traces.at(-1)?.outcome).toBe('cached');
    expect(traces.at(-1)?.stages.debounce).toBeUndefined();
    expect(traces[0]?.stages.debounce).toBeGreaterThanOrEqual(0);
  });

  it('records shown, partially accepted and accepted items in slipstream/status', async () => {
    engine.respond = () => 'done();';
    await pair.open(uri, '');
    const item = (await pair.inline(uri, { line: 0, character: 0 }))!.items[0]!;
    await pair.client.sendNotification('textDocument/didShowCompletion', { item });
    await pair.client.sendNotification('textDocument/didPartiallyAcceptCompletion', { item, acceptedLength: 4 });
    await pair.client.sendRequest('workspace/executeCommand', item.command);
    const status = (await pair.client.sendRequest('slipstream/status')) as { events: unknown; requests: { shown: number } };
    expect(status.events).toEqual({ shown: 1, accepted: 1, acceptedAlternatives: 0, partiallyAccepted: 1, retention: expect.any(Object) });
    expect(status.requests.shown).toBe(1);
  });

  it('answers an engine error with no items and logs its code', async () => {
    engine.failLoad = Object.assign(new Error('weights are broken'), { code: 'ENGINE_BAD_MODEL' });
    await pair.open(uri, 'x');
    const shown = pair.nextMessage();
    const list = await pair.inline(uri, { line: 0, character: 1 });
    expect(list).toEqual({ items: [] });
    expect(pair.logs.some((l) => l.message.includes('weights are broken') && l.message.includes('ENGINE_BAD_MODEL'))).toBe(true);
    expect((await shown).message).toContain('weights are broken');
    // The same failure on the next keystroke is not logged again.
    await pair.inline(uri, { line: 0, character: 1 });
    await pair.client.sendRequest('slipstream/status');
    expect(pair.logs.filter((l) => l.message.includes('completion for')).length).toBe(1);
  });

  it('answers an engine step that fails mid-generation with no items, counts it, and serves the next request', async () => {
    engine.respond = () => 'value';
    engine.failStep = Object.assign(new Error('step failed'), { code: 'ENGINE_STEP_FAILED' });
    await pair.open(uri, 'x = ');
    expect(await pair.inline(uri, { line: 0, character: 4 })).toEqual({ items: [] });
    expect(pair.logs.some((l) => l.message.includes('step failed') && l.message.includes('ENGINE_STEP_FAILED'))).toBe(true);
    const status = (await pair.client.sendRequest('slipstream/status')) as { requests: { errors: number } };
    expect(status.requests.errors).toBe(1);
    const traces = (await pair.client.sendRequest('slipstream/traces', {})) as { traces: { outcome: string; error?: string }[] };
    expect(traces.traces.at(-1)).toMatchObject({ outcome: 'error', error: 'ENGINE_STEP_FAILED: step failed' });
    engine.failStep = null;
    await pair.change(uri, 2, [{ range: { start: { line: 0, character: 4 }, end: { line: 0, character: 4 } }, text: '1' }]);
    expect((await pair.inline(uri, { line: 0, character: 5 }))?.items[0]?.insertText).toBe('value');
  });
});
