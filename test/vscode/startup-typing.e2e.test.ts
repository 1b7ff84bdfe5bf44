/**
 * Typing while the server starts: the extension is active (its status bar item spins) but the
 * server is not up yet, so VS Code's request for inline completions finds no provider. Once the
 * server is up the ghost text must appear without another keystroke (the extension asks VS Code
 * once, extension/src/extension.ts). The server's start is held back by a few seconds through the
 * `slipstream.server.command` setting, so the typing surely lands before it. Real code-server,
 * real server, shipped model; skips until scripts/vscode-e2e-setup.sh has run.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { e2eSkipReason, ghostIn, openFile, startWorkbench, type Workbench } from './workbench.js';

const missing = e2eSkipReason();
const START_DELAY_S = 8;

describe.skipIf(missing)('the extension when the user types while its server starts', () => {
  let wb: Workbench;

  beforeAll(async () => {
    // The user's own server command: the extension's bundled server, started late. bash runs
    // "$0" "$@" = node <extension>/dist/server.js serve --stdio after the delay (the extension
    // appends serve --stdio). No model settings: the bundled server finds the shipped model.
    wb = await startWorkbench('run-startup', {
      user: (ext) => ({ 'slipstream.server.command': ['bash', '-c', `sleep ${START_DELAY_S}; exec "$0" "$@"`, process.execPath, join(ext, 'dist', 'server.js')] }),
    });
  }, 120_000);

  afterAll(async () => {
    await wb?.close();
  });

  it('shows the ghost text once the server is up, without another keystroke', async () => {
    const page = wb.page;
    try {
      const editor = await openFile(page, 'stats.ts');
      const spinner = page.locator('.statusbar-item .codicon-loading').first();
      await spinner.waitFor({ timeout: 60_000 }); // the extension is active, its server not yet up
      await editor.locator('.view-lines').click();
      await page.keyboard.press('Control+End');
      await page.keyboard.type('e');  // the main e2e test's first character: the shipped model completes it
      wb.mark('typed');
      expect(await page.locator('.statusbar-item .codicon-loading').count()).toBeGreaterThan(0);  // still starting
      await page.locator('.statusbar-item .codicon-zap').first().waitFor({ timeout: 60_000 });
      wb.mark('serverReady');
      const shown = await ghostIn(editor).waitFor({ state: 'visible', timeout: 15_000 }).then(() => true, () => false);
      wb.mark('ghostChecked');
      await page.screenshot({ path: join(wb.scratch.root, 'after-startup.png') });
      expect(shown).toBe(true);
    } catch (e) {
      await page.screenshot({ path: join(wb.scratch.root, 'failure.png') }).catch(() => {});
      console.error(wb.report());
      throw e;
    }
  });
});
