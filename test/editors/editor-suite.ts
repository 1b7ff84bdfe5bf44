/**
 * The test suite both editors run (neovim.test.ts, vim.test.ts): every scenario of scenarios.ts
 * against a reference server, cycling through alternatives at the cycling scenarios' spots, then
 * "leaving Insert mode clears the suggestion" and "typing cancels the request in flight". Each
 * test starts its own editor, whose plugin starts its own server. Also the frame every editor
 * test block shares (editorFrame).
 */
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnStdio, type SpawnedServer } from '../helpers/spawn-server.js';
import { displayed, editorSettings, fixtureDrafter, fixtureModel, openFile, type EditorSession, type EditorTool, type SessionOptions, type Snapshot } from './editor-session.js';
import { CYCLE_SCENARIOS, CYCLE_SETTINGS, runCycleScenario, runScenario, SCENARIOS, scratchDir, scratchFile, waitForSuggestion } from './scenarios.js';

/** What a describe block of editor tests shares (editorFrame); the tests read and assign its fields. */
export interface EditorFrame<E extends { close(): Promise<void> }> {
  /** The block's scratch folder (scratchDir), the editors' home: made before its tests, removed after them. */
  dir: string;
  /** The editor the running test started, if any: closed after each test. */
  editor: E | undefined;
}

/** An EditorFrame with a reference server: `slipstream serve --stdio` on the shipped model, initialized with no settings. */
export interface ReferenceFrame<E extends { close(): Promise<void> }> extends EditorFrame<E> {
  reference: SpawnedServer;
}

export interface EditorFrameOptions {
  /** Runs first in the frame's beforeAll (before the reference server starts), e.g. to log the editor's version. */
  before?: () => void;
  /** false: no reference server (the block's tests compare with none). */
  reference?: false;
}

/**
 * Registers, in the describe block it is called in, the hooks every editor test block has: before
 * its tests, `opts.before`, then a reference server (unless `opts.reference` is false) and a scratch
 * folder `scratchDir(name)`; after each test, closing the editor the test left in `editor`; after
 * all, killing the reference server and removing the folder. Returns the frame whose fields the
 * hooks fill (read them inside tests and hooks, not when the block is defined).
 */
export function editorFrame<E extends { close(): Promise<void> }>(name: string, opts?: EditorFrameOptions & { reference?: undefined }): ReferenceFrame<E>;
export function editorFrame<E extends { close(): Promise<void> }>(name: string, opts: EditorFrameOptions & { reference: false }): EditorFrame<E>;
export function editorFrame<E extends { close(): Promise<void> }>(name: string, opts: EditorFrameOptions = {}): EditorFrame<E> {
  const frame = { editor: undefined } as Partial<ReferenceFrame<E>> & EditorFrame<E>;

  beforeAll(async () => {
    opts.before?.();
    if (opts.reference !== false) {
      frame.reference = spawnStdio(['--model', fixtureModel, '--drafter', fixtureDrafter]);
      await frame.reference.client.initialize({});
    }
    frame.dir = scratchDir(name);
  });

  afterAll(() => {
    frame.reference?.kill();
    if (frame.dir) rmSync(frame.dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await frame.editor?.close();
    frame.editor = undefined;
  });

  return frame;
}

export interface EditorSuite {
  name: string;
  tool: EditorTool | { skip: string };
  start(opts: SessionOptions): Promise<EditorSession>;
  /** The editor's own readback of the suggestion (beyond the screen), if it has one. */
  checkDecorations?: (shown: Snapshot, expectedLines: string[], insertText: string) => void;
  /** Expects no decoration left (beyond the screen check). */
  checkCleared?: (snap: Snapshot) => void;
}

export function editorSuite(suite: EditorSuite): void {
  const skip = 'skip' in suite.tool ? suite.tool.skip : undefined;
  if (skip) console.warn(`${suite.name} tests skipped: ${skip}`);

  describe.skipIf(skip)(`editors/${suite.name} in a real ${suite.name}`, () => {
    const f = editorFrame<EditorSession>(suite.name, {
      before: () => {
        if ('version' in suite.tool) console.log(`${suite.name}: ${suite.tool.version}`);
      },
    });
    /** The cycling test's reference: CYCLE_SETTINGS, as the editor's server there. */
    let cycleReference: SpawnedServer;

    beforeAll(async () => {
      cycleReference = spawnStdio(['--model', fixtureModel, '--drafter', fixtureDrafter]);
      await cycleReference.client.initialize(editorSettings(CYCLE_SETTINGS));
    });

    afterAll(() => {
      cycleReference?.kill();
    });

    it.each(SCENARIOS)('$name: shows what slipstream/complete returns, and accepting writes exactly it', async (scenario) => {
      const started = performance.now();
      f.editor = await suite.start({ home: f.dir });
      const r = await runScenario(f.editor, f.reference.client, scenario, f.dir, suite.checkDecorations);
      console.log(`${suite.name}, ${scenario.name}: ${JSON.stringify(r.insertText)}; typed→shown ${r.ms.typedToShown.toFixed(0)} ms, accept ${r.ms.accept.toFixed(0)} ms, whole test ${(performance.now() - started).toFixed(0)} ms`);
    });

    it.each(CYCLE_SCENARIOS)('$name: the next and previous keys cycle through the alternatives, and accepting writes the one shown', async (scenario) => {
      f.editor = await suite.start({ home: f.dir, settings: CYCLE_SETTINGS });
      const r = await runCycleScenario(f.editor, cycleReference.client, scenario, f.dir, suite.checkDecorations);
      console.log(`${suite.name}, cycling at ${scenario.name}: ${JSON.stringify(r.texts)}`);
    });

    it('clears the suggestion when Insert mode ends', async () => {
      f.editor = await suite.start({ home: f.dir });
      await openFile(f.editor, scratchFile(f.dir, 'lf'));
      await f.editor.append(['export function median(values: number[]): number {']);
      let since = f.editor.events.mark();
      await f.editor.type('Go  if (');
      await waitForSuggestion(f.editor, since);
      expect((await f.editor.snapshot()).screen[1]).not.toBe('~'); // the suggestion's second line
      since = f.editor.events.mark();
      await f.editor.type('<Esc>');
      await f.editor.events.waitFor('SlipstreamCleared', since, 5_000, 'clearing is local');
      const snap = await f.editor.snapshot();
      expect(snap.mode).toBe('n');
      expect(snap.screen.slice(0, 2)).toEqual([displayed(snap.lines[snap.row]!, snap.tabstop), '~']);
      suite.checkCleared?.(snap);
    });

    it('typing cancels the request in flight with $/cancelRequest', async () => {
      // The server's debounce holds the first automatic request of a document for debounceMs
      // (5 s here), so it is certainly still in flight when the next key arrives.
      f.editor = await suite.start({ home: f.dir, settings: { completion: { debounceMs: 5000 } } });
      await openFile(f.editor, scratchFile(f.dir, 'lf'));
      let since = f.editor.events.mark();
      await f.editor.type('Goexport function m');
      await f.editor.events.waitFor('SlipstreamRequest', since, 5_000, 'the plugin asks 20 ms after the last key');
      const first = (await f.editor.pluginState()).pending;
      expect(first).toBeGreaterThan(0);
      since = f.editor.events.mark();
      await f.editor.type('e');
      // the newer request is answered after a short debounce (the typing interval, learnt from the two requests)
      await f.editor.events.waitFor('SlipstreamResponse', since, 10_000, 'the second request waits at most the 5 s debounce');
      expect((await f.editor.status()).requests.cancelled).toBe(1);
    });
  });
}
