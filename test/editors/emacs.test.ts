/**
 * editors/emacs in a real Emacs (28.1 or later; Debian ships 28.2), `emacs -Q --batch` driven by
 * test/editors/emacs-driver.el, against the real server and the shipped model. The elisp must
 * byte-compile without a warning; typed text gets a suggestion whose overlay reads exactly what a
 * separate server's `slipstream/complete` gives for the same text and offset, and accepting writes
 * exactly that (in each position encoding, with characters beyond the BMP before point); an edit
 * clears it; the server's copy of the buffer equals the buffer after edits of every kind; cycling
 * shows the server's alternatives; a missing or dying server is one message; with a time budget of
 * 1 ms, an early answer grows to the whole suggestion when the server sends
 * slipstream/suggestionFinished, and one for a text or spot left behind is ignored. One test runs
 * `emacs -nw` in a tmux terminal, types real keys and reads the screen. Each test starts its own
 * Emacs, whose client starts its own server. Skips with a reason when emacs (or, for the terminal
 * test, tmux) is not installed; CI installs both.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/paths.js';
import { EmacsSession, emacsLisp, findEmacs, findTmux, type EmacsSnapshot } from './emacs-session.js';
import { editorFrame } from './editor-suite.js';

const tool = findEmacs();
const skip = 'skip' in tool ? tool.skip : undefined;
if (skip) console.warn(`emacs tests skipped: ${skip}`);

const HEADER = 'export function median(values: number[]): number {\n';

/** Code points of `s`: Emacs counts characters, JavaScript strings UTF-16 code units. */
const chars = (s: string): string[] => [...s];
const utf16Offset = (text: string, point: number): number => chars(text).slice(0, point).join('').length;

interface Reference {
  text: string;
  offset: number;
  insertText: string;
  start: number;
  end: number;
}

const tmux = skip ? { skip } : findTmux();
const skipTerminal = 'skip' in tmux ? tmux.skip : undefined;
if (skipTerminal && !skip) console.warn(`emacs terminal test skipped: ${skipTerminal}`);

