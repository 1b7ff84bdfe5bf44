/**
 * Typing while the server starts: the extension is active (its status bar item spins) but the
 * server is not up yet, so VS Code's request for inline completions finds no provider. Once the
 * server is up the ghost text must appear without another keystroke (the extension asks VS Code
 * once, extension/src/extension.ts). The server's start is held back by a few seconds through the
 * `slipstream.server.command` setting, so the typing surely lands before it. That catch-up
 * request reaches the server as automatic (one suggestion, no alternatives to compute: the user
 * asked for none), with the keystroke's time (the trace file, a user setting, is read back).
 * Real code-server, real server, shipped model; skips until scripts/vscode-e2e-setup.sh has run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestTrace } from '../../server/src/protocol.js';
import { e2eDir } from './tools.js';
import { e2eSkipReason, ghostIn, openFile, startWorkbench, type Workbench } from './workbench.js';

const missing = e2eSkipReason();
const START_DELAY_S = 8;
const SCRATCH = 'run-startup';
const traceFile = join(e2eDir, SCRATCH, 'traces.jsonl');

describe.skipIf(missing)('the extension when the user types while its server starts', () => {
  let wb: Workbench;

  beforeAll(async () => {
    // The user's own server command: the extension's bundled server, started late. bash runs
    // "$0" "$@" = node <extension>/dist/server.js serve --stdio after the delay (the extension
    // appends serve --stdio). No model settings: the bundled server finds the shipped model.
    wb = await startWorkbench(SCRATCH, {
      user: (ext) => ({
        'slipstream.server.command': ['bash', '-c', `sleep ${START_DELAY_S}; exec "$0" "$@"`, process.execPath, join(ext, 'dist', 'server.js')],
        'slipstream.trace.file': traceFile,
      }),
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
      // the server's first request: the catch-up, automatic, with the keystroke's time; no alternatives
      const deadline = Date.now() + 10_000;
      while (!existsSync(traceFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const traces = readFileSync(traceFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RequestTrace);
      console.log(`vscode startup e2e: traces ${traces.map((t) => `#${t.id} ${t.trigger} ${t.outcome}${t.client?.editorMs !== undefined ? ` editor ${t.client.editorMs.toFixed(0)} ms` : ''}`).join(', ')}`);
      expect(traces[0]).toMatchObject({ trigger: 'automatic' });
      expect(['shown', 'cached']).toContain(traces[0]!.outcome);
      expect(traces[0]!.client?.keystrokeAt).toBeGreaterThan(0);
      expect(traces.filter((t) => t.trigger === 'invoked' || t.trigger === 'alternative')).toEqual([]);
    } catch (e) {
      await page.screenshot({ path: join(wb.scratch.root, 'failure.png') }).catch(() => {});
      console.error(wb.report());
      throw e;
    }
  });
});
