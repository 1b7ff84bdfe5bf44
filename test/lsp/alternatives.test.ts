/**
 * completion.alternatives: an invoked inline completion (triggerKind 1) gets the usual suggestion
 * first, then up to N - 1 sampled ones (temperature 0.8, seeds 1, 2, ...), each distinct, each
 * with its own accept command; automatic requests get one. Alternatives are traced with trigger
 * 'alternative' and left out of the request figures; a newer request of the document stops them;
 * an accepted alternative is counted as one in slipstream/status. Each case runs twice: over an
 * engine that generates one at a time (the alternatives one after another) and over one that
 * decodes them together (one generateTogether call with a branch each: branch-batch.ts).
 * Over the FAKE engine, whose answer depends on the request's temperature and seed.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CompletionProvider } from '../../server/src/completion/provider.js';
import type { InlineCompletionList } from 'vscode-languageserver-protocol';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair;
let engine: FakeEngineHost;
const uri = 'file:///alt.ts';
const at = { line: 0, character: 8 };
const invoked = { context: { triggerKind: 1 } };
const texts = (list: InlineCompletionList | null) => list!.items.map((i) => i.insertText);

/** Whether the fake engine decodes the alternatives together (each describe.each case sets it). */
let together = false;

function newEngine(): FakeEngineHost {
  const e = new FakeEngineHost();
  e.respond = (_prompt, req) => (req.temperature === 0 ? 'greedy();' : `alt${req.seed}();`);
  e.together = together;
  return e;
}

async function start(settings: Record<string, unknown> = {}) {
  pair = createPair({ engineHost: engine });
  await pair.initialize({}, { completion: { debounceMs: 0, ...settings } });
  await pair.open(uri, 'let a = ');
}

beforeEach(() => {
  together = false;
  engine = newEngine();
});
afterEach(() => {
  vi.restoreAllMocks();
  pair.dispose();
});

