/**
 * editors/neovim in a real Neovim (0.7 or later; Debian ships 0.7.2) against the real server and
 * the shipped model: the shared editor suite, plus a readback of the suggestion from the plugin's
 * extmark (its virtual text and virtual lines) next to the screen; then Neovim's own: accepting a
 * suggestion word by word and line by line (also with characters beyond ASCII and the BMP in it),
 * and the next key asking for a suggestion when none is shown. Skips with a reason when nvim is
 * not installed; CI installs it.
 */
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnStdio, type SpawnedServer } from '../helpers/spawn-server.js';
import { cursorOffset, documentText, expectedScreen, findEditor, fixtureDrafter, fixtureModel, linesAfter, openFile, type Snapshot } from './editor-session.js';
import { editorSuite } from './editor-suite.js';
import { NeovimSession, PARTIAL_KEYS, type NeovimSnapshot } from './nvim-session.js';
import { referenceCompletion, SCENARIOS, scratchDir, scratchFile, waitForSuggestion, type Scenario } from './scenarios.js';

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
  let reference: SpawnedServer;
  let editor: NeovimSession | undefined;
  let dir: string;

  beforeAll(async () => {
    reference = spawnStdio(['--model', fixtureModel, '--drafter', fixtureDrafter]);
    await reference.client.initialize({});
    dir = scratchDir('neovim-partial');
  });

  afterAll(() => {
    reference?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await editor?.close();
    editor = undefined;
  });

  /** Opens the scenario's file and types its keys; resolves with the snapshot once a suggestion is shown. */
  async function typeScenario(e: NeovimSession, scenario: Scenario): Promise<NeovimSnapshot> {
    await openFile(e, scratchFile(dir, scenario.file));
    if (scenario.append.length > 0) await e.append(scenario.append);
    const since = e.events.mark();
    await e.type(scenario.keys);
    await waitForSuggestion(e, since);
    const shown = await e.snapshot();
    expect(shown.mode).toBe('i');
    return shown;
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
    editor = await NeovimSession.start({ home: dir });
    const e = editor;
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
    const ref = await referenceCompletion(reference.client, shown);
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
    editor = await NeovimSession.start({ home: dir });
    const e = editor;
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
    editor = await NeovimSession.start({ home: dir });
    const e = editor;
    await openFile(e, scratchFile(dir, 'lf')); // the server runs, with a buffer attached
    await e.ex('enew'); // no file name: the plugin leaves this one alone
    const since = e.events.mark();
    // the key's mapping feeds the key itself when these return false (init.lua's map)
    const r = await e.nvim.lua("local s = require('slipstream') return { s.next(), s.prev() }", []);
    expect(r).toEqual([false, false]);
    expect(e.events.since(since)).toEqual([]);
    expect(await e.sent('textDocument/inlineCompletion')).toEqual([]);
  });
});
