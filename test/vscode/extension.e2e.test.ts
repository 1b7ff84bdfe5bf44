/**
 * The VS Code extension in a real VS Code: the esbuild bundle of extension/ runs in code-server,
 * starts this checkout's `slipstream serve --stdio` on the shipped model, and headless Chromium
 * (playwright-core) types into a copy of fixtures/workspace, reads the real model's ghost text from
 * the editor DOM, accepts it with Tab, saves, and checks the file on disk. Skips (with a message)
 * until scripts/vscode-e2e-setup.sh has run. See docs/testing.md ("VS Code end to end").
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot } from '../helpers/paths.js';
import { extensionLog, installExtension, makeScratch, slipstreamSettings, startCodeServer, writeUserSettings, type CodeServer, type Scratch } from './code-server.js';
import { chromiumPath, e2eDir, loadPlaywright, vscodeToolsMissing, type BrowserContext, type Page } from './tools.js';
import { waitForStableGhost } from './ghost-text.js';

const missing = vscodeToolsMissing();
// .ci/run sets this after running the setup: there a skip would hide a broken install.
if (missing && process.env.SLIPSTREAM_VSCODE_E2E_REQUIRED) throw new Error(`VS Code e2e required but ${missing}`);
if (missing) console.warn(`VS Code e2e ${missing}`);

const FILE = 'stats.ts';
// Typed one character at a time until ghost text shows (which character first gets a suggestion
// depends on the model's weights; the test accepts whatever the real model offers).
const TYPED = 'export function mean(values: number[]): number {';

describe.skipIf(missing)('the extension in code-server', () => {
  let scratch: Scratch;
  let extensionId: string;
  let server: CodeServer | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  const offsite: string[] = [];
  const consoleErrors: string[] = [];
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const mark = (name: string): void => void (timings[name] = Date.now() - t0);

  beforeAll(async () => {
    if (!existsSync(join(repoRoot, 'dist', 'server')) || !existsSync(cliPath)) throw new Error('the server is not built: run `npm run build` first');
    const bundle = spawnSync(process.execPath, [join(repoRoot, 'esbuild.mjs')], { cwd: repoRoot, encoding: 'utf8' });
    if (bundle.status !== 0) throw new Error(`npm run build:extension failed:\n${bundle.stderr}`);
    scratch = makeScratch(join(e2eDir, 'run'));
    extensionId = installExtension(scratch);
    writeUserSettings(scratch, slipstreamSettings());
    server = await startCodeServer(scratch);
    mark('codeServerUp');
    context = await loadPlaywright().chromium.launchPersistentContext(join(scratch.root, 'chromium-profile'), {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1400, height: 900 },
      env: scratch.env,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // Everything stays on 127.0.0.1: any other request is aborted and recorded.
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
      offsite.push(url.href);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())));
  }, 120_000);

  afterAll(async () => {
    console.log(`vscode e2e timings (ms since start): ${JSON.stringify(timings)}`);
    await context?.close().catch(() => {});
    server?.stop();
  });

  /** What the test saw, printed when an assertion fails. */
  const report = (): string =>
    [
      `timings: ${JSON.stringify(timings)}`,
      `offsite requests: ${JSON.stringify(offsite)}`,
      `browser console errors: ${consoleErrors.slice(-10).join('\n')}`,
      `screenshots and logs: ${scratch.root}`,
      extensionLog(scratch, extensionId).slice(-6000),
    ].join('\n');

  it('shows the real model\'s ghost text, and Tab then Ctrl+S writes exactly the typed text plus that ghost text', async () => {
    const path = join(scratch.workspace, 'src', FILE);
    const original = readFileSync(path, 'utf8');
    try {
      await page.goto(`${server!.url}/?folder=${encodeURIComponent(scratch.workspace)}`);
      await page.locator('.explorer-folders-view .monaco-list-row[aria-label^="src"]').waitFor({ timeout: 60_000 });
      mark('workbench');
      await page.keyboard.press('Control+P');
      await page.locator('.quick-input-widget input').waitFor();
      await page.keyboard.type(FILE);
      await page.locator(`.quick-input-list .monaco-list-row[aria-label*="${FILE}"]`).first().waitFor();
      await page.keyboard.press('Enter');
      const editor = page.locator('.editor-instance .monaco-editor').first();
      await editor.locator('.view-lines').waitFor();
      mark('editorOpen');
      // The item turns from a spinner to $(zap) once client.start() has resolved: the server is up and
      // the inline completion provider registered. Typing earlier would race the extension's startup.
      await page.locator('.statusbar-item .codicon-zap').first().waitFor({ timeout: 60_000 });
      mark('serverReady');
      await editor.locator('.view-lines').click();
      await page.keyboard.press('Control+End'); // the empty last line, after the final newline
      const ghostLocator = editor.locator('.ghost-text-decoration, .ghost-text').first();
      let typed = '';
      for (const ch of TYPED) {
        await page.keyboard.type(ch);
        typed += ch;
        const shown = await ghostLocator.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false);
        if (shown) break;
      }
      mark('typed');
      await ghostLocator.waitFor({ state: 'visible', timeout: 10_000 });
      mark('ghostVisible');
      const ghost = await waitForStableGhost(page, 1000, 20_000);
      mark('ghostStable');
      console.log(`vscode e2e: typed ${JSON.stringify(typed)}, ghost text shown: ${JSON.stringify(ghost)}`);
      await page.screenshot({ path: join(scratch.root, 'ghost-text.png') });
      expect(ghost.trim().length).toBeGreaterThan(0);

      await page.keyboard.press('Tab');
      await page.keyboard.press('Control+S');
      const expected = original + typed + ghost;
      let onDisk = original;
      for (let i = 0; i < 100 && onDisk !== expected; i++) {
        await page.waitForTimeout(100);
        onDisk = readFileSync(path, 'utf8');
      }
      mark('saved');
      await page.screenshot({ path: join(scratch.root, 'after-tab.png') });
      console.log(`vscode e2e: file tail on disk: ${JSON.stringify(onDisk.slice(original.length))}`);
      expect(onDisk).toBe(expected);
      // Nothing left the machine.
      expect(offsite).toEqual([]);
    } catch (e) {
      await page.screenshot({ path: join(scratch.root, 'failure.png') }).catch(() => {});
      console.error(report());
      throw e;
    }
  });

  it('shows the status bar item with the model, the backend and the last latency from slipstream/status', async () => {
    const item = page.locator('.statusbar-item').filter({ has: page.locator('.codicon-zap') });
    try {
      // The extension refreshes the item every 5 s; after the completion above it carries a latency.
      await item.filter({ hasText: /slipstream-code · cpu \d+ ms/ }).first().waitFor({ timeout: 15_000 });
      const text = (await item.first().textContent())?.trim();
      console.log(`vscode e2e: status bar item: ${JSON.stringify(text)}`);
      expect(text).toMatch(/^slipstream-code · cpu \d+ ms$/);
    } catch (e) {
      console.error(`status bar items: ${JSON.stringify(await page.evaluate<string[]>(STATUS_ITEMS))}\n${report()}`);
      throw e;
    }
  });
});

const STATUS_ITEMS = `[...document.querySelectorAll('.statusbar-item')].map((e) => e.id + ': ' + e.textContent)`;
