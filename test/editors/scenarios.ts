/**
 * The typing scenarios both editor suites run, and their checks: type into a copy of a fixture
 * file, wait for the plugin to show a suggestion, ask a separate server `slipstream/complete` for
 * the same text and cursor, and expect the screen to show exactly that completion and the accept
 * key to write exactly it. Which scenario exercises what is said next to each. The cycling
 * scenarios do the same for the alternatives of an invoked request, which the reference server
 * gives through textDocument/inlineCompletion, with the next and previous keys.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { repoRoot } from '../helpers/paths.js';
import type { RpcClient } from '../helpers/spawn-server.js';
import { cursorOffset, displayed, documentText, expectedScreen, linesAfter, openFile, type EditorSession, type Snapshot } from './editor-session.js';

export interface Scenario {
  name: string;
  /** How the copy of fixtures/workspace/src/stats.ts is written. */
  file: 'lf' | 'crlf' | 'tabs';
  /** Lines added at the end of the file before typing (set up, not typed). */
  append: string[];
  /** Typed from Normal mode. */
  keys: string;
}

const HEADER = 'export function median(values: number[]): number {';

export const SCENARIOS: Scenario[] = [
  // at the end of a line: a multi-line suggestion (the cursor line, then virtual lines)
  { name: 'multi-line suggestion at the end of a line', file: 'lf', append: [HEADER], keys: 'Go  if (' },
  // mid-line, before a ")": the item's range replaces the rest of the line; a 4-byte character
  // (2 UTF-16 code units) before the cursor tests the column conversions both ways
  { name: 'mid-line suggestion replacing the rest of a line with a non-ASCII character before the cursor', file: 'lf', append: [HEADER], keys: 'Go  const 𝒳 = 1; if ()<Left>' },
  // a CRLF file: the server's lines end in "\n", the buffer keeps its own line ending
  { name: 'CRLF file', file: 'crlf', append: [], keys: 'Goexport function ' },
  // tab-indented file: virtual lines that start with tabs
  { name: 'tab-indented file', file: 'tabs', append: ['export function sum(values: number[]): number {', '\tlet s = 0;'], keys: 'Go\tfor (const v of values) ' },
];

/**
 * Where the cycling test runs: spots where the shipped model offers at least two distinct
 * suggestions to an invoked request (3 at both, 2026-12-06), one at the end of a line (multi-line
 * alternatives) and one mid-line (the first replaces the rest of the line, the others do not).
 */
export const CYCLE_SCENARIOS: Scenario[] = [SCENARIOS[0]!, SCENARIOS[1]!];

/**
 * The server settings of the cycling test, for the editor's server and its reference alike: the
 * defaults (engine.mode "auto"). Alternatives always decode plainly, so the two servers draw the
 * same samples whichever decoding mode auto's calibration chose for each (before they did not: at
 * the first spot, three different second items in eight fresh servers, 2026-12-06).
 */
export const CYCLE_SETTINGS = {};

/** A scratch copy of the fixture file in the scenario's form; returns its path. */
export function scratchFile(dir: string, form: Scenario['file']): string {
  let text = readFileSync(join(repoRoot, 'fixtures', 'workspace', 'src', 'stats.ts'), 'utf8');
  if (form === 'crlf') text = text.replace(/\n/g, '\r\n');
  if (form === 'tabs') text = text.replace(/^( {2})+/gm, (indent) => '\t'.repeat(indent.length / 2));
  const path = join(dir, `stats-${form}.ts`);
  writeFileSync(path, text);
  return path;
}

export function scratchDir(editor: string): string {
  return mkdtempSync(join(tmpdir(), `slipstream-${editor}-`));
}

let referenceCalls = 0;

