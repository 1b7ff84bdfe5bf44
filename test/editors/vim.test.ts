/**
 * editors/vim in a real Vim (9.0.0121 or later; Debian ships 9.0.1378) against the real server and
 * the shipped model: the shared editor suite, then what only the Vim plugin has here: the
 * accept-word and accept-line keys (the buffer gets the suggestion piece by piece, the rest stays
 * shown, the server hears each partial accept with how much of the item is written, and its copy
 * of the buffer stays exact), the next key asking for a suggestion when none is shown, and turning
 * suggestions off and on (:SlipstreamDisable/Enable/Toggle, b:slipstream_enabled, the dict form of
 * g:slipstream_filetypes, g:slipstream_auto_trigger off; no request then, counted in the channel
 * log, while the server still gets the text) with what :SlipstreamStatus says about it, and with
 * the server's time budget, the early answer growing to the whole suggestion when the server says
 * it is finished (slipstream/suggestionFinished), stale notifications ignored
 * (suggestion-finished.ts). The
 * suggestion is read back from Vim's screen (screenstring()): this Vim's prop_list() does not
 * return the text of virtual-text properties; what the plugin sent its server is read from Vim's
 * channel log. Skips with a reason when vim is not installed; CI installs it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cursorOffset, displayed, documentText, expectedScreen, findEditor, linesAfter, openFile, type Snapshot } from './editor-session.js';
import { editorFrame, editorSuite } from './editor-suite.js';
import { SCENARIOS, scratchFile, waitForSuggestion, type Scenario } from './scenarios.js';
import { EARLY_SETTINGS, runGrowsToWhole, runIgnoresStale, type FinishedHooks } from './suggestion-finished.js';
import { VimSession } from './vim-session.js';

function tooOld(versionText: string): string | undefined {
  const major = /VIM - Vi IMproved (\d+)\.(\d+)/.exec(versionText);
  const patches = /Included patches: 1-(\d+)/.exec(versionText);
  if (!major || Number(major[1]) < 9) return 'is older than 9.0';
  if (Number(major[1]) === 9 && Number(major[2]) === 0 && (!patches || Number(patches[1]) < 121)) return 'is older than 9.0.0121 (virtual text below a line)';
  if (!/\+job\b/.test(versionText) || !/\+channel\b/.test(versionText) || !/\+textprop\b/.test(versionText)) return 'lacks +job, +channel or +textprop';
  return undefined;
}

const tool = findEditor('vim', tooOld);

editorSuite({
  name: 'vim',
  tool,
  start: (opts) => VimSession.start(opts),
});

/** The keys test/editors/vim-driver.vim binds to accept_word and accept_line. */
const ACCEPT_WORD = '<C-Right>';
const ACCEPT_LINE = '<C-Down>';

/**
 * How much of `text` the accept-word key writes: what comes before the next word (white space,
 * punctuation, line breaks), then the word (Vim's default 'iskeyword': letters, digits, "_"); at
 * least one character.
 */
function wordPart(text: string): string {
  const part = /^[^\p{L}\p{N}_]*[\p{L}\p{N}_]*/u.exec(text)![0];
  return part === '' ? [...text][0]! : part;
}

/** How much of `text` the accept-line key writes: up to and with its first line break, or all. */
function linePart(text: string): string {
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl + 1);
}

