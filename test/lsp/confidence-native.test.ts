/**
 * completion.minTokenProbability on the real engine (the shipped model), in the middle of the
 * first lines of a fixture file: an automatic suggestion is the explicitly invoked one (which is
 * never cut), or the start of it cut before an unsure token (with at least UNSURE_MIN_CHARS on its
 * first line when cut inside it), or none; at 0 it is the invoked one; and after a cut one, asking explicitly at the
 * same spot gets the whole one, not the cut one from the cache. Each kind occurs among the spots
 * (greedy decoding of a fixed model: the same spots every run). The time budget is off: an
 * automatic request that a busy machine kept past it would show its early part instead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UNSURE_MIN_CHARS } from '../../server/src/completion/confidence.js';
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

/** Spot i: the file's first lines up to line i's middle (one document per spot, so nothing is cached across spots). */
function spots(n: number): { text: string; line: number; character: number }[] {
  const out: { text: string; line: number; character: number }[] = [];
  for (let line = 0; line < source.length && out.length < n; line++) {
    const body = source[line]!;
    if (body.trim().length < 12) continue;
    const character = Math.floor(body.length / 2);
    out.push({ text: [...source.slice(0, line), body.slice(0, character)].join('\n'), line, character });
  }
  return out;
}

/** Each spot's first suggestion from a server of its own (each document closed after its request: no snippets of others). */
async function suggestions(minTokenProbability: number, trigger: 1 | 2): Promise<string[]> {
  pair = createPair({});
  await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 24, alternatives: 1, minTokenProbability, timeBudgetMs: 0 }, cache: { prefetch: false } });
  const out: string[] = [];
  for (const [i, s] of spots(16).entries()) {
    const uri = `file:///spots/${i}.ts`;
    await pair.open(uri, s.text);
    out.push(first(await pair.inline(uri, { line: s.line, character: s.character }, { context: { triggerKind: trigger } })));
    await pair.client.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }
  await pair.client.sendRequest('shutdown');
  pair.dispose();
  pair = undefined;
  return out;
}

describe('minTokenProbability on the real engine', () => {
  it('cuts automatic suggestions before an unsure token, drops the short ones, leaves invoked ones whole', async () => {
    const invoked = await suggestions(0.2, 1);
    const off = await suggestions(0, 2);
    const cut = await suggestions(0.2, 2);
    expect(off).toEqual(invoked);
    const kinds = { whole: 0, cut: 0, none: 0 };
    for (const [i, a] of cut.entries()) {
      const full = invoked[i]!;
      if (a === full) kinds.whole++;
      else if (a === '') kinds.none++;
      else {
        kinds.cut++;
        expect(full.startsWith(a), `spot ${i}: ${JSON.stringify(a)} starts ${JSON.stringify(full)}`).toBe(true);
        // cut inside its first line: at least UNSURE_MIN_CHARS there; else its first line is whole
        const line = a.split('\n')[0]!;
        expect(line.trim().length >= UNSURE_MIN_CHARS || line === full.split('\n')[0], `spot ${i}: ${JSON.stringify(a)}`).toBe(true);
      }
    }
    console.log(`minTokenProbability 0.2 on ${cut.length} spots: ${JSON.stringify(kinds)}`);
    expect(kinds.whole + kinds.cut + kinds.none).toBe(cut.length);
    expect(kinds.cut).toBeGreaterThan(0);
    expect(kinds.none).toBeGreaterThan(0);
  });

  it('answers an explicit request after a cut suggestion with the whole one, not the cached cut one', async () => {
    pair = createPair({});
    await pair.initialize({}, { completion: { debounceMs: 0, maxTokens: 24, alternatives: 1, minTokenProbability: 0.2, timeBudgetMs: 0 }, cache: { prefetch: false } });
    let checked = 0;
    for (const [i, s] of spots(16).entries()) {
      const uri = `file:///again/${i}.ts`;
      await pair.open(uri, s.text);
      const at = { line: s.line, character: s.character };
      const automatic = first(await pair.inline(uri, at));
      const invoked = first(await pair.inline(uri, at, { context: { triggerKind: 1 } }));
      const again = first(await pair.inline(uri, at));
      await pair.client.sendNotification('textDocument/didClose', { textDocument: { uri } });
      if (automatic !== '' && automatic !== invoked) {
        expect(invoked.startsWith(automatic) && invoked.length > automatic.length).toBe(true);
        checked++;
      }
      // typing on: an automatic request after the explicit one is served the whole one from the cache
      if (invoked !== '') expect(again).toBe(invoked);
    }
    expect(checked).toBeGreaterThan(0);
  });
});
