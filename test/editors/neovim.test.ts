/**
 * editors/neovim in a real Neovim (0.7 or later; Debian ships 0.7.2) against the real server and
 * the shipped model: the shared editor suite, plus a readback of the suggestion from the plugin's
 * extmark (its virtual text and virtual lines) next to the screen; then Neovim's own: accepting a
 * suggestion word by word and line by line (also with characters beyond ASCII and the BMP in it),
 * and the next key asking for a suggestion when none is shown; turning suggestions off and on
 * (globally, in one buffer, by filetype) and asking only on the keys (auto_trigger = false),
 * where "no request" is checked once every request the keys could have caused would have been
 * sent; and with the server's time budget, the early answer growing to the whole suggestion when
 * the server says it is finished (slipstream/suggestionFinished), and stale notifications ignored
 * (suggestion-finished.ts). Skips with a reason when nvim is not installed; CI installs it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cursorOffset, displayed, documentText, expectedScreen, findEditor, linesAfter, openFile, type Snapshot } from './editor-session.js';
import { editorFrame, editorSuite } from './editor-suite.js';
import { NeovimSession, PARTIAL_KEYS, type NeovimSnapshot } from './nvim-session.js';
import { referenceCompletion, SCENARIOS, scratchFile, waitForSuggestion, type Scenario } from './scenarios.js';
import { EARLY_SETTINGS, runGrowsToWhole, runIgnoresStale, type FinishedHooks } from './suggestion-finished.js';

/** The lines the extmark shows from its row on: the row with its virtual text applied, then its virt_lines. */
function extmarkLines(snap: NeovimSnapshot): string[] {
  expect(snap.marks).toHaveLength(1);
  const m = snap.marks[0]!;
  expect({ row: m.row, col: m.col }).toEqual({ row: snap.row, col: snap.col });
  const line = Buffer.from(snap.lines[m.row]!, 'utf8');
  const head = line.subarray(0, m.col).toString('utf8');
  const tail = line.subarray(m.col).toString('utf8');
  const text = (m.virt_text ?? []).map(([chunk]) => chunk).join('');
  let first: string;
  if (m.virt_text_pos === 'inline') first = head + text + tail;
  else if (m.virt_text_pos === 'overlay') first = head + text + [...tail].slice([...text].length).join('');
  else first = head + tail + text; // eol
  return [first, ...(m.virt_lines ?? []).map((l) => l.map(([chunk]) => chunk).join(''))].map((l) => l.trimEnd());
}

/** Opens the scenario's file (a copy in `dir`) and types its keys; resolves with the snapshot once a suggestion is shown. */
async function typeScenarioIn(e: NeovimSession, dir: string, scenario: Scenario): Promise<NeovimSnapshot> {
  await openFile(e, scratchFile(dir, scenario.file));
  if (scenario.append.length > 0) await e.append(scenario.append);
  const since = e.events.mark();
  await e.type(scenario.keys);
  await waitForSuggestion(e, since);
  const shown = await e.snapshot();
  expect(shown.mode).toBe('i');
  return shown;
}

const tool = findEditor('nvim', (v) => (/NVIM v0\.[0-6]\./.test(v) ? 'is older than 0.7, the oldest the plugin supports' : undefined));

editorSuite({
  name: 'neovim',
  tool,
  start: (opts) => NeovimSession.start(opts),
  checkDecorations(shown: Snapshot, expectedLines: string[], insertText: string) {
    const count = insertText.split(/\r\n|\n|\r/).length;
    expect(extmarkLines(shown as NeovimSnapshot), 'the extmark read back').toEqual(expectedLines.slice(shown.row, shown.row + count).map((l) => l.trimEnd()));
  },
  checkCleared(snap: Snapshot) {
    expect((snap as NeovimSnapshot).marks).toEqual([]);
  },
});

