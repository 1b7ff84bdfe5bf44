/**
 * completion.timeBudgetMs through the in-process server with the FAKE engine (one character per
 * chunk, held after its first chunks): an automatic suggestion still generating when the budget
 * ends is answered with the text so far once it is worth showing; the generation runs on, and a
 * request typing through the early answer attaches to it, answered in turn at its own budget with
 * what lies beyond its text, or with the rest when the generation ends; the rest is background work that a
 * request for another document ends; an explicit request is never cut and never takes the cut
 * suggestion from the cache; 0 waits for the whole suggestion. Synchronised on engine events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InlineCompletionItem, InlineCompletionList } from 'vscode-languageserver-protocol';
import type { StatusResult, TracesResult } from '../../server/src/protocol.js';
import { FakeEngineHost, type FakeCall } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;
const uri = 'file:///work/a.ts';
const whole = 'total + sum(a, b);';
/** After 7 characters ("total +") the text is first worth showing (6 characters besides blanks). */
const SHOWN_AT = 7;
const invoked = { context: { triggerKind: 1 } };

async function start(timeBudgetMs: number, capabilities: Record<string, unknown> = {}, cache: Record<string, unknown> = {}): Promise<void> {
  engine = new FakeEngineHost();
  engine.respond = () => whole;
  pair = createPair({ engineHost: engine });
  await pair.initialize(capabilities, { completion: { debounceMs: 0, timeBudgetMs, alternatives: 1, minTokenProbability: 0 }, cache: { prefetch: false, ...cache } });
  await pair.open(uri, 'let a = \n', 'typescript', 1);
}
afterEach(() => pair.dispose());

/** Types `chars` at line 0, `character` (one version step). */
const type = (version: number, character: number, chars: string): Promise<void> =>
  pair.change(uri, version, [{ range: { start: { line: 0, character }, end: { line: 0, character } }, text: chars }]);
/**
 * An automatic request at the end of "let a = " that the engine, held after SHOWN_AT characters,
 * lets answer early (asserted), and the engine's call and release.
 */
async function answeredEarly(): Promise<{ release: () => void; call: FakeCall; item: InlineCompletionItem }> {
  const release = engine.hold(SHOWN_AT);
  const started = engine.nextStart();
  const first = pair.inline(uri, { line: 0, character: 8 });
  const call = await started;
  const item = (await first)?.items[0];
  expect(item?.insertText).toBe(whole.slice(0, SHOWN_AT));
  return { release, call, item: item! };
}
/**
 * A request at the end of "let a = " with the engine held after `afterChunks` characters, still
 * unanswered 30 ms on (well past a 1 ms budget), and the engine's release.
 */
async function heldUnanswered(afterChunks: number, extra: Record<string, unknown> = {}): Promise<{ release: () => void; first: Promise<InlineCompletionList | null> }> {
  const release = engine.hold(afterChunks);
  let answered = false;
  const first = pair.inline(uri, { line: 0, character: 8 }, extra).then((r) => ((answered = true), r));
  await engine.nextStart();
  await new Promise((r) => setTimeout(r, 30));
  expect(answered).toBe(false);
  return { release, first };
}
const traces = async (): Promise<TracesResult['traces']> => ((await pair.client.sendRequest('slipstream/traces', {})) as TracesResult).traces;
const status = (): Promise<unknown> => pair.client.sendRequest('slipstream/status', {});

