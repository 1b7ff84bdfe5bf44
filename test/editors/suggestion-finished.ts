/**
 * The slipstream/suggestionFinished checks the Neovim and Vim suites share (neovim.test.ts,
 * vim.test.ts): with a time budget of 1 ms the plugin's automatic request is answered early, and
 * the ghost text grows to the whole suggestion, with no keystroke, once the server says it is
 * finished (the plugin asks again and shows the answer); and the plugin ignores the notification
 * where it no longer fits (another version, position or document, a dismissed suggestion),
 * delivered straight to its handler. Each editor says how to reach its plugin (FinishedHooks).
 */
import { expect } from 'vitest';
import type { RequestTrace } from '../../server/src/protocol.js';
import type { RpcClient } from '../helpers/spawn-server.js';
import { expectedScreen, linesAfter, openFile, type EditorSession, type Snapshot } from './editor-session.js';
import { referenceCompletion, SCENARIOS, scratchFile, waitForSuggestion } from './scenarios.js';

/** The server settings of the early-answer test: every automatic suggestion is cut at the first text worth showing. */
export const EARLY_SETTINGS = { completion: { timeBudgetMs: 1 } };

/** What the checks need of an editor beyond EditorSession. */
export interface FinishedHooks {
  /** The document version the plugin last sent for the current buffer. */
  version(): Promise<number>;
  /** The current buffer's URI as the plugin sends it. */
  uri(): Promise<string>;
  /** The params of the textDocument/inlineCompletion requests the plugin sent so far, in order. */
  asked(): Promise<any[]>;
  /** slipstream/traces from the editor's own server, through the plugin. */
  traces(): Promise<RequestTrace[]>;
  /** Calls the plugin's slipstream/suggestionFinished handler with `params`, as if the server had sent them; resolves once it returned. */
  deliver(params: unknown): Promise<void>;
}

/** The text of the suggestion the plugin shows ('' for none). */
async function shownText(editor: EditorSession): Promise<string> {
  return (await editor.pluginState()).suggestion?.text ?? '';
}

/** Whether a trace's postprocess or cache stage says it answered at the time budget. */
function answeredEarly(t: RequestTrace): boolean {
  return t.spans?.children?.some((c) => (c.name === 'postprocess' || c.name === 'cache') && c.attrs?.timeBudget === true) ?? false;
}

/**
 * Types the first scenario (the start of a block body after "if (": a multi-line suggestion) in an
 * editor whose server has EARLY_SETTINGS; once a suggestion is shown, waits (on the plugin's
 * SlipstreamShown events, no keystroke) until the suggestion shown is the whole one that
 * slipstream/complete gives for that text and cursor. Then expects: the server answered the
 * plugin's first request there early (its trace says timeBudget) and a second automatic one at
 * the same version from its cache ('typing'), the plugin sent exactly those two requests there
 * (automatic, the same position) and the screen shows the whole suggestion; the accept key writes
 * it. Returns the snapshot with the whole suggestion shown, its text and the buffer's lines after
 * accepting it.
 */
export async function runGrowsToWhole(editor: EditorSession, hooks: FinishedHooks, reference: RpcClient, dir: string): Promise<{ shown: Snapshot; insertText: string; expectedLines: string[] }> {
  const scenario = SCENARIOS[0]!;
  await openFile(editor, scratchFile(dir, scenario.file));
  await editor.append(scenario.append);
  const typed = editor.events.mark();
  await editor.type(scenario.keys);
  await waitForSuggestion(editor, typed);
  const first = await editor.snapshot();
  expect(first.mode).toBe('i');
  const ref = await referenceCompletion(reference, first);
  const whole = ref.insertText;

  // the suggestion shown grows to the whole one by itself: each SlipstreamShown is a new answer
  const deadline = Date.now() + 30_000; // the rest of a 48-token suggestion takes well under a second
  for (;;) {
    const mark = editor.events.mark();
    if ((await shownText(editor)) === whole) break;
    const left = deadline - Date.now();
    const why = `the server finishes the suggestion in the background and says so; the plugin asks again and shows the whole ${JSON.stringify(whole)} (shown: ${JSON.stringify(await shownText(editor))})`;
    if (left <= 0) throw new Error(`${editor.name}: ${why}: not within 30 s`);
    await editor.events.waitFor('SlipstreamShown', mark, left, why);
  }
  const shown = await editor.snapshot();
  expect({ lines: shown.lines, row: shown.row, col: shown.col, mode: shown.mode }, 'no keystroke since').toEqual({ lines: first.lines, row: first.row, col: first.col, mode: 'i' });
  const after = linesAfter(ref.text, ref.start, ref.end, whole, shown.eol);
  const rows = expectedScreen(after, shown.row, whole, shown.tabstop);
  expect(shown.screen.slice(0, rows.length), `${editor.name} screen from the cursor line`).toEqual(rows);

  // the server: an early answer, then the whole suggestion from its cache, both for this version
  const version = await hooks.version();
  const uri = await hooks.uri();
  const traces = (await hooks.traces()).filter((t) => t.uri === uri && t.version === version && t.trigger === 'automatic');
  const summary = JSON.stringify(traces.map((t) => ({ outcome: t.outcome, cacheHit: t.cacheHit, early: answeredEarly(t) })));
  expect(traces.map((t) => [t.outcome, answeredEarly(t)]), `the traces at version ${version}: ${summary}`).toEqual([
    ['shown', true],
    ['cached', false],
  ]);
  expect(traces[1]!.cacheHit).toBe('typing');
  // the plugin: two automatic requests at the cursor, the second with no keystroke before it
  // (the scenario's line is ASCII: the byte column is the LSP character in either encoding)
  const here = (await hooks.asked()).filter((p) => p.position.line === shown.row && p.position.character === shown.col);
  expect(here.map((p) => p.context), 'the requests at the cursor').toEqual([{ triggerKind: 2 }, { triggerKind: 2 }]);

  // the whole suggestion is an ordinary one: the accept key writes it
  const since = editor.events.mark();
  await editor.type('<C-l>');
  await editor.events.waitFor('SlipstreamAccepted', since, 5_000, 'accepting is a local buffer edit');
  expect((await editor.snapshot()).lines).toEqual(after);
  return { shown, insertText: whole, expectedLines: after };
}

