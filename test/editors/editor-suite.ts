/**
 * The test suite both editors run (neovim.test.ts, vim.test.ts): every scenario of scenarios.ts
 * against a reference server, cycling through alternatives at the cycling scenarios' spots, then
 * "leaving Insert mode clears the suggestion" and "typing cancels the request in flight". Each
 * test starts its own editor, whose plugin starts its own server.
 */
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnStdio, type SpawnedServer } from '../helpers/spawn-server.js';
import { displayed, editorSettings, fixtureDrafter, fixtureModel, openFile, type EditorSession, type EditorTool, type SessionOptions, type Snapshot } from './editor-session.js';
import { CYCLE_SCENARIOS, CYCLE_SETTINGS, runCycleScenario, runScenario, SCENARIOS, scratchDir, scratchFile, waitForSuggestion } from './scenarios.js';

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
    let reference: SpawnedServer;
    /** The cycling test's reference: CYCLE_SETTINGS, as the editor's server there. */
    let cycleReference: SpawnedServer;
    let editor: EditorSession | undefined;
    let dir: string;

    beforeAll(async () => {
      if ('version' in suite.tool) console.log(`${suite.name}: ${suite.tool.version}`);
      reference = spawnStdio(['--model', fixtureModel, '--drafter', fixtureDrafter]);
      await reference.client.initialize({});
      cycleReference = spawnStdio(['--model', fixtureModel, '--drafter', fixtureDrafter]);
      await cycleReference.client.initialize(editorSettings(CYCLE_SETTINGS));
      dir = scratchDir(suite.name);
    });

    afterAll(() => {
      reference?.kill();
      cycleReference?.kill();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    afterEach(async () => {
      await editor?.close();
      editor = undefined;
    });

    it.each(SCENARIOS)('$name: shows what slipstream/complete returns, and accepting writes exactly it', async (scenario) => {
      const started = performance.now();
      editor = await suite.start({ home: dir });
      const r = await runScenario(editor, reference.client, scenario, dir, suite.checkDecorations);
      console.log(`${suite.name}, ${scenario.name}: ${JSON.stringify(r.insertText)}; typed→shown ${r.ms.typedToShown.toFixed(0)} ms, accept ${r.ms.accept.toFixed(0)} ms, whole test ${(performance.now() - started).toFixed(0)} ms`);
    });

    it.each(CYCLE_SCENARIOS)('$name: the next and previous keys cycle through the alternatives, and accepting writes the one shown', async (scenario) => {
      editor = await suite.start({ home: dir, settings: CYCLE_SETTINGS });
      const r = await runCycleScenario(editor, cycleReference.client, scenario, dir, suite.checkDecorations);
      console.log(`${suite.name}, cycling at ${scenario.name}: ${JSON.stringify(r.texts)}`);
    });

    it('clears the suggestion when Insert mode ends', async () => {
      editor = await suite.start({ home: dir });
      await openFile(editor, scratchFile(dir, 'lf'));
      await editor.append(['export function median(values: number[]): number {']);
      let since = editor.events.mark();
      await editor.type('Go  if (');
      await waitForSuggestion(editor, since);
      expect((await editor.snapshot()).screen[1]).not.toBe('~'); // the suggestion's second line
      since = editor.events.mark();
      await editor.type('<Esc>');
      await editor.events.waitFor('SlipstreamCleared', since, 5_000, 'clearing is local');
      const snap = await editor.snapshot();
      expect(snap.mode).toBe('n');
      expect(snap.screen.slice(0, 2)).toEqual([displayed(snap.lines[snap.row]!, snap.tabstop), '~']);
      suite.checkCleared?.(snap);
    });

    it('typing cancels the request in flight with $/cancelRequest', async () => {
      // The server's debounce holds the first automatic request of a document for debounceMs
      // (5 s here), so it is certainly still in flight when the next key arrives.
      editor = await suite.start({ home: dir, settings: { completion: { debounceMs: 5000 } } });
      await openFile(editor, scratchFile(dir, 'lf'));
      let since = editor.events.mark();
      await editor.type('Goexport function m');
      await editor.events.waitFor('SlipstreamRequest', since, 5_000, 'the plugin asks 20 ms after the last key');
      const first = (await editor.pluginState()).pending;
      expect(first).toBeGreaterThan(0);
      since = editor.events.mark();
      await editor.type('e');
      // the newer request is answered after a short debounce (the typing interval, learnt from the two requests)
      await editor.events.waitFor('SlipstreamResponse', since, 10_000, 'the second request waits at most the 5 s debounce');
      expect((await editor.status()).requests.cancelled).toBe(1);
    });
  });
}