describe.skipIf('skip' in tool)('editors/vim: partial accept, and the next key with nothing shown', () => {
  const f = editorFrame<VimSession>('vim-partial', { reference: false });
  let logs = 0;

  async function start(): Promise<VimSession> {
    f.editor = await VimSession.start({ home: f.dir, channelLog: join(f.dir, `channel-${++logs}.log`) });
    return f.editor;
  }

  /** Types `scenario` into its file; resolves once a suggestion is shown. */
  async function typeScenario(vim: VimSession, scenario: Scenario): Promise<Snapshot> {
    await openFile(vim, scratchFile(f.dir, scenario.file));
    if (scenario.append.length > 0) await vim.append(scenario.append);
    const since = vim.events.mark();
    await vim.type(scenario.keys);
    await waitForSuggestion(vim, since);
    const snap = await vim.snapshot();
    expect(snap.mode).toBe('i');
    return snap;
  }

  /**
   * With a suggestion on screen: accepts it piece by piece with `keys` (each an accept-word or
   * accept-line key), then whole with <C-l>. After each piece the buffer holds the item's text up
   * to there, the cursor after it, the screen shows the rest as the lines will read, the plugin
   * asks nothing, and the server was sent didPartiallyAcceptCompletion with the item as received
   * and the UTF-16 length written so far; the accept writes the item over its own range and the
   * server counts it accepted.
   */
  async function acceptInPieces(vim: VimSession, shown: Snapshot, keys: string[], checkScreen: (rest: string) => boolean): Promise<string[]> {
    const state = await vim.pluginState();
    // the item as the plugin received it (and sent back in didShowCompletion)
    const item = vim.sent('textDocument/didShowCompletion').at(-1)!.params.item;
    const insertText: string = item.insertText;
    expect(state.suggestion).toMatchObject({ text: insertText, accepted: 0, lnum: shown.row + 1, col: shown.col });
    const text = documentText(shown);
    const offset = cursorOffset(shown);
    // the item's range, from the cursor to its end on the line (byte columns to UTF-16)
    const rangeEnd = offset + Buffer.from(shown.lines[shown.row]!, 'utf8').subarray(state.suggestion.col, state.suggestion.end_col).toString('utf8').length;
    const final = linesAfter(text, offset, rangeEnd, insertText, shown.eol);
    const requests = vim.sent('textDocument/inlineCompletion').length;

    const pieces: string[] = [];
    let written = '';
    for (const key of keys) {
      const rest = insertText.slice(written.length);
      const piece = key === ACCEPT_WORD ? wordPart(rest) : linePart(rest);
      expect(piece.length, `${key} on ${JSON.stringify(rest)} leaves a rest`).toBeLessThan(rest.length);
      pieces.push(piece);
      written += piece;
      const since = vim.events.mark();
      await vim.type(key);
      await vim.events.waitFor('SlipstreamShown', since, 5_000, 'a partial accept is a local buffer edit, and the rest is shown at once');
      const snap = await vim.snapshot();
      // the buffer: the text written so far at the cursor, the cursor after it
      const before = (text.slice(0, offset) + written).split('\n');
      expect(snap.lines).toEqual(linesAfter(text, offset, offset, written, shown.eol));
      expect({ row: snap.row, col: snap.col, mode: snap.mode }).toEqual({ row: before.length - 1, col: Buffer.byteLength(before.at(-1)!, 'utf8'), mode: 'i' });
      // the rest of the same item, shown at the cursor (the events the snapshot came after: the
      // plugin's own edit did not count as typing, which would have cleared it)
      expect(vim.events.since(since), 'events of the partial accept').toEqual(['SlipstreamCleared', 'SlipstreamShown']);
      expect((await vim.pluginState()).suggestion).toMatchObject({ text: insertText.slice(written.length), accepted: written.length, lnum: snap.row + 1, col: snap.col, count: 1 });
      const restNow = insertText.slice(written.length);
      if (checkScreen(restNow)) {
        const rows = expectedScreen(final, snap.row, restNow, snap.tabstop);
        expect(snap.screen.slice(0, rows.length), 'the screen from the cursor line: the rest as the lines will read').toEqual(rows);
        expect(snap.screen[rows.length]).toBe(snap.row + 1 < snap.lines.length ? displayed(snap.lines[snap.row + 1]!, snap.tabstop) : '~');
      }
      // the server was told: the item as received, the UTF-16 code units written so far
      expect(vim.sent('textDocument/didPartiallyAcceptCompletion').map((m) => m.params)).toEqual(
        pieces.map((_, i) => ({ item, acceptedLength: pieces.slice(0, i + 1).join('').length })),
      );
    }
    const status = await vim.status();
    expect(status.events).toMatchObject({ partiallyAccepted: keys.length, accepted: 0 });
    // nothing was asked between showing the item and the last piece (after the accept the plugin
    // asks again, as after any edit)
    expect(vim.sent('textDocument/inlineCompletion').slice(requests), 'requests while accepting in pieces').toEqual([]);

    const since = vim.events.mark();
    await vim.type('<C-l>');
    await vim.events.waitFor('SlipstreamAccepted', since, 5_000, 'accepting is a local buffer edit');
    const accepted = await vim.snapshot();
    expect(accepted.lines).toEqual(final);
    const before = (text.slice(0, offset) + insertText).split('\n');
    expect({ row: accepted.row, col: accepted.col }).toEqual({ row: before.length - 1, col: Buffer.byteLength(before.at(-1)!, 'utf8') });
    expect((await vim.status()).events).toMatchObject({ partiallyAccepted: keys.length, accepted: 1 });
    expect(vim.sent('workspace/executeCommand').map((m) => m.params)).toEqual([{ command: item.command.command, arguments: item.command.arguments }]);
    // the accept is an edit like any other: the plugin asks again, and first sends the server the
    // buffer's text, which must be exactly the buffer's
    await vim.events.waitFor('SlipstreamRequest', since, 5_000, 'the plugin asks 20 ms after an edit');
    const change = vim.sent('textDocument/didChange').at(-1)!;
    expect(change.params.contentChanges).toEqual([{ text: documentText(accepted) }]);
    return [...pieces, insertText.slice(written.length)];
  }

  it('accept word, accept line, then accept: the buffer gets the item piece by piece, the rest stays shown, the server hears each partial accept', async () => {
    const vim = await start();
    const shown = await typeScenario(vim, SCENARIOS[0]!); // at the end of a line: a multi-line suggestion
    const pieces = await acceptInPieces(vim, shown, [ACCEPT_WORD, ACCEPT_LINE], () => true);
    console.log(`vim, accepting in pieces: ${JSON.stringify(pieces)}`);
  });

  it('accept word mid-line with a 4-byte character before the cursor: the rest keeps the range over the line tail, and accept writes the item over it', async () => {
    const vim = await start();
    const shown = await typeScenario(vim, SCENARIOS[1]!);
    // (a multi-line rest mid-line leaves the tail visible on the cursor line: README, "Not handled")
    const pieces = await acceptInPieces(vim, shown, [ACCEPT_WORD], (rest) => !rest.includes('\n'));
    console.log(`vim, accepting in pieces mid-line: ${JSON.stringify(pieces)}`);
  });

  it('the next key with no suggestion shown asks the server now (an invoked request), and shows its answer', async () => {
    const vim = await start();
    const shown = await typeScenario(vim, SCENARIOS[0]!);
    let since = vim.events.mark();
    await vim.type('<C-]>');
    await vim.events.waitFor('SlipstreamCleared', since, 5_000, 'dismissing is local');
    expect((await vim.pluginState()).suggestion).toEqual({});
    const requests = vim.sent('textDocument/inlineCompletion').length;

    since = vim.events.mark();
    await vim.type('<M-]>');
    await vim.events.waitFor('SlipstreamShown', since, 20_000, 'an invoked request with alternatives takes well under a second');
    expect(vim.events.since(since)).toEqual(['SlipstreamRequest', 'SlipstreamResponse', 'SlipstreamShown']);
    const snap = await vim.snapshot();
    // the key typed nothing: the buffer and cursor are as they were
    expect({ lines: snap.lines, row: snap.row, col: snap.col, mode: snap.mode }).toEqual({ lines: shown.lines, row: shown.row, col: shown.col, mode: 'i' });
    const asked = vim.sent('textDocument/inlineCompletion').slice(requests);
    expect(asked.map((m) => m.params.context)).toEqual([{ triggerKind: 1 }]);
    expect(asked[0].params.position).toEqual({ line: shown.row, character: shown.col }); // utf-8: byte columns
    const state = await vim.pluginState();
    expect(state.last).toEqual({ outcome: 'shown' });
    expect(state.suggestion).toMatchObject({ lnum: shown.row + 1, col: shown.col, index: 1 });
    expect(state.suggestion.text).not.toBe('');
    // the invoked answer holds all the server offers here: the next key goes round them without asking
    if (state.suggestion.count > 1) {
      since = vim.events.mark();
      await vim.type('<M-]>');
      await vim.events.waitFor('SlipstreamShown', since, 5_000, 'cycling through the items at hand is local');
      expect((await vim.pluginState()).suggestion).toMatchObject({ index: 2 });
      expect(vim.sent('textDocument/inlineCompletion').length).toBe(requests + 1);
    }
  });

  it('the next key where the plugin does not serve the buffer is the key itself', async () => {
    const vim = await start();
    await openFile(vim, scratchFile(f.dir, 'lf'));
    // a buffer without a name: the plugin does not attach to it
    await vim.ex('enew');
    await vim.type('i<M-]>x');
    // the keys are typed before the channel's next command is read; wait for them all the same
    let snap = await vim.snapshot();
    for (let i = 0; i < 100 && snap.lines[0] !== '\u00ddx'; i++) snap = await vim.snapshot();
    expect(snap.lines).toEqual(['\u00ddx']); // Vim takes <M-]> as "Ý" (README)
    expect(vim.sent('textDocument/inlineCompletion')).toEqual([]);
  });
});

