/**
 * textDocument/completion through the in-process server with a fake engine: the menu items for a
 * one-line and a multi-line suggestion (the word before the cursor in each, the rest of the line a
 * suggestion ends with left in place, the documentation by the client's formats), an unknown document,
 * bad params, and the accept command's counts for the whole suggestion and its first line alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CompletionItem, CompletionList } from 'vscode-languageserver-protocol';
import type { StatusResult } from '../../server/src/protocol.js';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;
const uri = 'file:///work/a.ts';
const at = (line: number, character: number) => ({ line, character });

async function start(documentationFormat?: ('markdown' | 'plaintext')[]): Promise<void> {
  engine = new FakeEngineHost();
  pair = createPair({ engineHost: engine });
  await pair.initialize({ textDocument: { completion: { completionItem: documentationFormat ? { documentationFormat } : {} } } }, { completion: { debounceMs: 0 } });
}
afterEach(() => pair.dispose());

function menu(position: { line: number; character: number }, context: unknown = { triggerKind: 1 }): Promise<CompletionList> {
  return pair.client.sendRequest('textDocument/completion', { textDocument: { uri }, position, context }) as Promise<CompletionList>;
}
async function events(): Promise<StatusResult['events']> {
  return ((await pair.client.sendRequest('slipstream/status')) as StatusResult).events;
}
const accept = (item: CompletionItem) => pair.client.sendRequest('workspace/executeCommand', item.command);

describe('textDocument/completion', () => {
  beforeEach(() => start(['markdown', 'plaintext']));

  it('answers the suggestion over the word before the cursor, incomplete so that the client asks again', async () => {
    engine.respond = () => 'urn a + b;';
    await pair.open(uri, 'function f(a, b) {\n  ret\n}\n');
    const list = await menu(at(1, 5));
    expect(list.isIncomplete).toBe(true);
    expect(list.items).toEqual([
      {
        label: 'return a + b;',
        kind: 1,
        detail: 'Slipstream',
        sortText: '0000',
        filterText: 'return a + b;',
        insertTextFormat: 1,
        textEdit: { range: { start: at(1, 2), end: at(1, 5) }, newText: 'return a + b;' },
        command: { title: 'Accept Slipstream completion', command: 'slipstream.didAcceptCompletionItem', arguments: [expect.stringMatching(/^s\d+$/)] },
      },
    ]);
  });

  it('inserts up to the rest of the line that a suggestion ends with, which stays', async () => {
    // as fixtures/postprocess/pipeline/replace-remainder.toml: '"hi");' ends with the text after the cursor
    engine.respond = () => '"hi");';
    await pair.open(uri, 'print(");\nnext();\n');
    const [item] = (await menu(at(0, 6), { triggerKind: 2, triggerCharacter: '(' })).items;
    expect(item!.textEdit).toEqual({ range: { start: at(0, 6), end: at(0, 6) }, newText: '"hi' });
  });

  it('offers a multi-line suggestion as its first line, then whole with the whole text in markdown', async () => {
    engine.respond = () => 'if (a) {\n    return b;\n  }';
    await pair.open(uri, 'function f(a, b) {\n  \n\n  return 0;\n}\n');
    const items = (await menu(at(1, 2))).items;
    expect(items.map((i) => [i.label, i.detail, i.textEdit, i.command!.arguments!.length])).toEqual([
      ['if (a) {', 'Slipstream', { range: { start: at(1, 2), end: at(1, 2) }, newText: 'if (a) {' }, 2],
      ['if (a) { …', 'Slipstream · 3 lines', { range: { start: at(1, 2), end: at(1, 2) }, newText: 'if (a) {\n    return b;\n  }' }, 1],
    ]);
    expect(items[1]!.documentation).toEqual({ kind: 'markdown', value: '```typescript\nif (a) {\n    return b;\n  }\n```' });
    expect(items[0]!.command!.arguments).toEqual([items[1]!.command!.arguments![0], 'if (a) {'.length]);
  });

  it('counts accepting the whole suggestion as an accept and its first line as a partial accept', async () => {
    engine.respond = () => 'if (a) {\n    return b;\n  }';
    await pair.open(uri, 'function f(a, b) {\n  \n\n  return 0;\n}\n');
    const [line, whole] = (await menu(at(1, 2))).items;
    expect(await accept(line!)).toBeNull();
    expect(await events()).toMatchObject({ accepted: 0, partiallyAccepted: 1 });
    expect(await accept(whole!)).toBeNull();
    expect(await events()).toMatchObject({ accepted: 1, partiallyAccepted: 1 });
    await expect(pair.client.sendRequest('workspace/executeCommand', { command: 'slipstream.didAcceptCompletionItem', arguments: ['s1', -1] })).rejects.toThrow(
      /takes the item id and, for a part of it, the accepted length/,
    );
  });

  it('answers no items where there is no suggestion, and an error for an unknown document or a bad position', async () => {
    engine.respond = () => '';
    await pair.open(uri, 'const a = 1;\n');
    expect(await menu(at(0, 12))).toEqual({ isIncomplete: true, items: [] });
    await expect(pair.client.sendRequest('textDocument/completion', { textDocument: { uri: 'file:///work/none.ts' }, position: at(0, 0) })).rejects.toThrow(/unknown document/);
    await expect(menu(at(0, -1))).rejects.toThrow(/position\.character/);
    await expect(menu(at(0, 1), { triggerKind: 4 })).rejects.toThrow(/context\.triggerKind: expected 1 \(Invoked\), 2 \(TriggerCharacter\) or 3/);
  });
});

describe('textDocument/completion for a client without markdown', () => {
  beforeEach(() => start());

  it('gives a multi-line suggestion plain-text documentation', async () => {
    engine.respond = () => 'x\n  y';
    await pair.open(uri, 'a\n');
    const items = (await menu(at(0, 1))).items;
    expect(items.map((i) => i.label)).toEqual(['ax', 'ax …']);
    expect(items[1]!.documentation).toEqual({ kind: 'plaintext', value: 'ax\n  y' });
  });
});