/**
 * What the accept-word key takes of `text` (editors/neovim/lua/slipstream/partial.lua): characters
 * other than keyword characters, then keyword characters, of Vim's default 'iskeyword'
 * (@,48-57,_,192-255: ASCII letters, digits, "_" and U+00C0 to U+00FF, which is what the texts
 * here hold besides characters beyond Latin-1 that are not keyword characters); all of it when
 * it has none.
 */
function nextWord(text: string): string {
  return /^[^A-Za-z0-9_\u00C0-\u00FF]*[A-Za-z0-9_\u00C0-\u00FF]+/.exec(text)?.[0] ?? text;
}

/** What the accept-line key takes of `text`: up to and with its next line break, or all of it. */
function nextLine(text: string): string {
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl + 1);
}

/** Where the cursor should be after writing `insert` at UTF-16 offset `start` of `text`: just after it. */
function cursorAfter(text: string, start: number, insert: string): { row: number; col: number } {
  const before = (text.slice(0, start) + insert).split(/\r\n|\n|\r/);
  return { row: before.length - 1, col: Buffer.byteLength(before.at(-1)!, 'utf8') };
}

describe.skipIf('skip' in tool)('editors/neovim in a real neovim: accepting part of a suggestion, and the next key with none shown', () => {
  const f = editorFrame<NeovimSession>('neovim-partial');

  /** Opens the scenario's file and types its keys; resolves with the snapshot once a suggestion is shown. */
  function typeScenario(e: NeovimSession, scenario: Scenario): Promise<NeovimSnapshot> {
    return typeScenarioIn(e, f.dir, scenario);
  }

  /**
   * Types the scenario; with its suggestion on screen, the accept-word key, then the accept-line
   * key, then the accept key: after each partial step the buffer holds the original text with
   * the item's pieces accepted so far at the cursor of the request, the cursor after them, the rest
   * of the item on screen as it will read (its range end moved along: the accept still replaces
   * what the item's range covered), no request made, and the server told the item and the UTF-16
   * length accepted so far; the accept then writes the whole item, and the server counts one
   * accept. `prefix`: put in front of each item's text as the plugin receives it (to have text
   * beyond ASCII in it, which the shipped model does not write).
   */
  async function acceptInParts(scenario: Scenario, prefix: string): Promise<string> {
    f.editor = await NeovimSession.start({ home: f.dir });
    const e = f.editor;
    if (prefix) {
      // between the plugin and its LSP module: the plugin receives the server's items with `prefix`
      // in front of their text (copies: the session records the server's reply as it came)
      await e.nvim.lua(
        `local prefix = ...
        local lsp = require('slipstream.lsp')
        local request = lsp.request
        lsp.request = function(c, method, params, handler, bufnr)
          if method ~= 'textDocument/inlineCompletion' then
            return request(c, method, params, handler, bufnr)
          end
          return request(c, method, params, function(err, result, ...)
            result = vim.deepcopy(result)
            for _, item in ipairs(type(result) == 'table' and (result.items or result) or {}) do
              item.insertText = prefix .. item.insertText
            end
            return handler(err, result, ...)
          end, bufnr)
        end`,
        [prefix],
      );
    }
    const shown = await typeScenario(e, scenario);
    const ref = await referenceCompletion(f.reference.client, shown);
    expect(ref.start).toBe(ref.offset);
    const insertText = prefix + ref.insertText;
    expect((await e.pluginState()).suggestion).toMatchObject({ text: insertText, index: 1, count: 1 });
    const item = (await e.sent('textDocument/didShowCompletion')).at(-1)!.params.item;
    expect(item.insertText, 'the item shown, as the plugin received it').toBe(insertText);
    // the buffer after the accept, and the bytes of the line the item's range replaces
    const after = linesAfter(ref.text, ref.start, ref.end, insertText, shown.eol);
    const replaced = Buffer.byteLength(ref.text.slice(ref.start, ref.end), 'utf8');

    let accepted = '';
    const told: { item: unknown; acceptedLength: number }[] = [];
    for (const [key, measure] of [[PARTIAL_KEYS.accept_word, nextWord], [PARTIAL_KEYS.accept_line, nextLine]] as const) {
      const part = measure(insertText.slice(accepted.length));
      accepted += part;
      const rest = insertText.slice(accepted.length);
      expect(rest, `${key} takes ${JSON.stringify(part)} of ${JSON.stringify(insertText)}: a suggestion with more than a word and a line is needed here`).not.toBe('');
      const since = e.events.mark();
      await e.type(key);
      await e.events.waitFor('SlipstreamShown', since, 5_000, 'the rest is shown at once, without a request');
      const snap = await e.snapshot();
      // the plugin's own edit is not typing: nothing clears the rest, nothing asks the server
      expect(e.events.since(since), `events after ${key}`).toEqual(['SlipstreamShown']);
      expect(snap.lines, `the buffer after ${key}`).toEqual(linesAfter(ref.text, ref.start, ref.start, accepted, shown.eol));
      expect({ row: snap.row, col: snap.col, mode: snap.mode }).toEqual({ ...cursorAfter(ref.text, ref.start, accepted), mode: 'i' });
      const state = await e.pluginState();
      expect(state.pending ?? null, 'no request after a partial accept').toBeNull();
      expect(state.suggestion, 'the rest, its range end moved along').toEqual({ row: snap.row, col: snap.col, end_col: snap.col + replaced, text: rest, index: 1, count: 1 });
      // on screen: the lines from the cursor's as they will read after accepting the rest
      const rows = expectedScreen(after, snap.row, rest, snap.tabstop);
      expect(snap.screen.slice(0, rows.length), `screen after ${key}`).toEqual(rows);
      expect(extmarkLines(snap), `the extmark after ${key}`).toEqual(after.slice(snap.row, snap.row + rows.length).map((l) => l.trimEnd()));
      // the server was told the item as received and the UTF-16 code units of its text accepted so far
      told.push({ item, acceptedLength: accepted.length });
      expect((await e.sent('textDocument/didPartiallyAcceptCompletion')).map((m) => m.params)).toEqual(told);
      expect((await e.status()).events, 'the server counted the partial accept').toMatchObject({ partiallyAccepted: told.length, accepted: 0 });
    }

    // the accept key writes the rest: the whole item in place of its range, as one accept
    const since = e.events.mark();
    await e.type('<C-l>');
    await e.events.waitFor('SlipstreamAccepted', since, 5_000, 'accepting is a local buffer edit');
    const done = await e.snapshot();
    expect(done.lines).toEqual(after);
    expect({ row: done.row, col: done.col }).toEqual(cursorAfter(ref.text, ref.start, insertText));
    expect((await e.sent('workspace/executeCommand')).filter((m) => m.kind === 'request').map((m) => m.params)).toEqual([{ command: item.command.command, arguments: item.command.arguments }]);
    expect((await e.status()).events).toMatchObject({ partiallyAccepted: 2, accepted: 1 });
    return insertText;
  }

  it('the accept-word, accept-line and accept keys write a multi-line suggestion in parts, the rest shown after each, the server told each part', async () => {
    const text = await acceptInParts(SCENARIOS[0]!, '');
    console.log(`neovim, accepted in parts: ${JSON.stringify(text)}`);
  });

  it('accepting in parts with characters beyond ASCII and the BMP in the suggestion and before the cursor, the item replacing the rest of the line', async () => {
    // "é" (2 bytes, 1 UTF-16 code unit) is a keyword character, "𝒳" (4 bytes, 2 code units) is not
    const text = await acceptInParts(SCENARIOS[1]!, "é_é = '𝒳';\n");
    console.log(`neovim, accepted in parts, beyond ASCII: ${JSON.stringify(text)}`);
  });

  it('the next key with no suggestion shown asks the server (invoked) and shows its answer', async () => {
    f.editor = await NeovimSession.start({ home: f.dir });
    const e = f.editor;
    await typeScenario(e, SCENARIOS[0]!);
    let since = e.events.mark();
    await e.type('<C-]>');
    await e.events.waitFor('SlipstreamCleared', since, 5_000, 'dismissing is local');
    expect((await e.pluginState()).suggestion).toBeUndefined();
    const requests = (await e.status()).requests.total;

    since = e.events.mark();
    await e.type('<M-]>');
    await e.events.waitFor('SlipstreamShown', since, 20_000, 'an invoked request with alternatives takes well under a second');
    expect(e.events.since(since)).toEqual(['SlipstreamRequest', 'SlipstreamResponse', 'SlipstreamShown']);
    const snap = await e.snapshot();
    const asked = (await e.sent('textDocument/inlineCompletion')).filter((m) => m.kind === 'request').at(-1)!.params;
    expect(asked.context).toEqual({ triggerKind: 1 });
    expect(asked.position.line).toBe(snap.row);
    expect((await e.status()).requests.total, 'one request').toBe(requests + 1);
    // the first item of the server's answer is shown, labelled when the answer holds several
    const reply = (await e.sent('textDocument/inlineCompletion')).filter((m) => m.kind === 'reply').at(-1)!.params;
    const items: { insertText: string; range: { end: { character: number } } }[] = reply.items ?? reply;
    const distinct = new Set(items.map((i) => JSON.stringify([i.insertText, i.range.end.character]))).size;
    const first = items[0]!;
    expect((await e.pluginState()).suggestion).toMatchObject({ text: first.insertText, index: 1, count: distinct });
    const text = documentText(snap);
    const offset = cursorOffset(snap);
    const end = offset - asked.position.character + first.range.end.character;
    const after = linesAfter(text, offset, end, first.insertText, snap.eol);
    const last = snap.row + first.insertText.split(/\r\n|\n|\r/).length - 1;
    if (distinct > 1) after[last] += ` (1/${distinct})`;
    const rows = expectedScreen(after, snap.row, first.insertText, snap.tabstop);
    expect(snap.screen.slice(0, rows.length)).toEqual(rows);
    console.log(`neovim, next with none shown: ${distinct} suggestion(s), first ${JSON.stringify(first.insertText)}`);
  });

  it('the next and previous keys in a buffer the plugin is not attached to fall through to what the key did before', async () => {
    f.editor = await NeovimSession.start({ home: f.dir });
    const e = f.editor;
    await openFile(e, scratchFile(f.dir, 'lf')); // the server runs, with a buffer attached
    await e.ex('enew'); // no file name: the plugin leaves this one alone
    const since = e.events.mark();
    // the key's mapping feeds the key itself when these return false (init.lua's map)
    const r = await e.nvim.lua("local s = require('slipstream') return { s.next(), s.prev() }", []);
    expect(r).toEqual([false, false]);
    expect(e.events.since(since)).toEqual([]);
    expect(await e.sent('textDocument/inlineCompletion')).toEqual([]);
  });
});

