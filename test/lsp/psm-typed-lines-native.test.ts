/**
 * completion.psmTypedLines through the in-process server on the real engine, with a model whose
 * fill-in-the-middle order is PSM: a random-weight tiny Qwen2-shaped model (bench/make-random-model
 * 'tiny-qwen2', its byte-level tokenizer in Qwen2's layout, no fim_order: PSM). Typing a line
 * character by character at a cursor with text after it: with the typed lines in the middle (the
 * default) each keystroke's prompt reuses all of the previous one's KV but the last token or two
 * (the suffix stays before the cursor's text); with 'prefix' (the standard layout) every keystroke
 * recomputes the suffix. The trace's context span counts the typed tokens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeRandomModel } from '../../bench/make-random-model.js';
import type { RequestTrace } from '../../server/src/protocol.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let dir: string;
let pair: LspPair | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'slipstream-psm-'));
  makeRandomModel(dir, { preset: 'tiny-qwen2', dtype: 'f32', seed: 3 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await pair?.client.sendRequest('shutdown');
  pair?.dispose();
  pair = undefined;
});

const uri = 'file:///psm.py';
const BEFORE = 'def area(r):\n    pi = 3.14\n';
const AFTER = '\n    return pi * r * r\n\nprint(area(2))\n';
const TYPED = '    s = r';

/** Types TYPED on the empty line between BEFORE and AFTER, asking after each keystroke; the engine's traces of those requests. */
async function typeLine(psmTypedLines: 'middle' | 'prefix'): Promise<RequestTrace[]> {
  pair = createPair({});
  await pair.initialize({}, { engine: { model: dir, mode: 'ar' }, completion: { debounceMs: 0, maxTokens: 4, minTokenProbability: 0, timeBudgetMs: 0, psmTypedLines } });
  await pair.open(uri, BEFORE + AFTER, 'python');
  const line = BEFORE.split('\n').length - 1;
  for (const [k, ch] of [...TYPED].entries()) {
    const at = { line, character: k };
    await pair.change(uri, k + 2, [{ range: { start: at, end: at }, text: ch }]);
    await pair.inline(uri, { line, character: k + 1 });
  }
  const { traces } = (await pair.client.sendRequest('slipstream/traces', {})) as { traces: RequestTrace[] };
  return traces.filter((t) => t.trigger === 'automatic' && t.promptTokens !== undefined);
}

const recomputed = (t: RequestTrace): number => t.promptTokens! - (t.reusedTokens ?? 0);
const contextAttrs = (t: RequestTrace): Record<string, unknown> => t.spans!.children!.find((c) => c.name === 'context')!.attrs ?? {};

describe('PSM prompts: the typed lines in the middle (completion.psmTypedLines)', () => {
  it('recomputes only the last token or two a keystroke with the typed lines in the middle, the whole suffix with them at the prefix end', async () => {
    const middle = await typeLine('middle');
    const prefix = await typeLine('prefix');
    expect(middle.length).toBeGreaterThan(4);
    expect(prefix.length).toBeGreaterThan(4);
    const suffixTokens = contextAttrs(prefix[0]!).suffixTokens as number;
    expect(suffixTokens).toBeGreaterThan(20);
    console.log(`psm typed lines: recomputed per keystroke, middle ${middle.map(recomputed).join(' ')}; prefix ${prefix.map(recomputed).join(' ')} (suffix ${suffixTokens} tokens)`);
    // after the first keystroke (a new prompt layout for the session), only the typed end
    for (const t of middle.slice(1)) expect(recomputed(t)).toBeLessThanOrEqual(3);
    // (a keystroke whose healed prompt equals the last one's, such as a space token healing backs off, recomputes nothing new)
    expect(prefix.slice(1).filter((t) => recomputed(t) > suffixTokens).length).toBeGreaterThanOrEqual(3);
    // the typed tokens: the line so far (the byte-level vocabulary's ids: a few characters each at most)
    expect(contextAttrs(middle.at(-1)!).typedTokens).toBeGreaterThan(2);
    expect(contextAttrs(prefix.at(-1)!).typedTokens).toBeUndefined();
  });
});