/** `slipstream/complete` from the reference server for the buffer and cursor of `snap`. */
export async function referenceCompletion(reference: RpcClient, snap: Snapshot): Promise<{ text: string; offset: number; insertText: string; start: number; end: number }> {
  const text = documentText(snap);
  const offset = cursorOffset(snap);
  // a fresh engine session per call, as the editor's server has for a newly opened file
  const result = await reference.request('slipstream/complete', { text, offset, languageId: 'typescript', uri: `editors-test:${++referenceCalls}` });
  expect(result.items, `slipstream/complete for ${JSON.stringify(text.slice(offset - 60, offset))}|`).toHaveLength(1);
  return { text, offset, ...result.items[0] };
}

/** Waits for the response to the request made after typing; expects a suggestion shown. */
export async function waitForSuggestion(editor: EditorSession, since: number): Promise<void> {
  // a response for a text the buffer no longer has ('stale') is followed by the newer request's
  for (let mark = since; ; ) {
    await editor.events.waitFor('SlipstreamResponse', mark, 20_000, 'the server loads the 11 MB model and answers in well under a second');
    mark = editor.events.mark();
    const state = await editor.pluginState();
    if (state.last?.outcome !== 'stale') {
      expect(state.last, `${editor.name}: outcome of the request after typing`).toMatchObject({ outcome: 'shown' });
      return;
    }
  }
}

/** A suggestion as the reference server answers it: its text and the range it replaces (UTF-16 offsets of the document). */
export interface ReferenceItem {
  insertText: string;
  start: number;
  end: number;
}

let referenceDocs = 0;

/**
 * The suggestions the plugin should offer at the cursor of `snap` once it has asked for
 * alternatives, from the reference server over LSP: the document opened there (and closed after,
 * so that it adds no snippets to later prompts), an automatic textDocument/inlineCompletion as
 * the editor's server had, then an invoked one; the automatic item first, then the invoked
 * answer's items not already there (same text and range), as the plugin keeps them.
 */
export async function referenceAlternatives(reference: RpcClient, snap: Snapshot): Promise<{ text: string; offset: number; items: ReferenceItem[] }> {
  const text = documentText(snap);
  const offset = cursorOffset(snap);
  const character = Buffer.from(snap.lines[snap.row]!, 'utf8').subarray(0, snap.col).toString('utf8').length;
  const lineStart = offset - character;
  const uri = `file:///editors-test/cycle-${++referenceDocs}.ts`;
  reference.open(uri, text, 'typescript');
  const ask = async (triggerKind: number): Promise<ReferenceItem[]> => {
    const list = await reference.request('textDocument/inlineCompletion', { textDocument: { uri }, position: { line: snap.row, character }, context: { triggerKind } });
    return list.items.map((i: { insertText: string; range: { start: { line: number; character: number }; end: { line: number; character: number } } }) => {
      expect(i.range.start).toEqual({ line: snap.row, character });
      expect(i.range.end.line).toBe(snap.row);
      return { insertText: i.insertText, start: offset, end: lineStart + i.range.end.character };
    });
  };
  try {
    const automatic = await ask(2);
    expect(automatic, `the automatic suggestion for ${JSON.stringify(text.slice(offset - 60, offset))}|`).toHaveLength(1);
    const items = [automatic[0]!];
    for (const item of await ask(1)) {
      if (!items.some((i) => i.insertText === item.insertText && i.end === item.end)) items.push(item);
    }
    return { text, offset, items };
  } finally {
    reference.notify('textDocument/didClose', { textDocument: { uri } });
  }
}

/** Where the cursor should be after accepting: just after the inserted text. */
function cursorAfter(text: string, start: number, insert: string): { row: number; col: number } {
  const before = (text.slice(0, start) + insert).split(/\r\n|\n|\r/);
  return { row: before.length - 1, col: Buffer.byteLength(before.at(-1)!, 'utf8') };
}

/**
 * Expects the screen of `shown` to show exactly the suggestion `insertText`: the cursor line as it
 * will read (`after`: the buffer's lines after accepting, with a label such as " (2/3)" at the
 * end of the suggestion's last line when there is one), then its following lines, and after them
 * the buffer's next line (or '~' past the end).
 */
