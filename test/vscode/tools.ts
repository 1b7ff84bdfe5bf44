/**
 * Where the VS Code e2e tools live (.e2e/, installed by scripts/vscode-e2e-setup.sh, never by
 * `npm install`) and the .vsix under test, why the test must skip when the tools are absent, and the small slice of the
 * playwright-core API the test uses, typed here because playwright-core is not a root dependency.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

const extensionPkg = JSON.parse(readFileSync(join(repoRoot, 'extension', 'package.json'), 'utf8')) as { name: string; version: string };
/** What `npm run package:extension` writes (global-setup.ts makes it before the suite). */
export const vsixPath = join(repoRoot, 'dist', `${extensionPkg.name}-${extensionPkg.version}.vsix`);

export const e2eDir = process.env.SLIPSTREAM_E2E_DIR ?? join(repoRoot, '.e2e');
export const codeServerBin = join(e2eDir, 'node_modules', '.bin', 'code-server');
export const playwrightDir = join(e2eDir, 'node_modules', 'playwright-core');
export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Why the VS Code e2e cannot run here (setup not run), or undefined when it can. */
export function vscodeToolsMissing(): string | undefined {
  for (const p of [codeServerBin, playwrightDir, chromiumPath]) {
    if (!existsSync(p)) return `skipped: ${p} is absent; run scripts/vscode-e2e-setup.sh first`;
  }
  return undefined;
}

export interface Locator {
  first(): Locator;
  filter(options: { hasText?: string | RegExp; has?: Locator }): Locator;
  locator(selector: string): Locator;
  waitFor(options?: { state?: 'attached' | 'visible'; timeout?: number }): Promise<void>;
  click(): Promise<void>;
  hover(): Promise<void>;
  textContent(): Promise<string | null>;
  count(): Promise<number>;
}
/** A frame's content (a webview's page). */
export interface FrameLocator {
  locator(selector: string): Locator;
  frameLocator(selector: string): FrameLocator;
}
export interface Page {
  goto(url: string): Promise<unknown>;
  locator(selector: string): Locator;
  frameLocator(selector: string): FrameLocator;
  keyboard: { press(key: string): Promise<void>; type(text: string, options?: { delay?: number }): Promise<void> };
  mouse: { move(x: number, y: number): Promise<void> };
  evaluate<T>(expression: string): Promise<T>;
  screenshot(options: { path: string }): Promise<unknown>;
  waitForTimeout(ms: number): Promise<void>;
  on(event: 'console', listener: (msg: { type(): string; text(): string }) => void): void;
}
export interface Route {
  request(): { url(): string };
  continue(): Promise<void>;
  abort(): Promise<void>;
}
export interface BrowserContext {
  pages(): Page[];
  newPage(): Promise<Page>;
  route(url: string, handler: (route: Route) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}
export interface PlaywrightCore {
  chromium: {
    launchPersistentContext(
      userDataDir: string,
      options: { executablePath: string; headless: boolean; args: string[]; env: Record<string, string>; viewport: { width: number; height: number } },
    ): Promise<BrowserContext>;
  };
}

export function loadPlaywright(): PlaywrightCore {
  return require(playwrightDir) as PlaywrightCore;
}
