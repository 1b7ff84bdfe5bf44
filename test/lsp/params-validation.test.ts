/**
 * Params are checked against the LSP types before any handler runs, so bad ones change nothing:
 * a didChange range with `line: 0.5` (which made the document library concatenate the whole text
 * twice, 19 notifications taking the server from 56 MB to 1.07 GB) is dropped with a log line; a
 * didChange that does not raise the version is not applied; settings named after Object.prototype
 * members are unknown settings, not built-ins (they used to fail initialize with -32603 and leave
 * the engine unconfigured).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;
const uri = 'file:///p.ts';
const text = 'const a = 1;\nconst b = 2;\n';

beforeEach(() => {
  engine = new FakeEngineHost();
  pair = createPair({ engineHost: engine });
});
afterEach(() => pair.dispose());

/** The server's copy of the document, read once every message sent so far was handled. */
async function documentText(): Promise<{ uri: string; version: number; text: string } | null> {
  await pair.client.sendRequest('slipstream/status');
  const doc = pair.server.documents.get(uri);
  return doc ? { uri, version: doc.version, text: doc.getText() } : null;
}

describe('params validation', () => {
  it('drops a didChange whose range has a fractional line, leaving the document as it was', async () => {
    await pair.initialize();
    await pair.open(uri, text);
    const half = { start: { line: 0.5, character: 0 }, end: { line: 0.5, character: 0 } };
    for (let v = 2; v <= 20; v++) await pair.change(uri, v, [{ range: half, text: 'x'.repeat(180) }]);
    expect(await documentText()).toEqual({ uri, version: 1, text });
    expect(pair.logs.filter((l) => l.message.includes('params.contentChanges[0].range.start.line: expected an integer'))).toHaveLength(19);
  });

  it('applies valid incremental edits, a character past the line end meaning the line end', async () => {
    await pair.initialize();
    await pair.open(uri, text);
    await pair.change(uri, 2, [{ range: { start: { line: 0, character: 99 }, end: { line: 1, character: 0 } }, text: ' // one\n' }]);
    expect(await documentText()).toEqual({ uri, version: 2, text: 'const a = 1; // one\nconst b = 2;\n' });
  });

  it('applies an edit whose range lies past the last line at the end, and later edits where they belong', async () => {
    // The document library used to corrupt its line table here: the next edit duplicated the text.
    await pair.initialize();
    await pair.open(uri, 'a\nb\nc');
    await pair.change(uri, 2, [{ range: { start: { line: 5, character: 0 }, end: { line: 6, character: 0 } }, text: '!\n' }]);
    await pair.change(uri, 3, [{ range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }, text: 'Z' }]);
    expect(await documentText()).toEqual({ uri, version: 3, text: 'a\nb\nc!\nZ' });
  });

  it('takes the version of a didChange without content changes', async () => {
    await pair.initialize();
    await pair.open(uri, text);
    await pair.change(uri, 7, []);
    expect(await documentText()).toEqual({ uri, version: 7, text });
  });

  it('ignores a didChange whose version does not increase, with a log line', async () => {
    await pair.initialize();
    await pair.open(uri, text, 'typescript', 5);
    const at = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    await pair.change(uri, 4, [{ range: at, text: 'old ' }]);
    await pair.change(uri, 5, [{ range: at, text: 'same ' }]);
    await pair.change(uri, 6, [{ range: at, text: 'new ' }]);
    expect(await documentText()).toEqual({ uri, version: 6, text: `new ${text}` });
    const ignored = pair.logs.filter((l) => l.message.includes('ignored: version'));
    expect(ignored.map((l) => l.message)).toEqual([
      expect.stringContaining('version 4 does not increase on 5'),
      expect.stringContaining('version 5 does not increase on 5'),
    ]);
  });

  it.each(['toString', 'constructor', '__proto__', 'valueOf', 'hasOwnProperty'])(
    'treats a setting named %s as an unknown setting and still configures the engine',
    async (name) => {
      const options = JSON.parse(`{"${name}": 1, "engine": {"model": "/models/m", "${name}": 3}, "completion": {"${name}": true}}`);
      const r = await pair.initialize({}, options);
      expect(r.capabilities.inlineCompletionProvider).toBe(true);
      expect(engine.configured.at(-1)?.model).toBe('/models/m');
      const warnings = pair.logs.map((l) => l.message);
      expect(warnings).toContainEqual(expect.stringContaining(`unknown setting slipstream.${name} ignored`));
      expect(warnings).toContainEqual(expect.stringContaining(`unknown setting slipstream.engine.${name} ignored`));
      expect(warnings).toContainEqual(expect.stringContaining(`unknown setting slipstream.completion.${name} ignored`));
    },
  );

  it('answers a request with a params field of the wrong type with InvalidParams naming the field', async () => {
    await pair.initialize();
    await pair.open(uri, text);
    await expect(pair.inline(uri, { line: 0, character: '3' } as never)).rejects.toMatchObject({
      code: -32602,
      message: 'invalid params for textDocument/inlineCompletion: params.position.character: expected an integer 0..2147483647 (LSP uinteger)',
    });
    await expect(pair.client.sendRequest('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: 0, character: 0 } })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining('params.context'),
    });
  });
});