function expectOnScreen(editor: EditorSession, shown: Snapshot, after: string[], insertText: string, checkDecorations?: CheckDecorations): void {
  const rows = expectedScreen(after, shown.row, insertText, shown.tabstop);
  expect(shown.screen.slice(0, rows.length), `${editor.name} screen from the cursor line`).toEqual(rows);
  const next = shown.row + 1 < shown.lines.length ? displayed(shown.lines[shown.row + 1]!, shown.tabstop) : '~';
  expect(shown.screen[rows.length]).toBe(next);
  checkDecorations?.(shown, after, insertText);
}

/** The editor's own readback of the suggestion shown (Neovim: its extmark), next to the screen. */
export type CheckDecorations = (shown: Snapshot, expectedLines: string[], insertText: string) => void;

export interface ScenarioResult {
  shown: Snapshot;
  expectedLines: string[];
  insertText: string;
  ms: { typedToShown: number; accept: number };
}

/**
 * Types the scenario, checks what is shown against slipstream/complete, accepts, and checks the
 * buffer. `checkDecorations` adds the editor's own readback (Neovim: the extmarks).
 */
export async function runScenario(
  editor: EditorSession,
  reference: RpcClient,
  scenario: Scenario,
  dir: string,
  checkDecorations?: CheckDecorations,
): Promise<ScenarioResult> {
  await openFile(editor, scratchFile(dir, scenario.file));
  if (scenario.append.length > 0) await editor.append(scenario.append);
  let since = editor.events.mark();
  const t0 = performance.now();
  await editor.type(scenario.keys);
  await waitForSuggestion(editor, since);
  const typedToShown = performance.now() - t0;
  const shown = await editor.snapshot();
  expect(shown.mode).toBe('i');

  const ref = await referenceCompletion(reference, shown);
  expect(ref.start).toBe(ref.offset);
  const after = linesAfter(ref.text, ref.start, ref.end, ref.insertText, shown.eol);
  // (a) the screen shows exactly the completion
  expectOnScreen(editor, shown, after, ref.insertText, checkDecorations);

  // (b) the accept key writes exactly it, and leaves the cursor after it
  since = editor.events.mark();
  const t1 = performance.now();
  await editor.type('<C-l>');
  await editor.events.waitFor('SlipstreamAccepted', since, 5_000, 'accepting is a local buffer edit');
  const accept = performance.now() - t1;
  const accepted = await editor.snapshot();
  expect(accepted.lines).toEqual(after);
  expect({ row: accepted.row, col: accepted.col }).toEqual(cursorAfter(ref.text, ref.start, ref.insertText));
  const status = await editor.status();
  // the server heard both (a new suggestion may already be shown after the accept)
  expect(status.events.accepted).toBe(1);
  expect(status.events.shown).toBeGreaterThanOrEqual(1);
  return { shown, expectedLines: after, insertText: ref.insertText, ms: { typedToShown, accept } };
}

/** Opens the scenario's file and types its keys; resolves with the snapshot once a suggestion is shown. */
async function typeScenario(editor: EditorSession, scenario: Scenario, dir: string): Promise<Snapshot> {
  await openFile(editor, scratchFile(dir, scenario.file));
  if (scenario.append.length > 0) await editor.append(scenario.append);
  const since = editor.events.mark();
  await editor.type(scenario.keys);
  await waitForSuggestion(editor, since);
  const shown = await editor.snapshot();
  expect(shown.mode).toBe('i');
  return shown;
}

export interface CycleResult {
  /** The texts offered, in the order the next key shows them. */
  texts: string[];
}

/**
 * Types the scenario and, with its automatic suggestion on screen, cycles through the
 * alternatives: the next key (<M-]>) asks the server for them and shows the second (the first
 * stays on screen meanwhile: nothing is cleared), then the previous and next keys (<M-[>) move
 * round the list without asking again; each time the screen must show exactly that item,
 * labelled "(k/n)", with the list the reference server gives. Accepting then writes the item
 * shown (its own range), and the server counts it accepted.
 */