describe('completion.timeBudgetMs', () => {
  it('answers with the text so far once the budget has passed; typing it through gets the rest from the same generation', async () => {
    await start(1);
    const { release, call } = await answeredEarly();
    expect(call.signal.aborted).toBe(false);
    const [t] = await traces();
    expect(t?.outcome).toBe('shown');
    expect(t?.spans?.children?.find((s) => s.name === 'postprocess')?.attrs).toMatchObject({ timeBudget: true });
    expect(t?.generatedTokens).toBe(SHOWN_AT);
    // the user accepts what is shown: the next request attaches to the running generation, which has nothing beyond it yet
    await type(2, 8, whole.slice(0, SHOWN_AT));
    const second = pair.inline(uri, { line: 0, character: 8 + SHOWN_AT });
    await status();
    release();
    // held again 7 characters on ("total + sum(a,"): past its own budget, the second request shows what lies beyond its text
    const again = engine.hold(2 * SHOWN_AT);
    expect((await second)?.items[0]?.insertText).toBe(whole.slice(SHOWN_AT, 2 * SHOWN_AT));
    // and typing that, the third waits for the end (" b);" is not worth showing alone) and gets the rest
    await type(3, 8 + SHOWN_AT, whole.slice(SHOWN_AT, 2 * SHOWN_AT));
    const third = pair.inline(uri, { line: 0, character: 8 + 2 * SHOWN_AT });
    await status();
    again();
    expect((await third)?.items[0]?.insertText).toBe(whole.slice(2 * SHOWN_AT));
    expect(engine.calls).toHaveLength(1);
    const all = await traces();
    expect(all.map((x) => [x.outcome, x.cacheHit])).toEqual([
      ['shown', 'none'],
      ['cached', 'attached'],
      ['cached', 'attached'],
    ]);
    expect(all.map((x) => x.spans?.children?.some((c) => c.attrs?.timeBudget === true))).toEqual([true, true, false]);
  });

  it('keeps the whole suggestion in the cache when the generation finishes after the early answer', async () => {
    await start(1);
    const { release } = await answeredEarly();
    release();
    // an explicit request at the same place waits for the generation (the same text and cursor), then takes the whole one
    expect((await pair.inline(uri, { line: 0, character: 8 }, invoked))?.items.map((i) => i.insertText)).toEqual([whole]);
    // typing through part of it is answered from the cache, without the engine
    await type(2, 8, 'total + s');
    expect((await pair.inline(uri, { line: 0, character: 17 }))?.items[0]?.insertText).toBe('um(a, b);');
    expect(engine.calls).toHaveLength(1);
  });

  it('runs the rest as background work: a request for another document ends it, and an explicit request then computes the whole one', async () => {
    await start(1);
    const { release, call } = await answeredEarly();
    await pair.open('file:///work/b.ts', 'let b = \n', 'typescript', 1);
    const otherStarted = engine.nextStart();
    const other = pair.inline('file:///work/b.ts', { line: 0, character: 8 });
    await otherStarted;
    expect(call.signal.aborted).toBe(true);
    release();
    await other;
    // the cut suggestion in the cache serves typing, not an explicit request
    expect((await pair.inline(uri, { line: 0, character: 8 }, invoked))?.items.map((i) => i.insertText)).toEqual([whole]);
    expect(engine.calls).toHaveLength(3);
  });

  it('ends the generation at the early answer when cache.enabled is off (nothing could use the rest)', async () => {
    await start(1, {}, { enabled: false });
    const { release, call } = await answeredEarly();
    expect(call.signal.aborted).toBe(true);
    release();
  });

  it('never cuts an explicit request', async () => {
    await start(1);
    const { release, first } = await heldUnanswered(SHOWN_AT, invoked);
    release();
    expect((await first)?.items.map((i) => i.insertText)).toEqual([whole]);
  });

  it('0: waits for the whole suggestion', async () => {
    await start(0);
    const { release, first } = await heldUnanswered(SHOWN_AT);
    release();
    expect((await first)?.items[0]?.insertText).toBe(whole);
  });

  it('waits past the budget until the text is worth showing', async () => {
    await start(1);
    const { release, first } = await heldUnanswered(SHOWN_AT - 1); // "total ": 5 characters besides blanks
    release();
    // released: the next chunk makes it worth showing, and it answers with whatever it has then
    const text = (await first)?.items[0]?.insertText as string;
    expect(text.length).toBeGreaterThanOrEqual(SHOWN_AT);
    expect(whole.startsWith(text)).toBe(true);
  });

  it('tells a client that asks for it when the whole suggestion behind an early answer is ready, and asking again there gets it', async () => {
    await start(1, { experimental: { slipstream: { suggestionFinished: true } } });
    const told: unknown[] = [];
    const finished = new Promise<void>((resolve) =>
      pair.client.onNotification('slipstream/suggestionFinished', (p) => {
        told.push(p);
        resolve();
      }),
    );
    const { release, item } = await answeredEarly();
    await pair.client.sendNotification('textDocument/didShowCompletion', { item });
    release();
    await finished;
    expect(told).toEqual([{ textDocument: { uri, version: 1 }, position: { line: 0, character: 8 } }]);
    const grown = (await pair.inline(uri, { line: 0, character: 8 }))?.items[0];
    expect(grown?.insertText).toBe(whole);
    expect(engine.calls).toHaveLength(1);
    // the user saw one suggestion grow: shown once
    await pair.client.sendNotification('textDocument/didShowCompletion', { item: grown });
    const s = (await status()) as StatusResult;
    expect(s.timeBudget).toEqual({ answered: 1, finished: 1 });
    expect(s.events.shown).toBe(1);
  });

  it('tells nothing when the document moved on, nor to a client that did not ask', async () => {
    for (const capabilities of [{ experimental: { slipstream: { suggestionFinished: true } } }, {}]) {
      await start(1, capabilities);
      const told: unknown[] = [];
      pair.client.onNotification('slipstream/suggestionFinished', (p) => {
        told.push(p);
      });
      const { release } = await answeredEarly();
      // the asking client edits elsewhere (no request): the generation goes on, the document has moved on
      if (capabilities.experimental) await pair.change(uri, 2, [{ range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: '// x' }]);
      await status(); // the edit is in when this is answered
      const ended = engine.nextEnd();
      release();
      await ended;
      await status(); // a notification sent when the generation ended would have arrived before this answer
      expect(told).toEqual([]);
      pair.dispose();
    }
  });
});