describe.skipIf('skip' in tool)('editors/vim: turning suggestions off and on, per buffer and filetype, and asking only on the keys', () => {
  const f = editorFrame<VimSession>('vim-toggle', { reference: false });
  let logs = 0;

  /** `globals`: g: variables the driver sets before the plugin loads, as a vimrc would. */
  async function start(globals: Record<string, unknown> = {}): Promise<VimSession> {
    f.editor = await VimSession.start({ home: f.dir, channelLog: join(f.dir, `channel-${++logs}.log`), globals });
    return f.editor;
  }

  /** Opens `path` and types `scenario` there; resolves once a suggestion is shown. */
  async function typeScenario(vim: VimSession, path: string, scenario: Scenario): Promise<Snapshot> {
    await openFile(vim, path);
    if (scenario.append.length > 0) await vim.append(scenario.append);
    const since = vim.events.mark();
    await vim.type(scenario.keys);
    await waitForSuggestion(vim, since);
    return vim.snapshot();
  }

  /**
   * Waits until the plugin has sent its server the current buffer (the file `name`) as it is now:
   * where it asks nothing it still sends the text once the debounce after the last keystroke ran
   * out, at the moment it would otherwise ask, so a request it wrongly made would be in the
   * channel log by then too. (No event marks that sync: read the log between channel round trips,
   * each of which lets Vim run its timers.)
   */
  async function waitForSync(vim: VimSession, name: string): Promise<Snapshot> {
    const snap = await vim.snapshot();
    const text = documentText(snap);
    const synced = (): boolean => {
      const last = vim.sent('textDocument/didChange').filter((m) => m.params.textDocument.uri.endsWith(`/${name}`)).at(-1);
      return last?.params.contentChanges[0].text === text;
    };
    const deadline = Date.now() + 5_000; // the debounce is 20 ms
    while (!synced()) {
      if (Date.now() > deadline) throw new Error(`vim: the buffer ${name} was not sent to the server within 5 s of typing (the debounce is 20 ms)`);
      await vim.pluginState();
    }
    return snap;
  }

  /** Types `keys` and waits until the buffer's cursor line is `line` (keys typed with no plugin event to await). */
  async function typeUntil(vim: VimSession, keys: string, line: string): Promise<Snapshot> {
    await vim.type(keys);
    let snap = await vim.snapshot();
    for (let i = 0; i < 100 && snap.lines[snap.row] !== line; i++) snap = await vim.snapshot();
    expect(snap.lines[snap.row]).toBe(line);
    return snap;
  }

  /** What :SlipstreamStatus prints. */
  async function statusLine(vim: VimSession): Promise<string> {
    return String(await vim.call('execute', ['SlipstreamStatus'])).trim();
  }

  const requests = (vim: VimSession): any[] => vim.sent('textDocument/inlineCompletion');

  it(':SlipstreamDisable drops the suggestion shown and asks nothing while typing (the next key is itself); :SlipstreamEnable asks at the next keystroke; :SlipstreamToggle flips it', async () => {
    const vim = await start();
    const shown = await typeScenario(vim, scratchFile(f.dir, 'lf'), SCENARIOS[0]!); // "  if (": a multi-line suggestion
    expect(shown.screen[1], 'the suggestion\'s second line').not.toBe('~');
    expect(await vim.pluginState()).toMatchObject({ enabled: true, off: '' });
    expect(await statusLine(vim)).toMatch(/; suggestions on here$/);

    let since = vim.events.mark();
    await vim.ex('SlipstreamDisable');
    await vim.events.waitFor('SlipstreamCleared', since, 5_000, 'disabling drops the suggestion at once');
    let snap = await vim.snapshot();
    expect(snap.screen.slice(0, 2), 'the screen: the line as typed, no suggestion below it').toEqual([displayed(snap.lines[snap.row]!, snap.tabstop), '~']);
    expect(await vim.pluginState()).toMatchObject({ enabled: false, off: 'disabled', suggestion: {}, pending: 0 });
    const before = requests(vim).length;

    // typing: the server gets the text (the debounce ran out) but no request
    snap = await typeUntil(vim, 'a', '  if (a');
    await waitForSync(vim, 'stats-lf.ts');
    snap = await typeUntil(vim, '<BS>', '  if (');
    await waitForSync(vim, 'stats-lf.ts');
    // the next key falls through to the key itself (Vim takes <M-]> as "Ý")
    snap = await typeUntil(vim, '<M-]>', '  if (\u00dd');
    await waitForSync(vim, 'stats-lf.ts');
    expect(requests(vim).length, 'requests while disabled').toBe(before);
    expect(vim.events.since(since), 'events while disabled').toEqual(['SlipstreamCleared']);
    expect(await statusLine(vim)).toMatch(/; suggestions off: disabled in this Vim/);

    // enabled again: the next keystroke asks (exactly one request, for the text and cursor after it)
    await vim.ex('SlipstreamEnable');
    expect(await vim.pluginState()).toMatchObject({ enabled: true, off: '' });
    since = vim.events.mark();
    await vim.type('<BS>');
    await waitForSuggestion(vim, since);
    snap = await vim.snapshot();
    expect(snap.lines[snap.row]).toBe('  if (');
    const asked = requests(vim).slice(before);
    expect(asked.map((m) => m.params.context)).toEqual([{ triggerKind: 2 }]);
    expect(asked[0].params.position).toEqual({ line: snap.row, character: snap.col });
    expect(snap.screen[1], 'a suggestion shown again').not.toBe('~');

    since = vim.events.mark();
    await vim.ex('SlipstreamToggle');
    await vim.events.waitFor('SlipstreamCleared', since, 5_000, 'toggling off drops the suggestion at once');
    expect(await vim.pluginState()).toMatchObject({ enabled: false, off: 'disabled', suggestion: {} });
    await vim.ex('SlipstreamToggle');
    expect(await vim.pluginState()).toMatchObject({ enabled: true, off: '' });
  });

  it(':SlipstreamDisable cancels the request in flight', async () => {
    // the server holds the first automatic request of a document for its debounce (5 s here)
    const vim = (f.editor = await VimSession.start({ home: f.dir, channelLog: join(f.dir, `channel-${++logs}.log`), settings: { completion: { debounceMs: 5000 } } }));
    await openFile(vim, scratchFile(f.dir, 'lf'));
    const since = vim.events.mark();
    await vim.type('Goexport function m');
    await vim.events.waitFor('SlipstreamRequest', since, 5_000, 'the plugin asks 20 ms after the last key');
    const id = (await vim.pluginState()).pending;
    expect(id).toBeGreaterThan(0);
    await vim.ex('SlipstreamDisable');
    expect((await vim.pluginState()).pending).toBe(0);
    expect(vim.sent('$/cancelRequest').map((m) => m.params)).toEqual([{ id }]);
  });

  it('b:slipstream_enabled = v:false: that buffer asks nothing (its text still goes to the server), another buffer still gets suggestions', async () => {
    const vim = await start();
    await vim.ex('set hidden');
    await openFile(vim, scratchFile(f.dir, 'lf'));
    await vim.ex('let b:slipstream_enabled = v:false');
    await vim.append(SCENARIOS[0]!.append);
    const since = vim.events.mark();
    await vim.type(SCENARIOS[0]!.keys);
    await waitForSync(vim, 'stats-lf.ts');
    await typeUntil(vim, '<M-]>', '  if (\u00dd'); // the next key is itself here
    await waitForSync(vim, 'stats-lf.ts');
    expect(requests(vim)).toEqual([]);
    expect(vim.events.since(since)).toEqual([]);
    expect(await vim.pluginState()).toMatchObject({ enabled: false, off: 'buffer' });
    expect(await statusLine(vim)).toMatch(/; suggestions off in this buffer \(b:slipstream_enabled is false\)$/);

    await vim.type('<Esc>');
    const shown = await typeScenario(vim, scratchFile(f.dir, 'tabs'), SCENARIOS[3]!);
    expect(shown.screen[0], 'the suggestion on the cursor line').not.toBe(displayed(shown.lines[shown.row]!, shown.tabstop));
    expect(requests(vim).length).toBeGreaterThan(0);
    expect(requests(vim).every((m) => m.params.textDocument.uri.endsWith('/stats-tabs.ts'))).toBe(true);
    expect(await vim.pluginState()).toMatchObject({ enabled: true, off: '' });
    // the first buffer stays open on the server
    expect(vim.sent('textDocument/didClose')).toEqual([]);
  });

  it("g:slipstream_filetypes as a dict: a filetype's own entry wins, else '*'; changed later it applies at the next keystroke; the list form still works", async () => {
    const vim = await start({ slipstream_filetypes: { '*': false, typescript: true } });
    await vim.ex('set hidden');
    const ts = scratchFile(f.dir, 'lf');
    await openFile(vim, ts); // typescript: its own entry
    const md = join(f.dir, 'notes.md');
    writeFileSync(md, '# Notes\n');
    let since = vim.events.mark();
    await vim.ex(`edit ${md}`);
    expect(await vim.call('eval', ['&filetype'])).toBe('markdown');
    // with the server up, attaching is synchronous: it would have happened before :edit returned
    expect(vim.events.since(since)).toEqual([]);
    expect(vim.sent('textDocument/didOpen').map((m) => m.params.textDocument.uri.replace(/.*\//, ''))).toEqual(['stats-lf.ts']);
    expect(await vim.pluginState()).toMatchObject({ enabled: false, off: 'filetype' });
    expect(await statusLine(vim)).toMatch(/; suggestions off for this filetype \(markdown, g:slipstream_filetypes\)$/);
    await typeUntil(vim, 'Go<M-]>', '\u00dd'); // not served: the next key is itself
    expect(requests(vim)).toEqual([]);

    await vim.type('<Esc>');
    await vim.ex(`buffer ${ts}`);
    await vim.append(SCENARIOS[0]!.append);
    since = vim.events.mark();
    await vim.type(SCENARIOS[0]!.keys);
    await waitForSuggestion(vim, since);
    const asked = requests(vim).length;

    // typescript off now, everything else on: the attached buffer asks nothing from the next keystroke
    await vim.ex("let g:slipstream_filetypes = {'*': v:true, 'typescript': v:false}");
    since = vim.events.mark();
    await typeUntil(vim, 'a', '  if (a');
    await waitForSync(vim, 'stats-lf.ts');
    expect(requests(vim).length).toBe(asked);
    expect(vim.events.since(since)).not.toContain('SlipstreamRequest');
    expect(await vim.pluginState()).toMatchObject({ enabled: false, off: 'filetype' });

    // the list form: the filetypes served
    await vim.ex("let g:slipstream_filetypes = ['typescript']");
    since = vim.events.mark();
    await vim.type('<BS>');
    await waitForSuggestion(vim, since);
    expect(requests(vim).length).toBe(asked + 1);
  });

  it('g:slipstream_auto_trigger = v:false: typing asks nothing, the trigger key and the next key ask', async () => {
    const vim = await start({ slipstream_auto_trigger: false, slipstream_keys: { trigger: '<M-\\>' } });
    await openFile(vim, scratchFile(f.dir, 'lf'));
    await vim.append(SCENARIOS[0]!.append);
    let since = vim.events.mark();
    await vim.type(SCENARIOS[0]!.keys);
    const typed = await waitForSync(vim, 'stats-lf.ts');
    expect(requests(vim)).toEqual([]);
    expect(vim.events.since(since)).toEqual([]);
    expect(await vim.pluginState()).toMatchObject({ enabled: true, off: '' });
    expect(await statusLine(vim)).toMatch(/; suggestions on here, when asked \(g:slipstream_auto_trigger is false\)$/);

    since = vim.events.mark();
    await vim.type('<M-\\>');
    await waitForSuggestion(vim, since);
    expect(vim.events.since(since)).toEqual(['SlipstreamRequest', 'SlipstreamResponse', 'SlipstreamShown']);
    let snap = await vim.snapshot();
    // the key typed nothing
    expect({ lines: snap.lines, row: snap.row, col: snap.col }).toEqual({ lines: typed.lines, row: typed.row, col: typed.col });
    expect(requests(vim).map((m) => [m.params.context, m.params.position])).toEqual([[{ triggerKind: 1 }, { line: typed.row, character: typed.col }]]);
    expect(snap.screen[1], 'the suggestion\'s second line').not.toBe('~');

    // typing drops it and asks nothing
    since = vim.events.mark();
    await vim.type('a');
    await vim.events.waitFor('SlipstreamCleared', since, 5_000, 'a keystroke drops the suggestion at once');
    await waitForSync(vim, 'stats-lf.ts');
    await typeUntil(vim, '<BS>', '  if (');
    await waitForSync(vim, 'stats-lf.ts');
    expect(requests(vim)).toHaveLength(1);
    expect(vim.events.since(since)).toEqual(['SlipstreamCleared']);

    // the next key with nothing shown asks too
    since = vim.events.mark();
    await vim.type('<M-]>');
    await waitForSuggestion(vim, since);
    snap = await vim.snapshot();
    expect(snap.lines[snap.row]).toBe('  if (');
    expect(requests(vim).map((m) => m.params.context)).toEqual([{ triggerKind: 1 }, { triggerKind: 1 }]);
  });

  it(":SlipstreamStatus adds the share of accepted characters still there at each checkpoint (slipstream/status's events.retention)", async () => {
    const vim = await start();
    const format = (retention: unknown): Promise<string> => vim.call('slipstream#FormatRetention', [retention]);
    const checkpoint = (afterSeconds: number, items: number, acceptedChars: number, retainedChars: number) => ({ afterSeconds, items, acceptedChars, retainedChars });
    expect(await format({ checkpoints: [checkpoint(30, 2, 40, 37), checkpoint(300, 0, 0, 0)], untracked: 0, tracking: 1 })).toBe(', still there: 92% after 30 s');
    expect(await format({ checkpoints: [checkpoint(30, 2, 40, 37), checkpoint(300, 1, 8, 6)], untracked: 0, tracking: 0 })).toBe(', still there: 92% after 30 s, 75% after 5 min');
    expect(await format({ checkpoints: [checkpoint(30, 0, 0, 0)], untracked: 0, tracking: 0 })).toBe('');
    expect(await format({})).toBe('');
    // the server's real figures (the model may still be loading): none accepted yet, so nothing added
    await openFile(vim, scratchFile(f.dir, 'lf'));
    expect(await statusLine(vim)).toMatch(/^slipstream \S+: \w+, .*, no requests yet, 0 shown, 0 accepted; suggestions on here$/);
  });
});

describe.skipIf('skip' in tool)('editors/vim: slipstream/suggestionFinished', () => {
  const f = editorFrame<VimSession>('vim-finished');
  let logs = 0;

  async function start(settings?: Record<string, unknown>): Promise<VimSession> {
    f.editor = await VimSession.start({ home: f.dir, channelLog: join(f.dir, `channel-${++logs}.log`), settings });
    return f.editor;
  }

  /** How suggestion-finished.ts reaches the plugin in `vim`. */
  function hooks(vim: VimSession): FinishedHooks {
    return {
      // the plugin sends b:changedtick as the version, before each request
      version: () => vim.call('eval', ['b:changedtick']),
      uri: async () => vim.sent('textDocument/didOpen').at(-1)!.params.textDocument.uri,
      asked: async () => vim.sent('textDocument/inlineCompletion').map((m) => m.params),
      traces: async () => (await vim.request('slipstream/traces', {})).traces,
      deliver: (params) => vim.suggestionFinished(params),
    };
  }

  it('the capability is declared at initialize', async () => {
    const vim = await start();
    await openFile(vim, scratchFile(f.dir, 'lf'));
    expect(vim.sent('initialize')[0].params.capabilities.experimental).toEqual({ slipstream: { suggestionFinished: true } });
  });

  it('with a 1 ms time budget the early answer grows to the whole suggestion with no keystroke, and accepting writes it', async () => {
    const vim = await start(EARLY_SETTINGS);
    const r = await runGrowsToWhole(vim, hooks(vim), f.reference.client, f.dir);
    console.log(`vim, grew to ${JSON.stringify(r.insertText)}`);
  });

  it('ignores the notification for a version, position or document it no longer shows, or once dismissed', async () => {
    const vim = await start();
    await runIgnoresStale(vim, hooks(vim), f.dir);
  });
});
