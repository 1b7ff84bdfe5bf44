/**
 * Positions in the negotiated encoding with non-ASCII text (a surrogate pair, a two-byte
 * character): the prompt is cut at the right UTF-16 offset, ranges come back in the client's
 * units, and incremental changes in UTF-8 / UTF-32 columns edit the right characters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
afterEach(() => pair?.dispose());
const uri = 'file:///u.ts';
const line = 'x = "😀é" + ';

async function setup(encoding: string): Promise<FakeEngineHost> {
  const engine = new FakeEngineHost();
  engine.respond = () => 'y;';
  pair = createPair({ engineHost: engine });
  await pair.initialize({ general: { positionEncodings: [encoding] } }, { completion: { debounceMs: 0 } });
  await pair.open(uri, `${line}\nnext();\n`);
  return engine;
}

describe('position encodings', () => {
  it.each([
    ['utf-16', 12],
    ['utf-8', 15],
    ['utf-32', 11],
  ])('in %s the end of the line is column %i and the range comes back in those units', async (encoding, column) => {
    const engine = await setup(encoding);
    const list = await pair.inline(uri, { line: 0, character: column });
    expect(engine.calls[0]!.prompt.startsWith(`<|fim_prefix|>${line}<|fim_suffix|>`)).toBe(true);
    expect(list?.items[0]?.range).toEqual({ start: { line: 0, character: column }, end: { line: 0, character: column } });
  });

  it.each([
    ['utf-8', 6],
    ['utf-32', 2],
  ])('applies an incremental change given in %s columns after a surrogate pair', async (encoding, column) => {
    const engine = await setup(encoding);
    await pair.client.sendNotification('textDocument/didOpen', { textDocument: { uri: 'file:///e.ts', languageId: 'ts', version: 1, text: 'é😀' } });
    await pair.change('file:///e.ts', 2, [{ range: { start: { line: 0, character: column }, end: { line: 0, character: column } }, text: 'Z' }]);
    await pair.inline('file:///e.ts', { line: 0, character: column + 1 });
    expect(engine.calls[0]!.prompt).toBe('<|fim_prefix|>é😀Z<|fim_suffix|><|fim_middle|>');
  });

  it('takes a UTF-8 column past the end of a line with non-ASCII text as the end of the line', async () => {
    await setup('utf-8');
    const list = await pair.inline(uri, { line: 0, character: 16 });
    expect(list?.items[0]?.range).toEqual({ start: { line: 0, character: 15 }, end: { line: 0, character: 15 } });
  });

  it('serves a document holding lone UTF-16 surrogates', async () => {
    const engine = new FakeEngineHost();
    engine.respond = () => 'ok';
    pair = createPair({ engineHost: engine });
    await pair.initialize({}, { completion: { debounceMs: 0 } });
    await pair.open(uri, 'a\ud800b\udc00c = ');
    const list = await pair.inline(uri, { line: 0, character: 8 });
    expect(list?.items[0]?.insertText).toBe('ok');
    expect(engine.calls[0]!.prompt).toContain('a\ufffdb\ufffdc = ');
  });
});
