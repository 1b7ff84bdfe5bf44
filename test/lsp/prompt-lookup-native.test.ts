/**
 * Prompt lookup (engine.promptLookup) through the server on the real engine: the shipped model
 * loaded as a configured model (so without its drafter) and as the shipped pair. At load the host
 * times a forward of 1 + k rows against one row: the shipped model's forward is bound by
 * arithmetic, so its verdict is whatever this CPU measures, said in status. With that cost given
 * as a memory-bound model's (a FAKE measurement), prompt lookup runs: where the suggestion repeats
 * text of the document, the trace's decode rounds verify looked-up drafts (mode 'drafts') and
 * accept some of their tokens, and the suggestion is exactly the one prompt lookup off gives.
 * engine.mode "ar", the setting 0 and ReDrafter's rounds (the shipped pair) go without it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InlineCompletionList } from 'vscode-languageserver-protocol';
import { defaultModelDirs } from '../../server/src/completion/default-model.js';
import { NativeEngineHost } from '../../server/src/completion/native-engine-host.js';
import { LOOKUP_MAX_ROW_COST } from '../../server/src/completion/row-cost.js';
import { Logger } from '../../server/src/log.js';
import type { RequestTrace, StatusResult, TraceSpan } from '../../server/src/protocol.js';
import { fakeRowCost } from '../helpers/fake-row-cost.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';

let pair: LspPair | undefined;
afterEach(async () => {
  await pair?.client.sendRequest('shutdown');
  pair?.dispose();
  pair = undefined;
});

// Lines that repeat, so the continuation can copy what came before.
const TEXT = [
  'export interface Row { id: number; name: string; email: string }',
  '',
  'export function names(rows: Row[]): string[] {',
  '  return rows.map((row) => row.name);',
  '}',
  '',
  'export function emails(rows: Row[]): string[] {',
  '  return rows.map((row) => row.email);',
  '}',
  '',
  'export function ids(rows: Row[]): number[] {',
  '  return ',
].join('\n');

interface Answer {
  text: string;
  rounds: TraceSpan[];
  status: StatusResult;
}

/** FAKE: the row cost a memory-bound model measures (the 0.5B shape: 5 rows 1.1-1.3x one row). */
const cheapRows = fakeRowCost(1.3);

async function suggest(settings: Record<string, unknown>, rowCost?: typeof cheapRows): Promise<Answer> {
  pair = createPair(rowCost ? { engineHost: new NativeEngineHost(new Logger(() => {}), null, rowCost), ownsEngineHost: true } : {});
  await pair.initialize({}, { ...settings, completion: { debounceMs: 0, maxTokens: 40, timeBudgetMs: 0, minTokenProbability: 0 }, cache: { prefetch: false } });
  const uri = 'file:///work/rows.ts';
  await pair.open(uri, TEXT, 'typescript');
  const lines = TEXT.split('\n');
  const list = (await pair.inline(uri, { line: lines.length - 1, character: lines.at(-1)!.length })) as InlineCompletionList;
  const { traces } = (await pair.client.sendRequest('slipstream/traces', {})) as { traces: RequestTrace[] };
  const engine = traces.find((t) => t.spans?.children?.some((c) => c.name === 'decode'));
  const decode = engine?.spans?.children?.find((c) => c.name === 'decode');
  const status = (await pair.client.sendRequest('slipstream/status', {})) as StatusResult;
  await pair.client.sendRequest('shutdown');
  pair.dispose();
  pair = undefined;
  const item = list?.items[0];
  return { text: typeof item?.insertText === 'string' ? item.insertText : '', rounds: (decode?.children ?? []) as TraceSpan[], status };
}

const lookupAccepted = (rounds: TraceSpan[]): number => rounds.reduce((n, r) => n + Number(r.attrs?.lookupAccepted ?? 0), 0);
const modes = (rounds: TraceSpan[]): Set<unknown> => new Set(rounds.map((r) => r.attrs?.mode));

describe('prompt lookup on the real engine', () => {
  const shipped = defaultModelDirs();

  it("measures what its rows cost at load and says so in status", async () => {
    const measured = await suggest({ engine: { model: shipped.model, mode: 'auto' } });
    const lookup = measured.status.engine.lookup!;
    expect(lookup.tokens).toBe(4);
    const m = /a forward of 5 rows costs ([0-9.]+)x one row/.exec(lookup.reason);
    expect(m).not.toBeNull();
    expect(lookup.on).toBe(Number(m![1]) <= LOOKUP_MAX_ROW_COST);
    expect(modes(measured.rounds).has('drafts')).toBe(lookup.on);
  });

  it('without a drafter, where its rows are cheap: rounds of looked-up drafts, the same suggestion as with it off', async () => {
    const on = await suggest({ engine: { model: shipped.model, mode: 'auto' } }, cheapRows);
    expect(on.status.engine.drafter).toBeNull();
    expect(on.status.engine.lookup).toMatchObject({ tokens: 4, on: true });
    expect(on.text.length).toBeGreaterThan(0);
    expect(modes(on.rounds).has('drafts')).toBe(true);
    expect(lookupAccepted(on.rounds)).toBeGreaterThan(0);
    expect(on.status.engine.lookup!.accepted).toBeGreaterThanOrEqual(lookupAccepted(on.rounds));
    // fewer rounds than tokens: some rounds emitted several
    expect(on.rounds.length).toBeLessThan(on.rounds.reduce((n, r) => n + Number(r.attrs?.tokens ?? 0), 0));

    const off = await suggest({ engine: { model: shipped.model, mode: 'auto', promptLookup: 0 } }, cheapRows);
    expect(off.status.engine.lookup).toBeNull();
    expect(modes(off.rounds)).toEqual(new Set(['ar']));
    expect(off.text).toBe(on.text);

    const plain = await suggest({ engine: { model: shipped.model, mode: 'ar' } }, cheapRows);
    expect(plain.status.engine.lookup).toBeNull();
    expect(modes(plain.rounds)).toEqual(new Set(['ar']));
    expect(plain.text).toBe(on.text);
  });

  it('with the shipped drafter: ReDrafter rounds without looked-up drafts, the same suggestion', async () => {
    const rd = await suggest({ engine: { mode: 'redrafter' } }, cheapRows);
    expect(rd.status.engine.drafter).not.toBeNull();
    expect(rd.status.engine.lookup).toMatchObject({ on: false, reason: 'ReDrafter runs: its drafter drafts' });
    expect(modes(rd.rounds)).toEqual(new Set(['redrafter']));
    expect(lookupAccepted(rd.rounds)).toBe(0);
    const plain = await suggest({ engine: { mode: 'auto', model: shipped.model } }, cheapRows);
    expect(modes(plain.rounds).has('drafts')).toBe(true);
    expect(rd.text).toBe(plain.text);
  });
});