describe.each([
  ['one after another', false],
  ['decoded together', true],
])('alternatives of an invoked completion (%s)', (_name, decodedTogether) => {
  beforeEach(() => {
    together = decodedTogether;
    engine = newEngine();
  });

  it('offers the usual suggestion first, then sampled ones with seeds 1 and 2, each with its own accept command', async () => {
    await start();
    const list = await pair.inline(uri, at, invoked);
    expect(texts(list)).toEqual(['greedy();', 'alt1();', 'alt2();']);
    // the alternatives decode plainly whatever the engine's mode, so a seed gives the same sample everywhere
    // decoded together: one generation with a branch for the first (greedy, plain: the same text) and one per alternative
    const firstAsked = together ? [0, 0, true] : [0, undefined, undefined];
    expect(engine.requests.map((r) => [r.temperature, r.seed, r.plainDecoding])).toEqual([firstAsked, [0.8, 1, true], [0.8, 2, true]]);
    expect(engine.togetherCalls).toEqual(together ? [3] : []);
    const ids = list!.items.map((i) => i.command!.arguments![0]);
    expect(new Set(ids).size).toBe(3);
    // one request in the figures; the alternatives are in the traces
    const status = (await pair.client.sendRequest('slipstream/status')) as { requests: { total: number; shown: number } };
    expect(status.requests).toMatchObject({ total: 1, shown: 1 });
    const { traces } = (await pair.client.sendRequest('slipstream/traces', {})) as { traces: { id: number; trigger: string; outcome: string }[] };
    // in the order they started (the invoked request's trace ends after its alternatives')
    expect(traces.sort((a, b) => a.id - b.id).map((t) => [t.trigger, t.outcome])).toEqual([['invoked', 'shown'], ['alternative', 'shown'], ['alternative', 'shown']]);
  });

  it("counts an accepted alternative's accept command as an accepted alternative, the first item's as accepted only", async () => {
    await start();
    const list = await pair.inline(uri, at, invoked);
    const events = async () => ((await pair.client.sendRequest('slipstream/status')) as { events: Record<string, number> }).events;
    // what VS Code runs on Tab after Alt+]: the cycled-to item's command
    await pair.client.sendRequest('workspace/executeCommand', list!.items[1]!.command);
    expect(await events()).toMatchObject({ accepted: 1, acceptedAlternatives: 1 });
    await pair.client.sendRequest('workspace/executeCommand', list!.items[0]!.command);
    expect(await events()).toMatchObject({ accepted: 2, acceptedAlternatives: 1 });
    // an automatic request's item is never an alternative
    await pair.client.sendRequest('workspace/executeCommand', (await pair.inline(uri, at))!.items[0]!.command);
    expect(await events()).toMatchObject({ accepted: 3, acceptedAlternatives: 1 });
  });

  it("keeps the invoked request's trace open through its alternatives: an alternatives stage, then respond", async () => {
    await start();
    await pair.inline(uri, at, invoked);
    await pair.inline(uri, { line: 0, character: 8 }); // an automatic one at the same spot (cached)
    type T = { trigger: string; startedAt: number; totalMs: number; stages: Record<string, number>; spans: { children: { name: string; attrs?: Record<string, unknown> }[] } };
    const { traces } = (await pair.client.sendRequest('slipstream/traces', {})) as { traces: T[] };
    const inv = traces.find((t) => t.trigger === 'invoked')!;
    const alts = traces.filter((t) => t.trigger === 'alternative');
    expect(alts).toHaveLength(2);
    expect(inv.spans.children.map((c) => c.name).slice(-3)).toEqual(['postprocess', 'alternatives', 'respond']);
    expect(inv.spans.children.find((c) => c.name === 'alternatives')!.attrs).toEqual({ asked: 2, offered: 2 });
    // the invoked request ends after its last alternative, and its alternatives stage covers them
    const last = Math.max(...alts.map((a) => a.startedAt + a.totalMs));
    expect(inv.startedAt + inv.totalMs).toBeGreaterThanOrEqual(last - 0.01);
    // one after another, the stage covers their sum; decoded together, they overlap
    const covered = together ? Math.max(...alts.map((a) => a.totalMs)) : alts.reduce((n, a) => n + a.totalMs, 0);
    expect(inv.stages.alternatives).toBeGreaterThanOrEqual(covered - 0.05);
    for (const t of traces.filter((x) => x.trigger !== 'invoked')) expect(t.stages.alternatives).toBeUndefined();
  });

  it('gives automatic requests one suggestion, and invoked ones one with alternatives 1', async () => {
    await start();
    expect(texts(await pair.inline(uri, at))).toEqual(['greedy();']);
    expect(engine.requests).toHaveLength(1);
    pair.dispose();
    engine = newEngine();
    await start({ alternatives: 1 });
    expect(texts(await pair.inline(uri, at, invoked))).toEqual(['greedy();']);
    expect(engine.requests).toHaveLength(1);
  });

  it('keeps only suggestions unlike those before them, and none from the suggestion cache', async () => {
    await start({ alternatives: 4 });
    engine.respond = (_prompt, req) => (req.temperature === 0 || req.seed === 1 ? 'greedy();' : req.seed === 2 ? 'alt();' : 'alt();');
    expect(texts(await pair.inline(uri, at, invoked))).toEqual(['greedy();', 'alt();']);
    expect(engine.requests).toHaveLength(4); // every alternative was computed, not answered from the cache
    // the cache holds the usual suggestion only: an automatic request at the same place gets it
    expect(texts(await pair.inline(uri, at))).toEqual(['greedy();']);
    expect(engine.requests).toHaveLength(4);
  });

  it('generates a sampled first suggestion (completion.temperature > 0) on its own, as an automatic request gets it', async () => {
    await start({ temperature: 0.5 });
    engine.respond = (_prompt, req) => (req.seed === undefined ? 'sampled();' : `alt${req.seed}();`);
    expect(texts(await pair.inline(uri, at, invoked))).toEqual(['sampled();', 'alt1();', 'alt2();']);
    // the first: a generation of its own in the engine's mode (not plain decoding); together, the
    // alternatives' generation leaves the first's seat empty
    const r = engine.requests[0]!;
    expect([r.temperature, r.seed, r.plainDecoding]).toEqual([0.5, undefined, undefined]);
    expect(engine.togetherCalls).toEqual(together ? [3] : []);
  });

  it('stops when a newer request of the document arrives, answering with what it has', async () => {
    await start();
    if (together) return stopsTogether();
    let release = (): void => {};
    // the usual suggestion's generation, then the first alternative's, which is held
    const alternativeStarted = engine
      .nextStart()
      .then(() => engine.nextStart())
      .then(() => (release = engine.hold()));
    const first = pair.inline(uri, at, invoked);
    await alternativeStarted;
    await typeAndAskAgain(first, () => release());
    expect(engine.requests.map((r) => r.seed)).toEqual([undefined, 1, undefined]); // no second alternative
    // the running alternative was stopped by the newer request (not run to its end, then found stale)
    expect(await alternativeOutcomes()).toEqual(['superseded']);
  });
});