describe.skipIf('skip' in tool)('editors/neovim in a real neovim: turning suggestions off and on, and asking only on the keys', () => {
  const f = editorFrame<NeovimSession>('neovim-toggle');

  /** The textDocument/inlineCompletion requests the plugin sent so far (their params). */
  async function asked(e: NeovimSession): Promise<any[]> {
    return (await e.sent('textDocument/inlineCompletion')).filter((m) => m.kind === 'request').map((m) => m.params);
  }

  /** Expects the suggestion the plugin shows now to be what slipstream/complete answers for the buffer and cursor. */
  async function expectReferenceShown(e: NeovimSession): Promise<void> {
    const snap = await e.snapshot();
    const ref = await referenceCompletion(f.reference.client, snap);
    expect((await e.pluginState()).suggestion?.text).toBe(ref.insertText);
  }

  /** A markdown file (by its name: the sessions run `filetype on`) in the scratch folder. */
  function markdownFile(): string {
    const path = join(f.dir, 'notes.md');
    writeFileSync(path, '# Notes\n\nThe median of a list of numbers.\n');
    return path;
  }

  it(':SlipstreamDisable clears the suggestion shown, then typing and the trigger and next keys ask nothing; :SlipstreamEnable brings suggestions back', async () => {
    f.editor = await NeovimSession.start({ home: f.dir });
    const e = f.editor;
    await typeScenarioIn(e, f.dir, SCENARIOS[0]!); // "  if (" with a suggestion
    expect(await e.pluginState()).toMatchObject({ enabled: true, attached: true });

    // off: the suggestion goes at once, from the screen and the plugin
    let since = e.events.mark();
    await e.ex('SlipstreamDisable');
    expect(e.events.since(since)).toEqual(['SlipstreamCleared']);
    let snap = await e.snapshot();
    expect(snap.marks).toEqual([]);
    expect(snap.screen.slice(0, 2)).toEqual([displayed(snap.lines[snap.row]!, snap.tabstop), '~']);
    let state = await e.pluginState();
    expect(state).toMatchObject({ enabled: false, off: 'global', attached: true });
    expect(state.suggestion).toBeUndefined();
    expect(state.pending).toBeUndefined();
    expect(await e.output('SlipstreamStatus')).toContain('suggestions off here: disabled globally');

    // typing: once any debounce the plugin could have started has run out, no request, no event
    const before = (await asked(e)).length;
    expect(await e.typeAndSettle('v', '  if (v')).toEqual(['test:settled']);
    expect(await asked(e)).toHaveLength(before);
    // the trigger, next and previous functions ask nothing and say so (their keys then fall through)
    expect(await e.nvim.lua("local s = require('slipstream') return { s.trigger(), s.next(), s.prev() }", [])).toEqual([false, false, false]);
    expect(await asked(e)).toHaveLength(before);

    // on again: the next keystroke asks (one request, for the line as it was when first shown)
    await e.ex('SlipstreamEnable');
    expect(await e.pluginState()).toMatchObject({ enabled: true });
    since = e.events.mark();
    await e.type('<BS>');
    await waitForSuggestion(e, since);
    expect(await asked(e)).toHaveLength(before + 1);
    expect((await e.snapshot()).lines.at(-1)).toBe('  if (');
    await expectReferenceShown(e);

    // :SlipstreamToggle: off (the suggestion goes), then the keys themselves ask nothing
    since = e.events.mark();
    await e.ex('SlipstreamToggle');
    expect(e.events.since(since)).toEqual(['SlipstreamCleared']);
    expect(await e.pluginState()).toMatchObject({ enabled: false, off: 'global' });
    expect(await e.typeAndSync('<M-\\>')).toEqual(['test:synced']);
    expect(await e.typeAndSync('<M-]>')).toEqual(['test:synced']);
    expect(await asked(e)).toHaveLength(before + 1);
    await e.ex('SlipstreamToggle');
    expect(await e.pluginState()).toMatchObject({ enabled: true });
  });

  it(':SlipstreamDisable cancels the request in flight at once', async () => {
    // the server's debounce holds the first automatic request of a document for 5 s
    f.editor = await NeovimSession.start({ home: f.dir, settings: { completion: { debounceMs: 5000 } } });
    const e = f.editor;
    await openFile(e, scratchFile(f.dir, 'lf'));
    let since = e.events.mark();
    await e.type('Goexport function m');
    await e.events.waitFor('SlipstreamRequest', since, 5_000, 'the plugin asks 20 ms after the last key');
    expect((await e.pluginState()).pending).toBeGreaterThan(0);

    since = e.events.mark();
    await e.ex('SlipstreamDisable');
    expect((await e.pluginState()).pending, 'no request in flight right after :SlipstreamDisable').toBeUndefined();
    await e.ex('SlipstreamEnable');
    // an invoked request (no server debounce); once it is answered, the server has long had the cancel
    await e.type('<M-\\>');
    await e.events.waitFor('SlipstreamResponse', since, 20_000, 'an invoked request skips the 5 s debounce');
    const events = e.events.since(since);
    expect(events.slice(0, 2), 'nothing came of the cancelled request').toEqual(['SlipstreamRequest', 'SlipstreamResponse']);
    expect((await asked(e)).map((p) => p.context.triggerKind)).toEqual([2, 1]);
    expect((await e.status()).requests.cancelled).toBe(1);
  });

  it('b:slipstream_enabled = false turns suggestions off in one buffer while another still gets them; :SlipstreamEnable! turns them on there again', async () => {
    f.editor = await NeovimSession.start({ home: f.dir });
    const e = f.editor;
    const fileA = scratchFile(f.dir, 'lf');
    await openFile(e, fileA);
    await e.append(SCENARIOS[0]!.append);
    await e.nvim.lua('vim.b.slipstream_enabled = false', []);
    expect(await e.pluginState()).toMatchObject({ enabled: false, off: 'buffer', attached: true });
    expect(await e.typeAndSettle(SCENARIOS[0]!.keys, '  if (')).toEqual(['test:settled']);
    expect(await asked(e)).toEqual([]);
    expect(await e.output('SlipstreamStatus')).toContain('suggestions off here: disabled in this buffer');
    expect(await e.typeAndSync('<Esc>')).toEqual(['test:synced']);

    // another buffer: suggestions as usual (not compared with the reference server's: with two
    // documents open, the editor's server adds snippets of the other to its prompts)
    await typeScenarioIn(e, f.dir, SCENARIOS[3]!);
    expect(await e.pluginState()).toMatchObject({ enabled: true });
    const before = (await asked(e)).length;
    expect(await e.typeAndSync('<Esc>')).toEqual(['SlipstreamCleared', 'test:synced']);

    // back in the first: still off, and the server still has both documents
    await e.ex(`buffer ${fileA}`);
    expect(await e.pluginState()).toMatchObject({ enabled: false, off: 'buffer', attached: true });
    expect(await e.typeAndSync('A')).toEqual(['test:synced']);
    expect(await e.typeAndSettle('v', '  if (v')).toEqual(['test:settled']);
    expect(await asked(e)).toHaveLength(before);
    expect((await e.status()).documents).toBe(2);

    // on again in this buffer: the next keystroke asks
    await e.ex('SlipstreamEnable!');
    expect(await e.nvim.lua('return vim.b.slipstream_enabled', [])).toBe(true);
    const since = e.events.mark();
    await e.type('<BS>');
    await waitForSuggestion(e, since);
    expect(await asked(e)).toHaveLength(before + 1);
    expect((await asked(e)).at(-1).textDocument.uri).toMatch(/stats-lf\.ts$/);
  });

  it("filetypes as a map: a filetype's own entry wins, else '*'; the buffers of a filetype turned off stay attached", async () => {
    f.editor = await NeovimSession.start({ home: f.dir, setup: { filetypes: { '*': true, markdown: false } } });
    const e = f.editor;
    // typescript: on through '*'
    await typeScenarioIn(e, f.dir, SCENARIOS[0]!);
    await expectReferenceShown(e);
    const before = (await asked(e)).length;
    expect(await e.typeAndSync('<Esc>')).toEqual(['SlipstreamCleared', 'test:synced']);

    // markdown: its own entry turns it off; attached all the same
    await openFile(e, markdownFile());
    expect(await e.nvim.lua('return vim.bo.filetype', [])).toBe('markdown');
    expect(await e.pluginState()).toMatchObject({ enabled: false, off: 'filetype', attached: true });
    expect(await e.typeAndSettle('Gothe middle value', 'the middle value')).toEqual(['test:settled']);
    expect(await asked(e)).toHaveLength(before);
    expect((await e.status()).documents).toBe(2);
    expect(await e.output('SlipstreamStatus')).toContain('suggestions off here: off for filetype markdown');
    // the buffer's own switch wins over the filetype's
    await e.ex('SlipstreamEnable!');
    expect(await e.pluginState()).toMatchObject({ enabled: true });
    await e.ex('SlipstreamToggle!');
    expect(await e.pluginState()).toMatchObject({ enabled: false, off: 'buffer' });
  });

  it("filetypes as a map with '*' off, and as a list (attaching only to its filetypes) as before", async () => {
    f.editor = await NeovimSession.start({ home: f.dir, setup: { filetypes: { '*': false, typescript: true } } });
    let e = f.editor;
    await typeScenarioIn(e, f.dir, SCENARIOS[0]!);
    expect(await e.typeAndSync('<Esc>')).toEqual(['SlipstreamCleared', 'test:synced']);
    await openFile(e, markdownFile());
    expect(await e.pluginState()).toMatchObject({ enabled: false, off: 'filetype', attached: true });
    await e.close();

    f.editor = await NeovimSession.start({ home: f.dir, setup: { filetypes: ['typescript'] } });
    e = f.editor;
    await typeScenarioIn(e, f.dir, SCENARIOS[0]!);
    expect(await e.typeAndSync('<Esc>')).toEqual(['SlipstreamCleared', 'test:synced']);
    await e.ex(`edit ${markdownFile()}`); // BufEnter: the plugin leaves it alone
    expect(await e.pluginState()).toMatchObject({ enabled: true, attached: false });
    expect(await e.output('SlipstreamStatus')).toContain('suggestions off here: not attached, filetype not in filetypes');
    expect((await e.status()).documents).toBe(1);
  });

  it('auto_trigger = false: typing asks nothing (and clears), the trigger and next keys ask', async () => {
    f.editor = await NeovimSession.start({ home: f.dir, setup: { auto_trigger: false } });
    const e = f.editor;
    await openFile(e, scratchFile(f.dir, 'lf'));
    await e.append(SCENARIOS[0]!.append);
    expect(await e.typeAndSettle(SCENARIOS[0]!.keys, '  if (')).toEqual(['test:settled']);
    expect(await asked(e)).toEqual([]);
    expect(await e.pluginState()).toMatchObject({ enabled: true, auto_trigger: false });
    expect(await e.output('SlipstreamStatus')).toContain('suggestions on here, on request only');

    // the trigger key: an invoked request, its answer shown
    let since = e.events.mark();
    await e.type('<M-\\>');
    await e.events.waitFor('SlipstreamShown', since, 20_000, 'an invoked request takes well under a second');
    expect(e.events.since(since)).toEqual(['SlipstreamRequest', 'SlipstreamResponse', 'SlipstreamShown']);
    expect((await asked(e)).map((p) => p.context.triggerKind)).toEqual([1]);

    // typing clears it and asks nothing
    expect(await e.typeAndSettle('v', '  if (v')).toEqual(['SlipstreamCleared', 'test:settled']);
    expect(await asked(e)).toHaveLength(1);

    // the next key with none shown asks
    since = e.events.mark();
    await e.type('<M-]>');
    await e.events.waitFor('SlipstreamResponse', since, 20_000, 'an invoked request takes well under a second');
    expect(e.events.since(since)[0]).toBe('SlipstreamRequest');
    expect((await asked(e)).map((p) => p.context.triggerKind)).toEqual([1, 1]);
  });

  it(':SlipstreamStatus adds the share of accepted characters still there at each checkpoint that has some', async () => {
    f.editor = await NeovimSession.start({ home: f.dir });
    const e = f.editor;
    // made-up statuses (the real checkpoints come 30 s and 5 min after an accept): the formatting alone
    const line = (retention: object) =>
      e.nvim.lua(
        `return require('slipstream.report').server({ version = '1.0.0', engine = { state = 'ready', model = { dir = '/m' } },
          latency = { count = 0 }, events = { shown = 3, accepted = 2, retention = ... } })`,
        [retention as never],
      );
    const checkpoints = [
      { afterSeconds: 30, items: 2, acceptedChars: 41, retainedChars: 38 },
      { afterSeconds: 300, items: 1, acceptedChars: 12, retainedChars: 9 },
    ];
    expect(await line({ checkpoints, untracked: 0, tracking: 1 })).toBe('slipstream 1.0.0: ready, /m, no requests yet, 3 shown, 2 accepted, still there: 93% after 30 s, 75% after 5 min');
    expect(await line({ checkpoints: [checkpoints[0], { afterSeconds: 300, items: 0, acceptedChars: 0, retainedChars: 0 }], untracked: 0, tracking: 1 })).toMatch(/accepted, still there: 93% after 30 s$/);
    expect(await line({ checkpoints: [{ afterSeconds: 30, items: 0, acceptedChars: 0, retainedChars: 0 }], untracked: 0, tracking: 0 })).toMatch(/2 accepted$/);
    // the real server's, with no checkpoint reached yet: the status line and where suggestions stand
    await openFile(e, scratchFile(f.dir, 'lf'));
    const out = await e.output('SlipstreamStatus');
    expect(out).toMatch(/slipstream \S+: \w+, .*, 0 shown, 0 accepted; suggestions on here$/);
    expect(out).not.toContain('still there');
  });
});

