/**
 * Cycling through alternative suggestions in a real VS Code: the .vsix installed into its own
 * code-server, the shipped model, completion.alternatives at its default 3; the only Slipstream
 * user setting is a trace file, the server's view read back at the end. Headless Chromium types a
 * function header into a copy of fixtures/workspace and waits for the ghost text of the automatic
 * request. Alt+] (Show Next Inline Suggestion) makes VS Code ask again with triggerKind Invoke, the
 * server answers the usual suggestion plus sampled, distinct alternatives, and the ghost text must
 * change to another non-empty text; Alt+[ must bring the first back, Alt+] the other again. Tab
 * and Ctrl+S then write exactly the typed text plus that alternative, the server counts the accept
 * as an alternative's (the status menu says so), and the invoked request carries no keystroke
 * time (the wait before Alt+] is the user's, not the editor's share). Skips until
 * scripts/vscode-e2e-setup.sh has run. See docs/testing.md ("VS Code end to end").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestTrace } from '../../server/src/protocol.js';
import { waitForGhostOtherThan, waitForStableGhost } from './ghost-text.js';
import { e2eDir } from './tools.js';
import { e2eSkipReason, ghostIn, openFile, startWorkbench, type Workbench } from './workbench.js';

const missing = e2eSkipReason();
const SCRATCH = 'run-cycle';
const traceFile = join(e2eDir, SCRATCH, 'traces.jsonl');
const FILE = 'stats.ts';
// At the end of stats.ts the shipped model's invoked list here has had three distinct items in
// every run. Which text shows first depends on where the typing stopped (the first character that
// got a suggestion), so the test takes what the screen shows rather than a fixed list.
const TYPED = 'export function mean(values: number[]): number {';

describe.skipIf(missing)('cycling through alternative suggestions in code-server', () => {
  let wb: Workbench;

  beforeAll(async () => {
    wb = await startWorkbench(SCRATCH, { user: () => ({ 'slipstream.trace.file': traceFile }) });
  }, 120_000);

  afterAll(async () => {
    await wb?.close();
  });

  it('Alt+] shows another suggestion, Alt+[ the first again, and Tab accepts the one cycled to', async () => {
    const page = wb.page;
    const path = join(wb.scratch.workspace, 'src', FILE);
    const original = readFileSync(path, 'utf8');
    try {
      const editor = await openFile(page, FILE);
      await page.locator('.statusbar-item .codicon-zap').first().waitFor({ timeout: 60_000 });
      wb.mark('serverReady');
      await editor.locator('.view-lines').click();
      await page.keyboard.press('Control+End'); // the empty last line, after the final newline
      await page.keyboard.type(TYPED);
      await ghostIn(editor).waitFor({ state: 'visible', timeout: 15_000 });
      const first = await waitForStableGhost(page, 1000, 20_000);
      wb.mark('firstGhost');
      console.log(`vscode cycle e2e: typed ${JSON.stringify(TYPED)}, ghost text: ${JSON.stringify(first)}`);

      await page.keyboard.press('Alt+BracketRight');
      const next = await waitForGhostOtherThan(page, first);
      wb.mark('next');
      console.log(`vscode cycle e2e: after Alt+]: ${JSON.stringify(next)}`);
      await page.screenshot({ path: join(wb.scratch.root, 'next.png') });

      await page.keyboard.press('Alt+BracketLeft');
      const back = await waitForGhostOtherThan(page, next);
      wb.mark('previous');
      expect(back).toBe(first);

      await page.keyboard.press('Alt+BracketRight');
      const again = await waitForGhostOtherThan(page, first);
      wb.mark('nextAgain');
      expect(again).toBe(next);

      await page.keyboard.press('Tab');
      await page.keyboard.press('Control+S');
      const expected = original + TYPED + next;
      let onDisk = original;
      for (let i = 0; i < 100 && onDisk !== expected; i++) {
        await page.waitForTimeout(100);
        onDisk = readFileSync(path, 'utf8');
      }
      wb.mark('saved');
      console.log(`vscode cycle e2e: file tail on disk: ${JSON.stringify(onDisk.slice(original.length))}`);
      expect(onDisk).toBe(expected);

      // The server's view. Its traces: the typed text's last automatic request got the first ghost
      // text and carries the keystroke's time; Alt+] made an invoked request for the same text with
      // no keystroke time (VS Code asks once and cycles through that list), and alternatives were computed.
      const traces = readFileSync(traceFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RequestTrace);
      console.log(`vscode cycle e2e: traces ${traces.map((t) => `#${t.id} v${t.version} ${t.trigger} ${t.outcome} ${t.totalMs.toFixed(1)} ms${t.client?.editorMs !== undefined ? ` + editor ${t.client.editorMs.toFixed(1)} ms` : ''}`).join(', ')}`);
      const invokedAt = traces.findIndex((t) => t.trigger === 'invoked');
      expect(invokedAt).toBeGreaterThan(0);
      const invoked = traces[invokedAt]!;
      expect(['shown', 'cached']).toContain(invoked.outcome);
      expect(invoked.client?.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(invoked.client?.keystrokeAt).toBeUndefined();
      const typed = traces.slice(0, invokedAt).filter((t) => t.trigger === 'automatic' && (t.outcome === 'shown' || t.outcome === 'cached')).at(-1);
      expect(typed?.version).toBe(invoked.version);
      expect(typed?.client?.keystrokeAt).toBeGreaterThan(0);
      expect(traces.filter((t) => t.trigger === 'invoked').every((t) => t.client?.keystrokeAt === undefined)).toBe(true);
      expect(traces.filter((t) => t.trigger === 'alternative' && t.outcome === 'shown' && t.version === invoked.version).length).toBeGreaterThan(0);
      // Its accept count: Tab ran the alternative's accept command (its own item id).
      await page.locator('.statusbar-item').filter({ has: page.locator('.codicon-zap') }).first().click();
      const row = page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'Suggestions:' }).first();
      await row.waitFor({ timeout: 10_000 });
      const label = (await row.textContent()) ?? '';
      console.log(`vscode cycle e2e: status menu: ${JSON.stringify(label)}`);
      expect(label).toMatch(/accepted 1 \(1 alternative\)/);
      await page.keyboard.press('Escape');
      expect(wb.offsite).toEqual([]);
    } catch (e) {
      await page.screenshot({ path: join(wb.scratch.root, 'failure.png') }).catch(() => {});
      console.error(wb.report());
      throw e;
    }
  });
});
