/**
 * Retention through the in-process server with a fake engine and a hand-driven clock: what stays
 * of accepted items 30 s and 5 min after the accept, in slipstream/status events.retention, for an
 * accept after or before the didChange that inserts the item, one after edits above the cursor, a
 * partial accept, a document closed before the checkpoints, and an accept whose text never appears.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InlineCompletionItem } from 'vscode-languageserver-protocol';
import type { RetentionStatus, StatusResult } from '../../server/src/protocol.js';
import { FakeEngineHost } from '../helpers/fake-engine.js';
import { createPair, type LspPair } from '../helpers/lsp-pair.js';
import { ManualSchedule } from '../helpers/manual-schedule.js';

let pair: LspPair;
let engine: FakeEngineHost;
let clock: ManualSchedule;
const uri = 'file:///work/a.ts';

beforeEach(async () => {
  engine = new FakeEngineHost();
  engine.respond = () => 'b + 1;';
  clock = new ManualSchedule();
  pair = createPair({ engineHost: engine, retentionSchedule: clock.schedule });
  await pair.initialize({}, { completion: { debounceMs: 0 } });
});
afterEach(() => pair.dispose());

async function retention(): Promise<RetentionStatus> {
  return ((await pair.client.sendRequest('slipstream/status')) as StatusResult).events.retention;
}
/** Figures per checkpoint as [items, acceptedChars, retainedChars]. */
async function figures(): Promise<number[][]> {
  return (await retention()).checkpoints.map((c) => [c.items, c.acceptedChars, c.retainedChars]);
}
type Figures = [items: number, acceptedChars: number, retainedChars: number];
/** An events.retention with these figures at the 30 s and the 5 min checkpoint. */
function retentionOf(at30s: Figures, at5min: Figures, untracked: number, tracking: number): RetentionStatus {
  const checkpoint = (afterSeconds: number, [items, acceptedChars, retainedChars]: Figures) => ({ afterSeconds, items, acceptedChars, retainedChars });
  return { checkpoints: [checkpoint(30, at30s), checkpoint(300, at5min)], untracked, tracking };
}
/** Moves the clock once the server has handled everything sent before (a request answers after them). */
async function advance(ms: number): Promise<void> {
  await retention();
  clock.advance(ms);
}
const at = (line: number, character: number) => ({ line, character });
const insert = (line: number, character: number, text: string) => ({ range: { start: at(line, character), end: at(line, character) }, text });
const remove = (line: number, from: number, to: number) => ({ range: { start: at(line, from), end: at(line, to) }, text: '' });
const accept = (item: InlineCompletionItem) => pair.client.sendRequest('workspace/executeCommand', item.command);

async function offer(): Promise<InlineCompletionItem> {
  await pair.open(uri, 'const a = \nconst z = 2;\n');
  const item = (await pair.inline(uri, at(0, 10)))!.items[0]!;
  expect(item.insertText).toBe('b + 1;');
  return item;
}

describe('retention of accepted suggestions', () => {
  it('counts the accepted characters still there 30 s and 5 min after the accept', async () => {
    const item = await offer();
    await pair.change(uri, 2, [insert(0, 10, 'b + 1;')]);
    await accept(item);
    expect(await retention()).toEqual(retentionOf([0, 0, 0], [0, 0, 0], 0, 1));
    // 'const a = b + 1;' → 'const a = b;' (' + 1' deleted) with typing before and inside it
    await pair.change(uri, 3, [remove(0, 11, 15), insert(0, 0, '/* */ ')]);
    await pair.change(uri, 4, [insert(0, 17, 'c')]); // 'const a = bc;': not accepted text
    await advance(30_000);
    expect(await figures()).toEqual([[1, 6, 2], [0, 0, 0]]);
    // the whole line replaced by a full-text change: nothing left at 5 min
    await pair.change(uri, 5, [{ text: 'const a = 0\nconst z = 2;\n' }]);
    await advance(270_000);
    expect(await figures()).toEqual([[1, 6, 2], [1, 6, 0]]);
    expect((await retention()).tracking).toBe(0);
  });

  it('finds the text when the accept arrives before the didChange that writes it', async () => {
    const item = await offer();
    await accept(item);
    expect((await retention()).tracking).toBe(0); // not there yet
    await pair.change(uri, 2, [insert(1, 0, '// ')]); // elsewhere, after it: looked again, still not there
    await pair.change(uri, 3, [insert(0, 10, 'b + 1;')]);
    expect((await retention()).tracking).toBe(1);
    await pair.change(uri, 4, [remove(0, 15, 16)]); // ';' deleted
    await advance(300_000);
    expect(await figures()).toEqual([[1, 6, 5], [1, 6, 5]]);
    expect((await retention()).untracked).toBe(0);
  });

  it('finds the text when the document was edited before the cursor between the offer and the accept', async () => {
    const item = await offer();
    // another edit above the cursor (a second cursor, a formatter, an import added) moves it on
    await pair.change(uri, 2, [insert(0, 0, '// x\n'), insert(1, 0, '/* */ ')]);
    await pair.change(uri, 3, [insert(1, 16, 'b + 1;')]);
    await accept(item);
    expect(await retention()).toEqual(retentionOf([0, 0, 0], [0, 0, 0], 0, 1));
    await advance(30_000);
    expect(await figures()).toEqual([[1, 6, 6], [0, 0, 0]]);
    expect((await retention()).untracked).toBe(0);
  });

  it('a partial accept counts its accepted length', async () => {
    const item = await offer();
    await pair.change(uri, 2, [insert(0, 10, 'b +')]);
    await pair.client.sendNotification('textDocument/didPartiallyAcceptCompletion', { item, acceptedLength: 3 });
    await pair.change(uri, 3, [insert(0, 13, ' 2;')]); // typed on by hand: not accepted text
    await pair.change(uri, 4, [remove(0, 10, 11)]); // 'b' deleted
    await advance(30_000);
    expect(await figures()).toEqual([[1, 3, 2], [0, 0, 0]]);
  });

  it('a document closed before the checkpoints gives them the figures at close', async () => {
    const item = await offer();
    await pair.change(uri, 2, [insert(0, 10, 'b + 1;')]);
    await accept(item);
    await pair.change(uri, 3, [remove(0, 10, 12)]); // 'b ' deleted
    await pair.client.sendNotification('textDocument/didClose', { textDocument: { uri } });
    expect(await retention()).toEqual(retentionOf([1, 6, 4], [1, 6, 4], 0, 0));
    expect(clock.pending).toBe(0);
  });

  it('an accept whose text never appears is untracked after a few seconds', async () => {
    const item = await offer();
    await accept(item);
    await pair.change(uri, 2, [insert(0, 10, 'b - 1;')]); // something else written there
    await advance(4_999);
    expect((await retention()).untracked).toBe(0);
    await advance(1);
    await pair.change(uri, 3, [remove(0, 10, 16), insert(0, 10, 'b + 1;')]); // too late
    await advance(300_000);
    expect(await retention()).toEqual(retentionOf([0, 0, 0], [0, 0, 0], 1, 0));
  });
});