describe.skipIf('skip' in tool)('editors/neovim in a real neovim: slipstream/suggestionFinished', () => {
  const f = editorFrame<NeovimSession>('neovim-finished');

  /** How suggestion-finished.ts reaches the plugin in `e`. */
  function hooks(e: NeovimSession): FinishedHooks {
    return {
      version: () => e.nvim.lua('return vim.lsp.util.buf_versions[vim.api.nvim_get_current_buf()]', []) as Promise<number>,
      uri: () => e.nvim.lua('return vim.uri_from_bufnr(0)', []) as Promise<string>,
      asked: async () => (await e.sent('textDocument/inlineCompletion')).filter((m) => m.kind === 'request').map((m) => m.params),
      traces: async () => (await e.request('slipstream/traces', {})).traces,
      deliver: (params) => e.suggestionFinished(params),
    };
  }

  it('the capability is declared at initialize', async () => {
    f.editor = await NeovimSession.start({ home: f.dir });
    const e = f.editor;
    await openFile(e, scratchFile(f.dir, 'lf'));
    const declared = await e.nvim.lua("return vim.lsp.get_client_by_id(require('slipstream').state().client_id).config.capabilities.experimental", []);
    expect(declared).toEqual({ slipstream: { suggestionFinished: true } });
  });

  it('with a 1 ms time budget the early answer grows to the whole suggestion with no keystroke, and accepting writes it', async () => {
    const e = (f.editor = await NeovimSession.start({ home: f.dir, settings: EARLY_SETTINGS }));
    const r = await runGrowsToWhole(e, hooks(e), f.reference.client, f.dir);
    const count = r.insertText.split('\n').length;
    expect(extmarkLines(r.shown as NeovimSnapshot), 'the extmark read back').toEqual(r.expectedLines.slice(r.shown.row, r.shown.row + count).map((l) => l.trimEnd()));
    // the early answer and the whole one, as the plugin received them
    const replies = (await e.sent('textDocument/inlineCompletion')).filter((m) => m.kind === 'reply' && m.params?.items?.length).map((m) => m.params.items[0].insertText as string);
    const [early, whole] = replies.slice(-2);
    expect(whole).toBe(r.insertText);
    expect(early !== whole && whole!.startsWith(early!), `the early answer ${JSON.stringify(early)} starts the whole ${JSON.stringify(whole)}`).toBe(true);
    console.log(`neovim, early answer ${JSON.stringify(early)} grew to ${JSON.stringify(whole)}`);
  });

  it('ignores the notification for a version, position or document it no longer shows, or once dismissed', async () => {
    f.editor = await NeovimSession.start({ home: f.dir });
    await runIgnoresStale(f.editor, hooks(f.editor), f.dir);
  });
});
