/**
 * The typing scenarios both editor suites run, and their checks: type into a copy of a fixture
 * file, wait for the plugin to show a suggestion, ask a separate server `slipstream/complete` for
 * the same text and cursor, and expect the screen to show exactly that completion and the accept
 * key to write exactly it. Which scenario exercises what is said next to each.
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

/** Where the cursor should be after accepting: just after the inserted text. */
function cursorAfter(text: string, start: number, insert: string): { row: number; col: number } {
  const before = (text.slice(0, start) + insert).split(/\r\n|\n|\r/);
  return { row: before.length - 1, col: Buffer.byteLength(before.at(-1)!, 'utf8') };
}

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
  checkDecorations?: (shown: Snapshot, expectedLines: string[], insertText: string) => void,
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
  const rows = expectedScreen(after, shown.row, ref.insertText, shown.tabstop);
  // (a) the screen shows exactly the completion: the cursor line as it will read, then its
  // following lines, and after them the buffer's next line (or '~' past the end)
  expect(shown.screen.slice(0, rows.length), `${editor.name} screen from the cursor line`).toEqual(rows);
  const next = shown.row + 1 < shown.lines.length ? displayed(shown.lines[shown.row + 1]!, shown.tabstop) : '~';
  expect(shown.screen[rows.length]).toBe(next);
  checkDecorations?.(shown, after, ref.insertText);

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