/**
 * With a suggestion shown after typing (the first scenario, then one more character): delivers
 * slipstream/suggestionFinished for the version and position before that character, for the
 * current version at the old position, for the old version at the current position, for another
 * document, and malformed ones: no request, no event, the suggestion stays. Then for the current
 * version and position: an automatic request there, its answer shown (the handler does act, so the
 * above are real refusals). Then, the suggestion dismissed, the same notification: nothing.
 */
export async function runIgnoresStale(editor: EditorSession, hooks: FinishedHooks, dir: string): Promise<void> {
  const scenario = SCENARIOS[0]!; // ASCII only: byte columns are LSP characters
  await openFile(editor, scratchFile(dir, scenario.file));
  await editor.append(scenario.append);
  let since = editor.events.mark();
  await editor.type(scenario.keys);
  await waitForSuggestion(editor, since);
  const before = await editor.snapshot();
  const old = { version: await hooks.version(), position: { line: before.row, character: before.col } };
  since = editor.events.mark();
  await editor.type('v'); // the user typed since: a new request and suggestion
  await waitForSuggestion(editor, since);
  const snap = await editor.snapshot();
  expect(snap.lines[snap.row]).toBe(`${before.lines[before.row]}v`);
  const now = { version: await hooks.version(), position: { line: snap.row, character: snap.col } };
  expect(now.version).not.toBe(old.version);
  const uri = await hooks.uri();
  const shown = (await editor.pluginState()).suggestion;
  expect(shown?.text).toBeTruthy();

  const stale: [string, unknown][] = [
    ['the version and position before the keystroke', { textDocument: { uri, version: old.version }, position: old.position }],
    ['the version before the keystroke', { textDocument: { uri, version: old.version }, position: now.position }],
    ['another position', { textDocument: { uri, version: now.version }, position: old.position }],
    ['another document', { textDocument: { uri: `${uri}.other`, version: now.version }, position: now.position }],
    ['no params', null],
    ['malformed params', { textDocument: 'x', position: 3 }],
    ['a version that is not a number', { textDocument: { uri, version: String(now.version) }, position: now.position }],
  ];
  const requests = (await hooks.asked()).length;
  for (const [what, params] of stale) {
    since = editor.events.mark();
    await hooks.deliver(params);
    expect(editor.events.since(since), `events after a notification for ${what}`).toEqual([]);
    expect(await hooks.asked(), `requests after a notification for ${what}`).toHaveLength(requests);
    expect((await editor.pluginState()).suggestion, `the suggestion after a notification for ${what}`).toEqual(shown);
  }

  // the one that fits: asks again (automatic, at the cursor) and shows the answer
  since = editor.events.mark();
  await hooks.deliver({ textDocument: { uri, version: now.version }, position: now.position });
  await waitForSuggestion(editor, since);
  expect(editor.events.since(since).slice(0, 3)).toEqual(['SlipstreamRequest', 'SlipstreamResponse', 'SlipstreamShown']);
  const asked = (await hooks.asked()).slice(requests);
  expect(asked.map((p) => [p.position, p.context])).toEqual([[now.position, { triggerKind: 2 }]]);

  // dismissed: nothing to grow
  since = editor.events.mark();
  await editor.type('<C-]>');
  await editor.events.waitFor('SlipstreamCleared', since, 5_000, 'dismissing is local');
  since = editor.events.mark();
  await hooks.deliver({ textDocument: { uri, version: now.version }, position: now.position });
  expect(editor.events.since(since), 'events after a notification with the suggestion dismissed').toEqual([]);
  expect(await hooks.asked()).toHaveLength(requests + 1);
}