/** The case above decoded together: the newer request arrives while the alternatives' branches run on after the first's ended. */
async function stopsTogether(): Promise<void> {
  engine.respond = (_prompt, req) => (req.temperature === 0 ? 'greedy();' : `alternative${req.seed}();`);
  // the generation waits after its 9th step: the first ('greedy();', 9 characters) is whole, the alternatives are not
  const release = engine.hold(9);
  // the alternatives hold the document once the first is answered, then take their seats (microtasks only)
  const holdDocument = CompletionProvider.prototype.holdDocument;
  const held = new Promise<void>((resolve) => {
    vi.spyOn(CompletionProvider.prototype, 'holdDocument').mockImplementation(function (this: CompletionProvider, key: string) {
      resolve();
      return holdDocument.call(this, key);
    });
  });
  const first = pair.inline(uri, at, invoked);
  await held;
  await new Promise((r) => setImmediate(r));
  await typeAndAskAgain(first, release);
  expect(engine.requests.map((r) => r.seed)).toEqual([0, 1, 2, undefined]);
  // both alternatives were under way and stopped by the newer request
  expect(await alternativeOutcomes()).toEqual(['superseded', 'superseded']);
}

/**
 * Typing at the cursor (not what the suggestion types: no cache hit), then a newer request of the
 * document reaching the engine while the alternatives are held there; `release` lets the engine go
 * on. The invoked request answers with its first suggestion only, the newer one with its own.
 */
async function typeAndAskAgain(first: Promise<InlineCompletionList | null>, release: () => void): Promise<void> {
  await pair.change(uri, 2, [{ range: { start: at, end: at }, text: 'x' }]);
  const newerStarted = engine.nextStart();
  const newer = pair.inline(uri, { line: 0, character: 9 });
  await newerStarted;
  release();
  expect(texts(await first)).toEqual(['greedy();']);
  expect(texts(await newer)).toEqual(['greedy();']);
}

async function alternativeOutcomes(): Promise<string[]> {
  const { traces } = (await pair.client.sendRequest('slipstream/traces', {})) as { traces: { trigger: string; outcome: string }[] };
  return traces.filter((t) => t.trigger === 'alternative').map((t) => t.outcome);
}

describe('alternatives on slipstream/complete', () => {
  type Complete = { items: { insertText: string; start: number; end: number }[] };
  const complete = (params: Record<string, unknown>): Promise<Complete> =>
    pair.client.sendRequest('slipstream/complete', { text: 'let a = ', offset: 8, uri: 'untitled:c', ...params }) as Promise<Complete>;

  it('gives one item unless asked, then up to `alternatives` distinct ones, whatever completion.alternatives says', async () => {
    await start({ alternatives: 1 });
    expect((await complete({})).items).toEqual([{ insertText: 'greedy();', start: 8, end: 8 }]);
    expect(engine.requests).toHaveLength(1);
    const r = await complete({ alternatives: 3 });
    expect(r.items.map((i) => [i.insertText, i.start, i.end])).toEqual([['greedy();', 8, 8], ['alt1();', 8, 8], ['alt2();', 8, 8]]);
    // the first from the suggestion cache, the two alternatives computed with seeds 1 and 2
    expect(engine.requests.map((q) => [q.temperature, q.seed])).toEqual([[0, undefined], [0.8, 1], [0.8, 2]]);
    engine.respond = (_prompt, req) => (req.temperature === 0 || req.seed === 2 ? 'greedy();' : 'alt();');
    expect((await complete({ uri: 'untitled:d', alternatives: 5 })).items.map((i) => i.insertText)).toEqual(['greedy();', 'alt();']);
  });

  it('refuses an alternatives count outside 1..5 with -32602', async () => {
    await start();
    for (const alternatives of [0, 6, 1.5, '2']) {
      await expect(complete({ alternatives })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('params.alternatives: expected an integer 1..5') });
    }
    expect(engine.requests).toHaveLength(0);
  });
});
