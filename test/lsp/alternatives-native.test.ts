/**
 * completion.alternatives on the real engine (the shipped model): an invoked completion's list
 * starts with the suggestion an automatic request gets, its items are distinct, and the same
 * request gives the same list again (the alternatives' seeds are fixed), in both decoding modes,
 * and the two modes give the same list (alternatives always run plain decoding).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InlineCompletionList } from 'vscode-languageserver-protocol';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair | undefined;
afterEach(async () => {
  await pair?.client.sendRequest('shutdown');
  pair?.dispose();
  pair = undefined;
});

const uri = 'file:///names.ts';
const text = 'const greetings = [\n  "hello",\n  "';
const at = { line: 2, character: 3 };
const texts = (list: InlineCompletionList | null) => list!.items.map((i) => i.insertText as string);

describe('alternatives on the real engine', () => {
  const lists: Record<string, string[]> = {};
  for (const mode of ['ar', 'redrafter'] as const) {
    it(`starts with the automatic suggestion, distinct items, the same list again (mode ${mode})`, async () => {
      pair = createPair({});
      // the automatic suggestion whole (minTokenProbability and timeBudgetMs 0), as the invoked request's first item is
      await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 12, minTokenProbability: 0, timeBudgetMs: 0 }, engine: { mode }, cache: { prefetch: false } });
      await pair.open(uri, text);
      const automatic = texts(await pair.inline(uri, at));
      const first = texts(await pair.inline(uri, at, { context: { triggerKind: 1 } }));
      const again = texts(await pair.inline(uri, at, { context: { triggerKind: 1 } }));
      expect(automatic).toHaveLength(1);
      expect(first[0]).toBe(automatic[0]);
      expect(new Set(first).size).toBe(first.length);
      expect(first.length).toBeGreaterThanOrEqual(2);
      expect(again).toEqual(first);
      lists[mode] = first;
    });
  }

  it('gives the same list whatever the decoding mode: greedy ReDrafter equals plain decoding, and alternatives always decode plainly', () => {
    expect(lists.ar).toBeDefined();
    expect(lists.redrafter).toEqual(lists.ar);
  });
});
