/**
 * completion.timeBudgetMs on the real engine (the shipped model) at line ends of a fixture file,
 * where suggestions run to several lines: with a budget of 1 ms an automatic suggestion is
 * answered with the start of the one a budget of 0 gives (most spots: the first chunk worth
 * showing comes after the prefill, long past 1 ms), and accepting piece after piece gets exactly
 * the rest, from the generation that went on (attached to it, or from the cache once it ended),
 * with no second generation. Greedy decoding of a fixed model: the whole suggestions are the same
 * every run; where a spot is answered early depends on the engine's step timing, so the test
 * checks the relation, not the cut.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TracesResult } from '../../server/src/protocol.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';
import { firstInsertText, lruCacheLines } from '../helpers/fixture-source.js';

let pair: LspPair | undefined;
afterEach(async () => {
  await pair?.client.sendRequest('shutdown');
  pair?.dispose();
  pair = undefined;
});

const source = lruCacheLines;
const first = firstInsertText;

/** The first n line ends after a line opening a block (the suggestion is the block's body: several lines). */
function spots(n: number): { text: string; line: number; character: number }[] {
  const out: { text: string; line: number; character: number }[] = [];
  for (let line = 0; line < source.length && out.length < n; line++) {
    const body = source[line]!;
    if (!body.trimEnd().endsWith('{')) continue;
    out.push({ text: [...source.slice(0, line + 1), ''].join('\n'), line: line + 1, character: 0 });
  }
  return out;
}

/** Each document is closed after its spot, so no spot's prompt holds snippets of another. */
const close = (p: LspPair, uri: string): Promise<void> => p.client.sendNotification('textDocument/didClose', { textDocument: { uri } });

async function server(timeBudgetMs: number): Promise<LspPair> {
  const p = createPair({});
  await p.initialize({}, { completion: { debounceMs: 0, maxTokens: 48, alternatives: 1, minTokenProbability: 0, timeBudgetMs }, cache: { prefetch: false } });
  return p;
}

describe('timeBudgetMs on the real engine', () => {
  it('answers early with the start of the whole suggestion; accepting it gets the rest without a second generation', async () => {
    const places = spots(8);
    pair = await server(0);
    const whole: string[] = [];
    for (const [i, s] of places.entries()) {
      const uri = `file:///whole/${i}.ts`;
      await pair.open(uri, s.text);
      whole.push(first(await pair.inline(uri, { line: s.line, character: s.character })));
      await close(pair, uri);
    }
    await pair.client.sendRequest('shutdown');
    pair.dispose();

    pair = await server(1);
    let early = 0;
    for (const [i, s] of places.entries()) {
      const uri = `file:///early/${i}.ts`;
      const full = whole[i]!;
      await pair.open(uri, s.text);
      const shown = first(await pair.inline(uri, { line: s.line, character: s.character }));
      expect(full.startsWith(shown), `spot ${i}: ${JSON.stringify(shown)} starts ${JSON.stringify(full)}`).toBe(true);
      if (shown === full) {
        await close(pair, uri);
        continue;
      }
      early++;
      // worth showing: 6 characters besides blanks, or whole lines (the line break after the last one is not shown)
      expect(shown.trim().length >= 6 || full.startsWith(`${shown}\n`), `spot ${i}: ${JSON.stringify(shown)} is worth showing`).toBe(true);
      // accepting each piece in turn: every next piece comes from the same generation (attached to it,
      // answered at its own budget with what lies beyond, or from the cache once it ended) until the whole is in
      let got = '';
      let piece = shown;
      let at = { line: s.line, character: s.character };
      for (let version = 2; piece !== ''; version++) {
        expect(full.startsWith(got + piece), `spot ${i}: ${JSON.stringify(got + piece)} starts the whole one`).toBe(true);
        await pair.change(uri, version, [{ range: { start: at, end: at }, text: piece }]);
        got += piece;
        const lines = piece.split('\n');
        at = { line: at.line + lines.length - 1, character: (lines.length > 1 ? 0 : at.character) + lines.at(-1)!.length };
        piece = got === full ? '' : first(await pair.inline(uri, at));
      }
      expect(got, `spot ${i}`).toBe(full);
      await close(pair, uri);
    }
    const traces = ((await pair.client.sendRequest('slipstream/traces', {})) as TracesResult).traces;
    const cached = traces.filter((t) => t.outcome === 'cached');
    console.log(`timeBudgetMs 1 on ${places.length} block starts: ${early} answered early, the rest in ${cached.length} further answers`);
    expect(early).toBeGreaterThan(places.length / 2);
    // no second generation at a spot: every answer after the first came from it
    expect(traces.filter((t) => t.outcome === 'shown')).toHaveLength(places.length);
    expect(cached.map((t) => t.cacheHit).every((h) => h === 'attached' || h === 'typing')).toBe(true);
    expect(cached.length).toBeGreaterThanOrEqual(early);
  });
});
