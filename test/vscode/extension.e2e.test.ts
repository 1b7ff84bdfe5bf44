/**
 * The VS Code extension in a real VS Code, as a user gets it: the .vsix of `npm run
 * package:extension` installed into code-server with no Slipstream settings at all; it starts its
 * bundled server on the shipped model, and headless Chromium (playwright-core) types into a copy
 * of fixtures/workspace, reads the real model's ghost text from the editor DOM, accepts it with
 * Tab, saves, and checks the file on disk. The workspace's .vscode/settings.json names a server
 * command, a model and a trace file, as a hostile repository could: none of them is used. Also
 * the status bar, its tooltip's last-request breakdown, its menu and the latency report. Skips
 * (with a message) until scripts/vscode-e2e-setup.sh has run.
 * See docs/testing.md ("VS Code end to end").
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extensionLog } from './code-server.js';
import { e2eDir, type Page } from './tools.js';
import { waitForStableGhost } from './ghost-text.js';
import { e2eSkipReason, ghostIn, openFile, startWorkbench, type Workbench } from './workbench.js';

const missing = e2eSkipReason();
const scratchRoot = join(e2eDir, 'run');
// What a cloned repository's .vscode/settings.json could say: run this, load that, write there.
const ranMarker = join(scratchRoot, 'workspace-server-command-ran');
const stolenTrace = join(scratchRoot, 'workspace-trace-file.jsonl');
const hostileWorkspace = {
  'slipstream.server.command': ['bash', '-c', `touch '${ranMarker}'; exec sleep 600`],
  'slipstream.engine.model': join(scratchRoot, 'no-such-model'),
  'slipstream.engine.drafter': join(scratchRoot, 'no-such-drafter'),
  'slipstream.trace.file': stolenTrace,
};

const FILE = 'stats.ts';
// Typed one character at a time until ghost text shows (which character first gets a suggestion
// depends on the model's weights; the test accepts whatever the real model offers).
const TYPED = 'export function mean(values: number[]): number {';

describe.skipIf(missing)('the extension in code-server', () => {
  let wb: Workbench;
  let page: Page;

  beforeAll(async () => {
    wb = await startWorkbench('run', { workspace: hostileWorkspace });
    page = wb.page;
  }, 120_000);

  afterAll(async () => {
    await wb?.close();
  });

  it('shows the real model\'s ghost text, and Tab then Ctrl+S writes exactly the typed text plus that ghost text', async () => {
    const path = join(wb.scratch.workspace, 'src', FILE);
    const original = readFileSync(path, 'utf8');
    try {
      const editor = await openFile(page, FILE);
      wb.mark('editorOpen');
      // The item turns from a spinner to $(zap) once client.start() has resolved: the server is up and
      // the inline completion provider registered. Typing earlier would race the extension's startup.
      await page.locator('.statusbar-item .codicon-zap').first().waitFor({ timeout: 60_000 });
      wb.mark('serverReady');
      await editor.locator('.view-lines').click();
      await page.keyboard.press('Control+End'); // the empty last line, after the final newline
      const ghostLocator = ghostIn(editor);
      let typed = '';
      for (const ch of TYPED) {
        await page.keyboard.type(ch);
        typed += ch;
        const shown = await ghostLocator.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false);
        if (shown) break;
      }
      wb.mark('typed');
      await ghostLocator.waitFor({ state: 'visible', timeout: 10_000 });
      wb.mark('ghostVisible');
      const ghost = await waitForStableGhost(page, 1000, 20_000);
      wb.mark('ghostStable');
      console.log(`vscode e2e: typed ${JSON.stringify(typed)}, ghost text shown: ${JSON.stringify(ghost)}`);
      await page.screenshot({ path: join(wb.scratch.root, 'ghost-text.png') });
      expect(ghost.trim().length).toBeGreaterThan(0);

      await page.keyboard.press('Tab');
      await page.keyboard.press('Control+S');
      const expected = original + typed + ghost;
      let onDisk = original;
      for (let i = 0; i < 100 && onDisk !== expected; i++) {
        await page.waitForTimeout(100);
        onDisk = readFileSync(path, 'utf8');
      }
      wb.mark('saved');
      await page.screenshot({ path: join(wb.scratch.root, 'after-tab.png') });
      console.log(`vscode e2e: file tail on disk: ${JSON.stringify(onDisk.slice(original.length))}`);
      expect(onDisk).toBe(expected);
      // Nothing left the machine.
      expect(wb.offsite).toEqual([]);
      // The workspace's program and paths were not used: the bundled server on the shipped model answered.
      expect(existsSync(ranMarker)).toBe(false);
      expect(existsSync(stolenTrace)).toBe(false);
    } catch (e) {
      await page.screenshot({ path: join(wb.scratch.root, 'failure.png') }).catch(() => {});
      console.error(wb.report());
      throw e;
    }
  });

  it('shows the status bar item with the shipped model, the backend in use and the last latency from slipstream/status', async () => {
    const item = page.locator('.statusbar-item').filter({ has: page.locator('.codicon-zap') });
    try {
      // The extension refreshes the item shortly after each completion; the one above carries a latency.
      await item.filter({ hasText: /slipstream-code · cpu \d+ ms/ }).first().waitFor({ timeout: 15_000 });
      const text = (await item.first().textContent())?.trim();
      console.log(`vscode e2e: status bar item: ${JSON.stringify(text)}`);
      expect(text).toMatch(/^slipstream-code · cpu \d+ ms$/);
    } catch (e) {
      console.error(`status bar items: ${JSON.stringify(await page.evaluate<string[]>(STATUS_ITEMS))}\n${wb.report()}`);
      throw e;
    }
  });

  it("shows the last request's stages in the status bar tooltip, and Open Latency Report draws this session's traces", async () => {
    try {
      await page.locator('.statusbar-item').filter({ has: page.locator('.codicon-zap') }).first().hover();
      const hover = page.locator('.workbench-hover, .monaco-hover').filter({ hasText: 'Last request #' }).first();
      await hover.waitFor({ timeout: 10_000 });
      const tip = (await hover.textContent()) ?? '';
      console.log(`vscode e2e: status bar tooltip: ${JSON.stringify(tip)}`);
      // The last request may be one no keystroke made (VS Code asks again after an accept, and which
      // request is last is a race): the editor's share is in the line when it has one, and the
      // report below must have it for the typed requests.
      expect(tip).toMatch(/Last request #\d+ \((shown|cached|empty)\): [\d.]+ ms in the server(, [\d.]+ ms in the editor before it)?\n/);
      await page.mouse.move(0, 0);
      await page.keyboard.press('F1');
      await page.keyboard.type('Slipstream: Open Latency Report');
      await page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: 'Open Latency Report' }).first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      // VS Code puts a webview's page in a frame inside a frame
      const report = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
      await report.locator('h1').filter({ hasText: 'Slipstream latency report' }).waitFor({ timeout: 20_000 });
      wb.mark('latencyReport');
      await page.screenshot({ path: join(wb.scratch.root, 'latency-report.png') });
      await expect(report.locator('svg text').filter({ hasText: 'Where the time went' }).count()).resolves.toBe(1);
      // 'editor': the extension sent the keystroke's time with the typed requests
      for (const stage of ['editor', 'receive', 'prefill', 'decode', 'respond']) await expect(report.locator('td').filter({ hasText: new RegExp(`^${stage}$`) }).count()).resolves.toBe(1);
      await page.keyboard.press('Control+W'); // close the report; the editor is next
    } catch (e) {
      await page.screenshot({ path: join(wb.scratch.root, 'failure-report.png') }).catch(() => {});
      console.error(wb.report());
      throw e;
    }
  });

  it('opens a readable status menu from the status bar, and turns suggestions off from it', async () => {
    try {
      await page.locator('.statusbar-item').filter({ has: page.locator('.codicon-zap') }).first().click();
      const rows = page.locator('.quick-input-widget .monaco-list-row');
      await rows.filter({ hasText: 'Model: slipstream-code (shipped default)' }).first().waitFor({ timeout: 10_000 });
      // (plain decoding with prompt lookup where the load's row-cost check found that it pays on this machine: row-cost.ts)
      await rows.filter({ hasText: /Decoding: (ReDrafter speculative decoding|plain \(one token per step\)( \+ prompt lookup)?) · setting auto/ }).first().waitFor({ timeout: 5_000 });
      wb.mark('statusMenu');
      await page.screenshot({ path: join(wb.scratch.root, 'status-menu.png') });
      // the menu can be longer than the quick pick shows (a retention row joins the counts once
      // figures are in): filter it to the action, as a user would type it
      await page.keyboard.type('Turn suggestions off');
      await rows.filter({ hasText: 'Turn suggestions off' }).first().click();
      // the item turns to the crossed-out icon: completion.enabled is false in the user's settings
      await page.locator('.statusbar-item .codicon-circle-slash').first().waitFor({ timeout: 10_000 });
      wb.mark('suggestionsOff');
      const settings = JSON.parse(readFileSync(join(wb.scratch.userData, 'User', 'settings.json'), 'utf8'));
      expect(settings['slipstream.completion.enabled']).toBe(false);
      // the server was sent only its own settings (the extension's, like slipstream.languages, stay in the extension)
      const log = extensionLog(wb.scratch, wb.extensionId);
      expect(log).toContain('loaded the shipped default model');
      expect(log).not.toContain('unknown setting');
    } catch (e) {
      await page.screenshot({ path: join(wb.scratch.root, 'failure-menu.png') }).catch(() => {});
      console.error(`status bar items: ${JSON.stringify(await page.evaluate<string[]>(STATUS_ITEMS))}\n${wb.report()}`);
      throw e;
    }
  });
});

const STATUS_ITEMS = `[...document.querySelectorAll('.statusbar-item')].map((e) => e.id + ': ' + e.textContent)`;
