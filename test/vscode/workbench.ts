/**
 * One VS Code workbench for an e2e test file: installs the .vsix (made once per run by
 * global-setup.ts) into a scratch code-server, with the given user and workspace settings (none
 * for Slipstream unless a test asks), opens headless Chromium on it (requests that leave 127.0.0.1
 * are aborted and recorded), and opens a workspace file in an editor. close() leaves no process
 * behind; report() is what a failing test prints.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { extensionLog, installVsix, makeScratch, startCodeServer, writeUserSettings, writeWorkspaceSettings, type CodeServer, type Scratch } from './code-server.js';
import { chromiumPath, e2eDir, loadPlaywright, vscodeToolsMissing, vsixPath, type BrowserContext, type Locator, type Page } from './tools.js';

/** Why this machine cannot run the VS Code e2e (printed, and the tests skip), or undefined. */
export function e2eSkipReason(): string | undefined {
  const missing = vscodeToolsMissing();
  // .ci/run sets this after running the setup: there a skip would hide a broken install.
  if (missing && process.env.SLIPSTREAM_VSCODE_E2E_REQUIRED) throw new Error(`VS Code e2e required but ${missing}`);
  if (missing) console.warn(`VS Code e2e ${missing}`);
  return missing;
}

export interface Workbench {
  scratch: Scratch;
  extensionId: string;
  /** Where code-server unpacked the .vsix. */
  extensionDir: string;
  page: Page;
  /** Requests to anything but 127.0.0.1 (aborted). */
  offsite: string[];
  /** ms since start of named moments, printed by report(). */
  mark(name: string): void;
  report(): string;
  close(): Promise<void>;
}

export interface WorkbenchOptions {
  /** The user's slipstream.* settings, given the folder the extension was installed to (default: none). */
  user?: (extensionDir: string) => Record<string, unknown>;
  /** The workspace's .vscode/settings.json (default: none). */
  workspace?: Record<string, unknown>;
}

/** name: the scratch folder under .e2e/ (one per test file). */
export async function startWorkbench(name: string, options: WorkbenchOptions = {}): Promise<Workbench> {
  if (!existsSync(vsixPath)) throw new Error(`${vsixPath} is missing: npm run package:extension (global-setup.ts runs it)`);
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const offsite: string[] = [];
  const consoleErrors: string[] = [];
  const scratch = makeScratch(join(e2eDir, name));
  const { id: extensionId, dir: extensionDir } = installVsix(scratch);
  timings.installed = Date.now() - t0;
  // whole automatic suggestions (minTokenProbability and timeBudgetMs 0), as the tests' references
  // compute them; the cut before an unsure token and the early answer at the time budget are tested
  // on their own (test/lsp/confidence-native.test.ts, test/lsp/time-budget-native.test.ts)
  writeUserSettings(scratch, { 'slipstream.completion.minTokenProbability': 0, 'slipstream.completion.timeBudgetMs': 0, ...(options.user?.(extensionDir) ?? {}) });
  if (options.workspace) writeWorkspaceSettings(scratch, options.workspace);
  let server: CodeServer | undefined;
  let context: BrowserContext | undefined;
  const close = async (): Promise<void> => {
    console.log(`${name} timings (ms since start): ${JSON.stringify(timings)}`);
    await context?.close().catch(() => {});
    server?.stop();
  };
  try {
    server = await startCodeServer(scratch);
    timings.codeServerUp = Date.now() - t0;
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
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())));
    await page.goto(`${server.url}/?folder=${encodeURIComponent(scratch.workspace)}`);
    await page.locator('.explorer-folders-view .monaco-list-row[aria-label^="src"]').waitFor({ timeout: 60_000 });
    timings.workbench = Date.now() - t0;
    return {
      scratch,
      extensionId,
      extensionDir,
      page,
      offsite,
      mark: (m) => void (timings[m] = Date.now() - t0),
      report: () =>
        [
          `timings: ${JSON.stringify(timings)}`,
          `offsite requests: ${JSON.stringify(offsite)}`,
          `browser console errors: ${consoleErrors.slice(-10).join('\n')}`,
          `screenshots and logs: ${scratch.root}`,
          extensionLog(scratch, extensionId).slice(-6000),
        ].join('\n'),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Opens `file` of the workspace with Ctrl+P and returns its editor. */
export async function openFile(page: Page, file: string): Promise<Locator> {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').waitFor();
  await page.keyboard.type(file);
  await page.locator(`.quick-input-list .monaco-list-row[aria-label*="${file}"]`).first().waitFor();
  await page.keyboard.press('Enter');
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await editor.locator('.view-lines').waitFor();
  return editor;
}

/** The ghost text's first element in `editor` (cursor line or the lines below). */
export const ghostIn = (editor: Locator): Locator => editor.locator('.ghost-text-decoration, .ghost-text').first();