export async function runCycleScenario(editor: EditorSession, reference: RpcClient, scenario: Scenario, dir: string, checkDecorations?: CheckDecorations): Promise<CycleResult> {
  const shown = await typeScenario(editor, scenario, dir);
  const ref = await referenceAlternatives(reference, shown);
  const n = ref.items.length;
  expect(n, `distinct suggestions the shipped model offers here: ${JSON.stringify(ref.items.map((i) => i.insertText))}`).toBeGreaterThanOrEqual(2);

  /** The buffer's lines after accepting item k (1-based), and as shown: the label at the end of the suggestion. */
  const expected = (k: number, labelled: boolean): string[] => {
    const item = ref.items[k - 1]!;
    const after = linesAfter(ref.text, item.start, item.end, item.insertText, shown.eol);
    if (labelled) after[shown.row + item.insertText.split(/\r\n|\n|\r/).length - 1] += ` (${k}/${n})`;
    return after;
  };
  /** Expects item k on screen, the buffer and cursor as they were, and the plugin saying so. */
  const expectItem = async (k: number, count: number): Promise<void> => {
    const snap = await editor.snapshot();
    expect({ lines: snap.lines, row: snap.row, col: snap.col, mode: snap.mode }).toEqual({ lines: shown.lines, row: shown.row, col: shown.col, mode: 'i' });
    expectOnScreen(editor, snap, expected(k, count > 1), ref.items[k - 1]!.insertText, checkDecorations);
    expect((await editor.pluginState()).suggestion).toMatchObject({ text: ref.items[k - 1]!.insertText, index: k, count });
  };
  /** Presses `key` and waits until a suggestion is shown; returns the events in between. */
  const press = async (key: string, timeoutMs: number, why: string): Promise<string[]> => {
    const since = editor.events.mark();
    await editor.type(key);
    await editor.events.waitFor('SlipstreamShown', since, timeoutMs, why);
    return editor.events.since(since);
  };

  // the automatic suggestion: one item, no label
  await expectItem(1, 1);
  const requests = (await editor.status()).requests.total;

  // next: one invoked request; its answer shows the second item, the first never cleared meanwhile
  expect(await press('<M-]>', 20_000, 'an invoked request with alternatives takes well under a second')).toEqual(['SlipstreamRequest', 'SlipstreamResponse', 'SlipstreamShown']);
  await expectItem(2, n);
  // previous, previous (round to the last), next (round to the first), next: no request
  for (const [key, k] of [['<M-[>', 1], ['<M-[>', n], ['<M-]>', 1], ['<M-]>', 2]] as const) {
    expect(await press(key, 5_000, 'cycling through the items at hand is local')).toEqual(['SlipstreamShown']);
    await expectItem(k, n);
  }
  expect((await editor.status()).requests.total, 'requests the server counted while cycling').toBe(requests + 1);

  // accept: the second item, with its own range, and the cursor after it
  const since = editor.events.mark();
  await editor.type('<C-l>');
  await editor.events.waitFor('SlipstreamAccepted', since, 5_000, 'accepting is a local buffer edit');
  const accepted = await editor.snapshot();
  const second = ref.items[1]!;
  expect(accepted.lines).toEqual(expected(2, false));
  expect({ row: accepted.row, col: accepted.col }).toEqual(cursorAfter(ref.text, second.start, second.insertText));
  const status = await editor.status();
  // the server heard the accept, and was told of each item shown (1, 2 and n; a new automatic
  // suggestion may already be shown after the accept)
  expect(status.events.accepted).toBe(1);
  expect(status.events.shown).toBeGreaterThanOrEqual(new Set([1, 2, n]).size);
  return { texts: ref.items.map((i) => i.insertText) };
}