describe.skipIf(skip)('editors/emacs in a real Emacs', () => {
  const f = editorFrame<EmacsSession>('emacs', {
    before: () => {
      if ('version' in tool) console.log(`emacs: ${tool.version}`);
    },
  });
  let calls = 0;

  /** A fresh copy of the fixture file for one test. */
  function scratch(name: string): string {
    const path = join(f.dir, `${name}.ts`);
    copyFileSync(join(repoRoot, 'fixtures', 'workspace', 'src', 'stats.ts'), path);
    return path;
  }

  /** `slipstream/complete` from the reference server for the buffer and point of `snap`. */
  async function referenceCompletion(snap: EmacsSnapshot, alternatives = 1): Promise<Reference[]> {
    const offset = utf16Offset(snap.text, snap.point);
    // a fresh engine session per call, as the editor's server has for a newly opened file
    const result = await f.reference.client.request('slipstream/complete', { text: snap.text, offset, languageId: 'typescript', uri: `emacs-test:${++calls}`, alternatives });
    expect(result.items.length, `slipstream/complete at ${JSON.stringify(snap.text.slice(offset - 60, offset))}|`).toBeGreaterThanOrEqual(1);
    return result.items.map((item: Omit<Reference, 'text' | 'offset'>) => ({ text: snap.text, offset, ...item }));
  }

  /** Waits for the answer to the request after typing (past stale ones); expects it shown. */
  async function waitForSuggestion(since: number): Promise<EmacsSnapshot> {
    for (let mark = since; ; ) {
      await f.editor!.events.waitFor('response', mark, 20_000, 'the server loads the 11 MB model and answers in well under a second');
      mark = f.editor!.events.mark();
      const snap = await f.editor!.snapshot();
      if (snap.state.last?.outcome !== 'stale') {
        expect(snap.state.last, 'outcome of the request after typing').toMatchObject({ outcome: 'shown' });
        return snap;
      }
    }
  }

  /** The buffer's text after accepting `ref`. */
  const accepted = (ref: Reference): string => ref.text.slice(0, ref.start) + ref.insertText + ref.text.slice(ref.end);

  /**
   * Expects the overlay to show exactly `ref`: the point's line as it will read after accepting,
   * then the suggestion's following lines, the suggested text in slipstream-suggestion-face.
   */
  function expectOverlay(snap: EmacsSnapshot, ref: Reference): void {
    expect(snap.overlays, 'one slipstream overlay').toHaveLength(1);
    const ov = snap.overlays[0]!;
    expect({ start: ov.start, window: ov.window, active: snap.active }).toEqual({ start: snap.point, window: true, active: true });
    const cps = chars(snap.text);
    const bol = cps.lastIndexOf('\n', snap.point - 1) + 1;
    let eol = cps.indexOf('\n', snap.point);
    if (eol < 0) eol = cps.length;
    expect(ov.end, 'the overlay covers the rest of the line').toBe(eol);
    const shown = cps.slice(bol, ov.start).join('') + (ov.display ?? cps.slice(ov.start, ov.end).join('')) + (ov.after ?? '');
    const after = accepted(ref);
    const row = snap.text.slice(0, utf16Offset(snap.text, snap.point)).split('\n').length - 1;
    const count = ref.insertText.split('\n').length;
    expect(shown.split('\n'), 'the overlay read back').toEqual(after.split('\n').slice(row, row + count));
    // the suggested text in the suggestion face, what stays of the line after it in its own
    const rest = ref.text.slice(ref.end).split('\n')[0]!;
    expect(ov.faces, 'faces').toEqual([...chars(ref.insertText).map(() => 1), ...chars(rest).map(() => 0)]);
  }

  /** Accepts with TAB; expects exactly `ref` written, point after it, the accept counted. */
  async function acceptAndCheck(ref: Reference, acceptedBefore = 0): Promise<EmacsSnapshot> {
    const since = f.editor!.events.mark();
    await f.editor!.keys('TAB');
    await f.editor!.events.waitFor('accepted', since, 5_000, 'accepting is a local buffer edit');
    const snap = await f.editor!.snapshot();
    expect(snap.text).toBe(accepted(ref));
    expect(snap.point).toBe(chars(ref.text.slice(0, ref.start) + ref.insertText).length);
    const status = await f.editor!.status();
    expect(status.events.accepted).toBe(acceptedBefore + 1);
    expect(status.events.shown).toBeGreaterThanOrEqual(1);
    return snap;
  }

  /** Expects the server's copy of the buffer to be the buffer. */
  async function expectSynced(what: string): Promise<void> {
    const snap = await f.editor!.snapshot();
    const doc = await f.editor!.request('slipstream/debug/document', { uri: snap.uri });
    expect(doc, `the server's copy after ${what}`).toEqual({ uri: snap.uri, version: snap.version, text: snap.text });
  }

  it('byte-compiles without warnings', () => {
    const out = join(f.dir, 'elc');
    mkdirSync(out, { recursive: true });
    const files = readdirSync(emacsLisp).filter((f) => f.endsWith('.el'));
    expect(files).toEqual(['slipstream-server.el', 'slipstream.el']);
    const form = `(progn (setq byte-compile-error-on-warn t byte-compile-dest-file-function (lambda (f) (expand-file-name (concat (file-name-nondirectory f) "c") ${JSON.stringify(out)}))) (push ${JSON.stringify(emacsLisp)} load-path) (dolist (f '(${files.map((f) => JSON.stringify(join(emacsLisp, f))).join(' ')})) (unless (byte-compile-file f) (kill-emacs 1))))`;
    const r = spawnSync('emacs', ['-Q', '--batch', '--eval', form], { encoding: 'utf8' });
    expect({ status: r.status, warnings: r.stderr.split('\n').filter((l) => /Warning|Error/.test(l)) }, r.stderr).toEqual({ status: 0, warnings: [] });
    expect(readdirSync(out).sort()).toEqual(['slipstream-server.elc', 'slipstream.elc']);
  });

  it('shows what slipstream/complete returns at the end of a line; an edit clears it; TAB writes exactly it', async () => {
    const started = performance.now();
    f.editor = await EmacsSession.start({ home: f.dir });
    await f.editor.open(scratch('end-of-line'));
    await f.editor.eval('(goto-char (point-max))');
    let since = f.editor.events.mark();
    const t0 = performance.now();
    await f.editor.text(`${HEADER}  if (`);
    let snap = await waitForSuggestion(since);
    const typedToShown = performance.now() - t0;
    expect(snap.state.encoding).toBe('utf-32');
    let [ref] = await referenceCompletion(snap);
    expect(ref!.start).toBe(ref!.offset);
    expectOverlay(snap, ref!);

    // a character other than the suggestion's next one: the overlay goes at once, a new one comes
    const other = ref!.insertText.startsWith('x') ? 'y' : 'x';
    since = f.editor.events.mark();
    await f.editor.text(other);
    await f.editor.events.waitFor('cleared', since, 1_000, 'the edit itself clears it');
    const cleared = await f.editor.snapshot();
    // events and the snapshot's answer come in order on one socket: unless the next suggestion was
    // already shown before the snapshot (the driver answers between waits of 20 ms), none is on screen
    const seen = f.editor.events.since(since);
    if (seen.lastIndexOf('shown') < seen.indexOf('cleared')) expect({ overlays: cleared.overlays, active: cleared.active }).toEqual({ overlays: [], active: false });
    snap = await waitForSuggestion(since);
    [ref] = await referenceCompletion(snap);
    expectOverlay(snap, ref!);

    // M-f (slipstream-accept-word, bound by the driver as the README suggests) writes the first
    // word and keeps the rest on screen, twice while a word remains; TAB then writes the rest:
    // together exactly the item. Each didPartiallyAcceptCompletion carries the length accepted so
    // far (UTF-16 units of the item's text, as VS Code counts it), read back from the client.
    await f.editor.eval(`(progn (defvar slipstream-test--partial nil)
      (advice-add 'slipstream--notify :before
        (lambda (method params) (when (eq method 'textDocument/didPartiallyAcceptCompletion)
                                  (push (plist-get params :acceptedLength) slipstream-test--partial)))
        '((name . slipstream-test-partial))))`);
    const lengths: number[] = [];
    let part = '';
    for (let press = 1; press <= 2; press++) {
      since = f.editor.events.mark();
      await f.editor.keys('M-f');
      await f.editor.events.waitFor('shown', since, 1_000, 'the rest is shown at once, without a request');
      snap = await f.editor.snapshot();
      part = snap.text.slice(ref!.start, ref!.start + snap.text.length - ref!.text.length);
      expect(snap.text).toBe(ref!.text.slice(0, ref!.start) + part + ref!.text.slice(ref!.start));
      expect(part.length > 0 && part.length < ref!.insertText.length && ref!.insertText.startsWith(part), `accepted ${JSON.stringify(part)} of ${JSON.stringify(ref!.insertText)}`).toBe(true);
      expectOverlay(snap, { text: snap.text, offset: ref!.start + part.length, insertText: ref!.insertText.slice(part.length), start: ref!.start + part.length, end: ref!.end + part.length });
      expect(snap.state.pending, 'no request after a partial accept').toBeNull();
      expect((await f.editor.status()).events.partiallyAccepted).toBe(press);
      lengths.push(part.length);
      // again only where the rest has a word with more after it (else M-f would accept it all)
      if (!/^\W*\w+\W/.test(ref!.insertText.slice(part.length))) break;
    }
    expect((await f.editor.eval('(reverse slipstream-test--partial)')) ?? []).toEqual(lengths);
    await f.editor.eval(`(advice-remove 'slipstream--notify 'slipstream-test-partial)`);

    const t1 = performance.now();
    await acceptAndCheck(ref!);
    console.log(`emacs, end of line: ${JSON.stringify(ref!.insertText)}; typed→shown ${typedToShown.toFixed(0)} ms, accept ${(performance.now() - t1).toFixed(0)} ms, whole test ${(performance.now() - started).toFixed(0)} ms`);
  });

  it.skipIf(skipTerminal)('in a terminal (emacs -nw under tmux): the screen shows the lines as they will read, the cursor in front of the ghost text, and the Tab key accepts', async () => {
    const terminal = { columns: 300, lines: 40 };
    f.editor = await EmacsSession.start({ home: f.dir, terminal });
    await f.editor.open(scratch('terminal'));
    await f.editor.eval('(goto-char (point-max))');
    const lines = async (keys: string[][]): Promise<{ snap: EmacsSnapshot; ref: Reference }> => {
      const since = f.editor!.events.mark();
      for (const k of keys) f.editor!.terminalKeys(...k);
      const snap = await waitForSuggestion(since);
      const [ref] = await referenceCompletion(snap);
      expectOverlay(snap, ref!);
      // the rows from the cursor's: the suggestion's lines as they will read, then nothing (the end of the buffer)
      const after = accepted(ref!).split('\n');
      const row = snap.text.slice(0, ref!.offset).split('\n').length - 1;
      const count = ref!.insertText.split('\n').length;
      const column = snap.text.slice(0, ref!.offset).split('\n').at(-1)!.length;
      const expected = [...after.slice(row, row + count), ''];
      let screen = f.editor!.screen();
      // the driver answered after a redisplay; tmux may still be reading what Emacs wrote
      for (let i = 0; i < 100 && JSON.stringify(screen.rows.slice(screen.cursor.y, screen.cursor.y + expected.length)) !== JSON.stringify(expected); i++) {
        await new Promise((r) => setTimeout(r, 20));
        screen = f.editor!.screen();
      }
      expect(screen.rows.slice(screen.cursor.y, screen.cursor.y + expected.length), 'the terminal from the cursor row').toEqual(expected);
      expect(screen.cursor.x, 'the cursor stays at point, in front of the suggestion').toBe(column);
      console.log(`emacs -nw: ${JSON.stringify(ref!.insertText)} replacing ${ref!.end - ref!.start}; screen from the cursor row ${JSON.stringify(expected)}`);
      return { snap, ref: ref! };
    };
    // at the end of a line: a multi-line suggestion drawn after point
    await lines([['-l', HEADER.trimEnd()], ['Enter'], ['-l', '  if (']]);
    // mid-line: the rest of the line follows the suggestion, or is hidden when the item replaces it
    // (the shipped model's does here); tmux takes a ";" ending an argument for a command separator
    const { snap, ref } = await lines([['Enter'], ['-l', '  if (values.length === 0) return'], ['\\;', 'C-b', 'Space']]);
    expect(snap.text.endsWith('  if (values.length === 0) return ;') && snap.point === chars(snap.text).length - 1, 'typed as sent').toBe(true);
    const since = f.editor.events.mark();
    f.editor.terminalKeys('Tab');
    await f.editor.events.waitFor('accepted', since, 5_000, 'accepting is a local buffer edit');
    expect((await f.editor.snapshot()).text).toBe(accepted(ref));
    expect((await f.editor.status()).events.accepted).toBe(1);
  });

  it.each(['utf-16', 'utf-8'])("mid-line, with characters beyond ASCII and the BMP before point (%s): the item's range replaces the rest of the line", async (encoding) => {
    f.editor = await EmacsSession.start({ home: f.dir, encodings: [encoding] });
    await f.editor.open(scratch(`mid-line-${encoding}`));
    await f.editor.eval('(goto-char (point-max))');
    await f.editor.text(`${HEADER}  const é𝒳 = values.length; if (é𝒳 === 0) return;`);
    const since = f.editor.events.mark();
    await f.editor.keys('C-b SPC');
    let snap = await waitForSuggestion(since);
    expect(snap.state.encoding).toBe(encoding);
    const [ref] = await referenceCompletion(snap);
    expect(ref!.start).toBe(ref!.offset);
    // chosen so that the shipped model's suggestion here ends with the rest of the line (";"),
    // which its range then covers: a model that answers otherwise needs another line here
    expect(ref!.end, `the reference suggestion ${JSON.stringify(ref!.insertText)} replaces the ";" after point`).toBe(ref!.start + 1);
    expectOverlay(snap, ref!);
    console.log(`emacs, mid-line ${encoding}: ${JSON.stringify(ref!.insertText)} replacing ${ref!.end - ref!.start} code units`);

    // moving point clears it, and asks nothing; C-c \ (invoked) asks here again
    let mark = f.editor.events.mark();
    await f.editor.keys('C-f');
    await f.editor.events.waitFor('cleared', mark, 1_000, 'the move itself clears it');
    await f.editor.eval('(progn (sit-for 0.1) t)'); // five times the idle delay: a request would have been sent
    const moved = await f.editor.snapshot();
    expect({ overlays: moved.overlays, pending: moved.state.pending, timer: await f.editor.eval('(and slipstream--timer t)') }).toEqual({ overlays: [], pending: null, timer: null });
    mark = f.editor.events.mark();
    await f.editor.keys('C-b C-c \\');
    snap = await waitForSuggestion(mark);
    expectOverlay(snap, ref!);
    await acceptAndCheck(ref!);
  });

  it('cycles through the alternatives of an invoked request (M-n, M-p) and accepts one', async () => {
    f.editor = await EmacsSession.start({ home: f.dir });
    await f.editor.open(scratch('cycle'));
    await f.editor.eval('(goto-char (point-max))');
    let since = f.editor.events.mark();
    await f.editor.text(`${HEADER}  if (`);
    let snap = await waitForSuggestion(since);
    const refs = await referenceCompletion(snap, 3);
    expect(snap.state.suggestion!.texts).toEqual([refs[0]!.insertText]);
    expectOverlay(snap, refs[0]!);
    // the shipped model's sampled alternatives differ from its greedy suggestion here
    const distinct = refs.findIndex((r) => r.insertText !== refs[0]!.insertText);
    expect(distinct, `alternatives ${JSON.stringify(refs.map((r) => r.insertText))}`).toBeGreaterThan(0);

    // M-n on an automatic suggestion asks for the alternatives at the same spot
    since = f.editor.events.mark();
    await f.editor.keys('M-n');
    snap = await waitForSuggestion(since);
    expect(snap.state.suggestion!.texts).toEqual(refs.map((r) => r.insertText));
    expect(snap.state.suggestion!.index).toBe(distinct);
    expectOverlay(snap, refs[distinct]!);
    // then M-p and M-n move through them without asking
    since = f.editor.events.mark();
    await f.editor.keys('M-p');
    snap = await f.editor.snapshot();
    expect(snap.state.suggestion!.index).toBe(distinct - 1);
    expectOverlay(snap, refs[distinct - 1]!);
    await f.editor.keys('M-n');
    snap = await f.editor.snapshot();
    expect(snap.state.suggestion!.index).toBe(distinct);
    expect(f.editor.events.mark() - since, 'two shown and two cleared events, no request').toBe(4);
    await acceptAndCheck(refs[distinct]!);
    const status = await f.editor.status();
    expect(status.events.shown).toBeGreaterThanOrEqual(2);

    // M-x slipstream-status: the summary in the echo area (stderr in batch mode)
    await f.editor.eval('(slipstream-status)');
    const summary = /^slipstream \S+: ready, model \S+slipstream-code, mode (ar|redrafter), last \d+ ms \(median \d+ ms\), \d+ shown, 1 accepted$/m;
    for (let i = 0; i < 100 && !summary.test(f.editor.stderr); i++) await f.editor.eval('(progn (sit-for 0.02) t)');
    expect(f.editor.stderr).toMatch(summary);
    // with retention figures (events.retention of slipstream/status), the share of accepted characters still there
    const retention = '(:checkpoints [(:afterSeconds 30 :items 2 :acceptedChars 40 :retainedChars 37) (:afterSeconds 300 :items 0 :acceptedChars 0 :retainedChars 0)] :untracked 0 :tracking 1)';
    expect(await f.editor.eval(`(slipstream--format-retention '${retention})`)).toBe(', still there: 92% after 30 s');
    expect(await f.editor.eval(`(slipstream--format-retention '(:checkpoints [(:afterSeconds 30 :items 2 :acceptedChars 40 :retainedChars 37) (:afterSeconds 300 :items 1 :acceptedChars 8 :retainedChars 6)])) `)).toBe(', still there: 92% after 30 s, 75% after 5 min');
    expect(await f.editor.eval(`(slipstream--format-retention nil)`)).toBe('');
  });

  it('grows the ghost text of an early answer (timeBudgetMs 1) to the whole suggestion when the server says it is finished, without a keystroke', async () => {
    f.editor = await EmacsSession.start({ home: f.dir, settings: { completion: { timeBudgetMs: 1 } } });
    await f.editor.open(scratch('finished'));
    await f.editor.eval('(goto-char (point-max))');
    await f.editor.record();
    const since = f.editor.events.mark();
    await f.editor.text(`${HEADER}  if (`);
    let snap = await waitForSuggestion(since);
    const [ref] = await referenceCompletion(snap);
    // what is shown from then on, until the whole suggestion: no key is typed meanwhile
    for (;;) {
      const mark = f.editor.events.mark();
      snap = await f.editor.snapshot(); // events and answers arrive in order: this shows at least what came before the mark
      if (snap.state.suggestion?.text === ref!.insertText) break;
      await f.editor.events
        .waitFor('shown', mark, 20_000, 'the rest of a 48-token suggestion takes well under a second; then the server tells, the client asks again, the cache answers at once')
        .catch(async (e: Error) => {
          throw new Error(`${e.message}; the client asked, showed and was told: ${JSON.stringify(await f.editor!.recorded())}`);
        });
    }
    expectOverlay(snap, ref!);
    // the shipped model's suggestion here is several lines: with a budget of 1 ms its start was shown
    // first, then (told by slipstream/suggestionFinished) an automatic request at the same spot got the rest
    const record = await f.editor.recorded();
    expect(record.map((r) => r.kind), JSON.stringify(record)).toEqual(['request', 'shown', 'finished', 'request', 'shown']);
    const [asked, early, told, again, whole] = record as any[];
    expect(ref!.insertText.length > early.text.length && ref!.insertText.startsWith(early.text), `the early answer ${JSON.stringify(early.text)} starts the whole suggestion ${JSON.stringify(ref!.insertText)}`).toBe(true);
    expect(whole.text).toBe(ref!.insertText);
    expect(asked).toMatchObject({ trigger: 2, version: snap.version });
    expect({ version: told.version, position: told.position }).toEqual({ version: asked.version, position: asked.position });
    expect(again, 'asked again: automatic, at the same spot of the same text').toEqual(asked);
    // the server's side: an early answer, then the whole suggestion from the cache (no second generation)
    const traces = ((await f.editor.request('slipstream/traces', { uri: snap.uri })).traces as any[]).filter((t) => t.trigger === 'automatic');
    expect(traces.map((t) => [t.outcome, t.cacheHit ?? null]), JSON.stringify(traces.map((t) => [t.outcome, t.cacheHit]))).toEqual([
      ['shown', 'none'],
      ['cached', 'typing'],
    ]);
    expect(traces[0].spans.children.find((s: { name: string }) => s.name === 'postprocess')?.attrs).toMatchObject({ timeBudget: true });
    // the usual suggestion: TAB writes all of it
    await acceptAndCheck(ref!);
    console.log(`emacs, early answer ${JSON.stringify(early.text)} grown to ${JSON.stringify(whole.text)}`);
  });

  it("ignores slipstream/suggestionFinished for a version the buffer no longer has, another spot, another document or no suggestion; asks again only where its suggestion is still shown", async () => {
    f.editor = await EmacsSession.start({ home: f.dir });
    await f.editor.open(scratch('finished-ignored'));
    await f.editor.eval('(goto-char (point-max))');
    let since = f.editor.events.mark();
    await f.editor.text(`${HEADER}  if (`);
    const before = await waitForSuggestion(since);
    const at = async (): Promise<{ line: number; character: number }> => f.editor!.eval('(slipstream--lsp-position (point))');
    const first = { uri: before.uri, version: before.version, position: await at() };
    // the user types on: a new suggestion at the next spot, in the next version
    since = f.editor.events.mark();
    await f.editor.text('v');
    const snap = await waitForSuggestion(since);
    expect(snap.version).toBeGreaterThan(first.version);
    const now = { uri: snap.uri, version: snap.version, position: await at() };
    await f.editor.record();
    const notify = (n: { uri: unknown; version: unknown; position: unknown }): Promise<void> =>
      f.editor!.serverNotification('slipstream/suggestionFinished', { textDocument: { uri: n.uri, version: n.version }, position: n.position });
    const ignored: [string, () => Promise<unknown>][] = [
      ['the version and spot typed over', () => notify(first)],
      ['a version the buffer no longer has, at point', () => notify({ ...now, version: first.version })],
      ['another spot of this version', () => notify({ ...now, position: first.position })],
      ['another document', () => notify({ ...now, uri: 'file:///elsewhere.ts' })],
      ['malformed params', () => f.editor!.serverNotification('slipstream/suggestionFinished', { textDocument: 3, position: 'x' })],
    ];
    for (const [what, send] of ignored) {
      await send();
      // a request is sent at once (slipstream--request) and noted before the driver answers
      const requests = (await f.editor.recorded()).filter((r) => r.kind === 'request');
      const after = await f.editor.snapshot();
      expect({ requests, pending: after.state.pending, suggestion: after.state.suggestion?.text, overlays: after.overlays.length }, what).toEqual({ requests: [], pending: null, suggestion: snap.state.suggestion!.text, overlays: 1 });
    }
    // the user dismisses it: nothing to grow
    await f.editor.eval('(slipstream-dismiss)');
    await notify(now);
    expect((await f.editor.snapshot()).state.pending, 'after dismissing').toBeNull();
    // handed on to the client for its buffer (not for another document's URI or malformed params), and no request sent
    expect((await f.editor.recorded()).map((r) => r.kind)).toEqual(['finished', 'finished', 'finished', 'finished']);
    // where its suggestion is shown, at its version and spot, the client asks again (automatic) and shows the answer
    since = f.editor.events.mark();
    await f.editor.text('a');
    const shown = await waitForSuggestion(since);
    const here = { uri: shown.uri, version: shown.version, position: await at() };
    await f.editor.record();
    since = f.editor.events.mark();
    await notify(here);
    await f.editor.events.waitFor('shown', since, 20_000, 'the server answers a request it has just answered from its cache');
    expect((await f.editor.snapshot()).state.suggestion?.text).toBe(shown.state.suggestion!.text);
    expect((await f.editor.recorded()).map((r) => r.kind)).toEqual(['finished', 'request', 'shown']);
    expect((await f.editor.recorded())[1]).toEqual({ kind: 'request', trigger: 2, version: here.version, position: here.position });
  });

  it.each(['utf-32', 'utf-16', 'utf-8'])("keeps the server's copy equal to the buffer through edits of every kind (%s)", async (encoding) => {
    f.editor = await EmacsSession.start({ home: f.dir, encodings: [encoding] });
    await f.editor.open(scratch(`sync-${encoding}`));
    expect((await f.editor.snapshot()).state.encoding).toBe(encoding);
    await expectSynced('opening');
    const steps: [string, () => Promise<unknown>][] = [
      ['typing multi-byte characters and line breaks at the end', () => f.editor!.eval('(goto-char (point-max))').then(() => f.editor!.text("const café = '😀é';\nlet 𝒳 = 1;\n"))],
      ['typing in the middle of a line', () => f.editor!.keys('C-p C-p C-e').then(() => f.editor!.text(' // naïve 😀'))],
      ['deleting a character beyond the BMP', () => f.editor!.keys('DEL DEL')],
      ['killing a region across lines', () => f.editor!.keys('M-< C-n C-f C-f C-SPC C-n C-n C-n C-e C-w')],
      ['yanking it at the end', () => f.editor!.keys('M-> C-y')],
      ['capitalizing and upcasing words', () => f.editor!.keys('M-< C-n C-n M-c M-u')],
      ['upcasing a region with é and 😀', () => f.editor!.eval('(upcase-region (- (point-max) 40) (point-max))')],
      ['transposing lines', () => f.editor!.keys('M-< C-n C-n C-x C-t')],
      ['undoing', () => f.editor!.keys('C-/ C-/ C-/')],
      ['joining lines', () => f.editor!.keys('M-> C-p C-p M-^')],
      ['replacing é with a combining sequence everywhere (no command)', () => f.editor!.eval('(save-excursion (goto-char (point-min)) (while (search-forward "é" nil t) (replace-match "e\u0301")))')],
      ['editing while narrowed', () => f.editor!.eval('(save-restriction (narrow-to-region 50 120) (goto-char (point-max)) (insert "😀\\n\\t") (goto-char (point-min)) (delete-char 3))')],
      ['deleting across many lines', () => f.editor!.eval('(delete-region 30 (- (point-max) 30))')],
      ['inserting a carriage return', () => f.editor!.eval('(save-excursion (goto-char (point-min)) (insert "a\\rb😀\\r\\n"))')],
      ['typing after it', () => f.editor!.keys('M-> C-p').then(() => f.editor!.text('x😀y\n'))],
      ['removing the carriage returns', () => f.editor!.eval('(save-excursion (goto-char (point-min)) (while (search-forward "\\r" nil t) (replace-match "")))')],
      ['typing once more', () => f.editor!.keys('M-<').then(() => f.editor!.text('é😀\n'))],
      // the file changed on disk: revert-buffer replaces what differs (insert-file-contents's REPLACE)
      ['reverting to a changed file, modes kept', () => f.editor!.eval('(let* ((text (buffer-string)) (n (length text))) (write-region (concat "// 😀 first\n" (substring text 5 (/ n 3)) "naïve\n" (substring text (/ (* 2 n) 3))) nil buffer-file-name) (revert-buffer t t t))')],
    ];
    let version = 0;
    const wholeTexts = new Map<string, number>();
    for (const [what, step] of steps) {
      await step();
      await expectSynced(what);
      const snap = await f.editor.snapshot();
      expect(snap.version, `${what} changed the version`).toBeGreaterThan(version);
      version = snap.version;
      wholeTexts.set(what, await f.editor.eval('slipstream--whole-text-syncs'));
    }
    // revert-buffer that runs the major mode again closes the buffer on the server and opens it anew
    let since = f.editor.events.mark();
    await f.editor.eval('(progn (write-region (concat "const ü = 1;\n" (buffer-string)) nil buffer-file-name) (revert-buffer t t))');
    await f.editor.events.waitFor('attached', since, 5_000, 'the mode is turned on again with the major mode');
    expect((await f.editor.snapshot()).version).toBe(0);
    await expectSynced('reverting with the major mode run again');
    since = f.editor.events.mark();
    await f.editor.text('x');
    await expectSynced('typing after that');
    // ranges, not whole texts, except while the buffer holds a carriage return
    expect(wholeTexts.get('inserting a carriage return'), 'whole-text didChanges up to the carriage return').toBe(0);
    expect(wholeTexts.get('typing after it')).toBeGreaterThan(0);
    expect(wholeTexts.get('typing once more'), 'whole-text didChanges once it is gone').toBe(wholeTexts.get('removing the carriage returns'));
  });

  it('cancels the request in flight with $/cancelRequest when typing goes on', async () => {
    // The server's debounce holds the first automatic request of a document for debounceMs
    // (5 s here), so it is certainly still in flight when the next key arrives.
    f.editor = await EmacsSession.start({ home: f.dir, settings: { completion: { debounceMs: 5000 } } });
    await f.editor.open(scratch('cancel'));
    await f.editor.eval('(goto-char (point-max))');
    let since = f.editor.events.mark();
    await f.editor.text('export function m');
    await f.editor.events.waitFor('request', since, 5_000, 'the client asks 20 ms after the last key');
    const first = (await f.editor.snapshot()).state.pending;
    expect(first).toBeGreaterThan(0);
    since = f.editor.events.mark();
    await f.editor.text('e');
    await f.editor.events.waitFor('response', since, 10_000, 'the second request waits at most the 5 s debounce');
    expect((await f.editor.status()).requests.cancelled).toBe(1);
  });

  it.each([
    ['is not installed', ['slipstream-test-no-such-command', 'serve', '--stdio'], /^slipstream: could not start slipstream-test-no-such-command serve --stdio: .*\(M-x slipstream-restart starts it again\)$/],
    ['exits at once', [process.execPath, '-e', 'process.stderr.write("boom\\n"); process.exit(3)'], /^slipstream: the server exited \(exit 3\): boom \(M-x slipstream-restart starts it again\)$/],
  ])('a server that %s is one message, not an error per keystroke', async (_what, command, message) => {
    f.editor = await EmacsSession.start({ home: f.dir, command });
    await f.editor.eval(`(find-file ${JSON.stringify(scratch('no-server'))})`);
    const said = async (): Promise<string[]> => {
      // let the client's timers run (the debounce, the message it defers out of the sentinel)
      await f.editor!.eval('(progn (sit-for 0.1) t)');
      return f.editor!.stderr.split('\n').filter((l) => /slipstream|[Ee]rror/.test(l));
    };
    for (let i = 0; i < 50 && (await said()).length === 0; i++); // the process exits within ~100 ms
    for (const keys of ['abc', '\nd', 'ef']) await f.editor.text(keys);
    const lines = await said();
    expect(lines, f.editor.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect((await f.editor.snapshot()).state.server).toBe(command[0] === process.execPath ? 'exited' : 'failed');
    // the manual trigger says why it cannot ask
    await f.editor.keys('C-c \\');
    expect((await said()).slice(1)).toEqual([lines[0]!.replace(/^slipstream: (.*) \(M-x.*$/, 'slipstream: not running: $1')]);
  });
});
