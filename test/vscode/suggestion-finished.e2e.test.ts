/**
 * slipstream/suggestionFinished in a real VS Code: the .vsix in code-server, its bundled server
 * on the shipped model behind lsp-tap.mjs (the user's server command: a transparent tap that logs
 * the messages and can send one of the test's own), completion.timeBudgetMs 1. One Enter after a
 * method header of fixtures/workspace/src/lru-cache.ts (the model writes the body: several lines)
 * gets an early answer; when the generation behind it finishes the server says so, the extension
 * asks again, and the ghost text grows to the whole suggestion (what a separate server's
 * slipstream/complete gives for the same text and cursor) with no further keystroke. The server's
 * traces and the tap's log show the early answer, the notification and the extension's own
 * automatic request. Alt+] then shows an alternative and Alt+[ the whole suggestion again, through
 * one invoked request (VS Code keeps the extension's request's list there: own-answers.ts). Then,
 * with the server's own notifications held back by the tap, a
 * notification for a version the editor has since left behind (a character typed and deleted:
 * same text, same cursor) is ignored, and one for the current version grows the ghost text. Skips until
 * scripts/vscode-e2e-setup.sh has run. See docs/testing.md ("VS Code end to end").
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompleteResult, RequestTrace, TraceSpan } from '../../server/src/protocol.js';
import { repoRoot, shippedDrafter, shippedModel } from '../helpers/paths.js';
import { spawnStdio, type SpawnedServer } from '../helpers/spawn-server.js';
import { readGhostText, waitForGhostOtherThan, waitForStableGhost } from './ghost-text.js';
import { e2eDir } from './tools.js';
import { e2eSkipReason, ghostIn, openFile, startWorkbench, type Workbench } from './workbench.js';

const missing = e2eSkipReason();
const SCRATCH = 'run-finished';
const traceFile = join(e2eDir, SCRATCH, 'traces.jsonl');
const tapLog = join(e2eDir, SCRATCH, 'tap.jsonl');
const tap = join(repoRoot, 'test', 'vscode', 'lsp-tap.mjs');
// lru-cache.ts up to `  set(key: K, value: V): void {`: at the start of the next line the shipped
// model writes a body of eight lines (greedy: the same every run)
const HEADER = readFileSync(join(repoRoot, 'fixtures', 'workspace', 'src', 'lru-cache.ts'), 'utf8').split('\n').slice(0, 23).join('\n');

interface TapEntry {
  at: number;
  dir: 'client' | 'server' | 'injected' | 'dropped';
  method: string;
  uri?: string;
  version?: number;
  position?: { line: number; character: number };
  triggerKind?: number;
  experimental?: unknown;
}

const readTap = (): TapEntry[] => (existsSync(tapLog) ? readFileSync(tapLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as TapEntry) : []);
const readTraces = (): RequestTrace[] => (existsSync(traceFile) ? readFileSync(traceFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as RequestTrace) : []);
const inlineRequests = (uri: string): TapEntry[] => readTap().filter((e) => e.dir === 'client' && e.method === 'textDocument/inlineCompletion' && e.uri === uri);
const hasAttr = (s: TraceSpan | undefined, name: string, key: string): boolean => !!s && ((s.name === name && s.attrs?.[key] === true) || (s.children ?? []).some((c) => hasAttr(c, name, key)));

/** Polls `get` every 100 ms until it returns a value other than undefined; throws `what` after timeoutMs. */
async function until<T>(get: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The tap sends this notification to the extension as if the server had (written whole, then renamed into place). */
function inject(params: unknown): void {
  writeFileSync(`${tapLog}.tmp`, JSON.stringify({ method: 'slipstream/suggestionFinished', params }));
  renameSync(`${tapLog}.tmp`, `${tapLog}.inject`);
}

describe.skipIf(missing)('slipstream/suggestionFinished in code-server', () => {
  let wb: Workbench;
  let reference: SpawnedServer;
  // the early part's rest, the same text in both tests' files
  const text = `${HEADER}\n`;
  let whole = '';

  beforeAll(async () => {
    reference = spawnStdio(['--model', shippedModel, '--drafter', shippedDrafter]);
    await reference.client.initialize({});
    whole = ((await reference.client.request('slipstream/complete', { text, offset: text.length, languageId: 'typescript', uri: 'file:///reference/grow.ts' })) as CompleteResult).items[0]?.insertText ?? '';
    wb = await startWorkbench(SCRATCH, {
      user: (ext) => ({
        'slipstream.server.command': [process.execPath, tap, tapLog, process.execPath, join(ext, 'dist', 'server.js')],
        'slipstream.trace.file': traceFile,
        'slipstream.completion.timeBudgetMs': 1,
        'slipstream.completion.snippets': false, // the reference server has no other documents either
        'editor.autoIndent': 'none', // Enter starts the line at column 0: the text the reference got
      }),
    });
    // both files before the first Quick Open, which lists the workspace once
    writeFileSync(join(wb.scratch.workspace, 'src', 'grow.ts'), HEADER); // `text` after the Enter
    writeFileSync(join(wb.scratch.workspace, 'src', 'stale.ts'), text);
  }, 180_000);

  afterAll(async () => {
    await wb?.close();
    reference?.kill();
  });

  it('grows an early answer to the whole suggestion once the server has finished it, with no further keystroke', async () => {
    const page = wb.page;
    try {
      expect(whole.split('\n').length, `the reference ${JSON.stringify(whole)} has several lines`).toBeGreaterThan(2);

      const editor = await openFile(page, 'grow.ts');
      await page.locator('.statusbar-item .codicon-zap').first().waitFor({ timeout: 60_000 });
      wb.mark('serverReady');
      const init = readTap().find((e) => e.method === 'initialize');
      expect(init?.experimental).toMatchObject({ slipstream: { suggestionFinished: true } });
      await editor.locator('.view-lines').click();
      await page.keyboard.press('Control+End');
      await page.keyboard.press('Enter');
      wb.mark('typed');
      await ghostIn(editor).waitFor({ state: 'visible', timeout: 30_000 });
      wb.mark('ghostVisible');
      // no key from here on: the ghost text must become the whole suggestion by itself
      let last = '';
      const deadline = Date.now() + 60_000;
      while (last !== whole && Date.now() < deadline) {
        last = (await readGhostText(page)).text;
        if (last !== whole) await page.waitForTimeout(100);
      }
      wb.mark('ghostWhole');
      await page.screenshot({ path: join(wb.scratch.root, 'grown.png') });
      console.log(`vscode finished e2e: whole ${JSON.stringify(whole)}, shown ${JSON.stringify(last)}`);
      expect(last).toBe(whole);

      // The tap: the Enter's version got an automatic request, the server's notification for it at
      // the cursor, and after that the extension's own request there, sent as automatic.
      const requests = await until(() => {
        const uri = readTap().find((e) => e.method === 'textDocument/didOpen' && e.uri?.endsWith('/src/grow.ts'))?.uri;
        return uri ? { uri, all: inlineRequests(uri) } : undefined;
      }, 'the didOpen of grow.ts in the tap log', 5_000);
      const typedVersion = readTap().filter((e) => e.method === 'textDocument/didChange' && e.uri === requests.uri).at(-1)?.version;
      const at = { line: 23, character: 0 };
      const finished = readTap().find((e) => e.dir === 'server' && e.method === 'slipstream/suggestionFinished' && e.uri === requests.uri);
      console.log(`vscode finished e2e: tap ${JSON.stringify(readTap().filter((e) => e.uri === requests.uri))}`);
      expect(typedVersion).toBe(2); // the Enter: one edit
      expect(finished).toMatchObject({ version: typedVersion, position: at });
      const after = requests.all.filter((r) => r.at >= finished!.at);
      expect(after).toHaveLength(1);
      expect(after[0]).toMatchObject({ position: at, triggerKind: 2 });
      expect(requests.all.every((r) => r.triggerKind === 2)).toBe(true);
      // The server's traces: the early answer (its post-process cut at the time budget), then the
      // whole suggestion from the suggestion cache for the extension's request, without the keystroke's time.
      const traces = await until(() => {
        const t = readTraces().filter((r) => r.uri === requests.uri && r.version === typedVersion);
        return t.some((r) => r.cacheHit === 'typing') ? t : undefined;
      }, 'the traces of the early answer and the request after it', 10_000);
      console.log(`vscode finished e2e: traces ${traces.map((t) => `#${t.id} v${t.version} ${t.trigger} ${t.outcome} ${t.cacheHit ?? ''}`).join(', ')}`);
      expect(traces.some((t) => t.trigger === 'automatic' && t.outcome === 'shown' && hasAttr(t.spans, 'postprocess', 'timeBudget'))).toBe(true);
      const again = traces.find((t) => t.cacheHit === 'typing')!;
      expect(again).toMatchObject({ trigger: 'automatic', outcome: 'cached' });
      expect(again.client?.keystrokeAt).toBeUndefined();

      // Alt+] on the grown ghost text: VS Code's list there is the extension's own request's (one
      // suggestion, and VS Code asks no more at that version and cursor), yet the user's ask brings
      // the alternatives: another text, then Alt+[ the whole suggestion again.
      const before = inlineRequests(requests.uri).length;
      await page.keyboard.press('Alt+BracketRight');
      const next = await waitForGhostOtherThan(page, whole);
      wb.mark('next');
      console.log(`vscode finished e2e: after Alt+]: ${JSON.stringify(next)}`);
      await page.keyboard.press('Alt+BracketLeft');
      expect(await waitForGhostOtherThan(page, next)).toBe(whole);
      // one request for both keys, the user's: invoked, at the cursor (its alternatives' traces: of the same version)
      const asked = inlineRequests(requests.uri).slice(before);
      expect(asked).toHaveLength(1);
      expect(asked[0]).toMatchObject({ position: at, triggerKind: 1 });
      const alternatives = await until(() => {
        const t = readTraces().filter((r) => r.uri === requests.uri && r.trigger === 'alternative' && r.outcome === 'shown');
        return t.length > 0 ? t : undefined;
      }, 'the traces of the alternatives', 10_000);
      expect(alternatives.every((t) => t.version === typedVersion)).toBe(true);
      expect(wb.offsite).toEqual([]);
    } catch (e) {
      await page.screenshot({ path: join(wb.scratch.root, 'failure-grow.png') }).catch(() => {});
      console.error(wb.report());
      throw e;
    }
  });

  it('ignores a notification for a version the editor has left (typed since), and acts on one for the current version', async () => {
    const page = wb.page;
    try {
      // the server's own notifications stop at the tap: the only ones the extension gets are the test's
      writeFileSync(`${tapLog}.mute`, '');
      const editor = await openFile(page, 'stale.ts');
      await editor.locator('.view-lines').click();
      await page.keyboard.press('Control+End'); // the empty last line
      const opened = await until(() => readTap().find((e) => e.method === 'textDocument/didOpen' && e.uri?.endsWith('/src/stale.ts')), 'the didOpen of stale.ts', 10_000);
      // a character typed and deleted: the text and the cursor are as they were at the opened version
      await page.keyboard.type('x');
      await page.keyboard.press('Backspace');
      await ghostIn(editor).waitFor({ state: 'visible', timeout: 30_000 });
      const current = await until(() => {
        const changes = readTap().filter((e) => e.method === 'textDocument/didChange' && e.uri === opened.uri);
        return changes.length >= 2 ? changes.at(-1)!.version : undefined;
      }, 'both edits in the tap log', 10_000);
      const at = { line: 23, character: 0 };
      expect(inlineRequests(opened.uri!).at(-1)).toMatchObject({ position: at, triggerKind: 2 });
      // the generation behind the early answer has finished (its notification held back): the
      // ghost text stays the early part, and the whole suggestion waits in the server's cache
      await until(() => readTap().find((e) => e.dir === 'dropped' && e.uri === opened.uri && e.version === current), "the server's (held back) notification", 60_000);
      const ghost = await waitForStableGhost(page, 1000, 30_000);
      console.log(`vscode finished e2e: early ghost text ${JSON.stringify(ghost)}`);
      expect(whole.startsWith(ghost)).toBe(true);
      const before = inlineRequests(opened.uri!).length;

      inject({ textDocument: { uri: opened.uri, version: opened.version }, position: at });
      await until(() => readTap().find((e) => e.dir === 'injected' && e.version === opened.version), 'the tap to send the stale notification', 10_000);
      // Nothing may follow it. A bounded wait, checked against the control below: a notification the
      // extension acts on brings its request in well under this.
      const quiet = Date.now() + 3_000;
      while (Date.now() < quiet) {
        expect(inlineRequests(opened.uri!), 'no request after the stale notification').toHaveLength(before);
        await page.waitForTimeout(100);
      }
      expect((await readGhostText(page)).text).toBe(ghost);

      const sent = Date.now();
      inject({ textDocument: { uri: opened.uri, version: current }, position: at });
      const asked = await until(() => inlineRequests(opened.uri!).slice(before)[0], 'the request for the current version', 30_000);
      console.log(`vscode finished e2e: the current version's notification brought a request in ${asked.at - sent} ms`);
      expect(asked).toMatchObject({ position: at, triggerKind: 2 });
      let last = ghost;
      for (const deadline = Date.now() + 30_000; last !== whole && Date.now() < deadline; await page.waitForTimeout(100)) last = (await readGhostText(page)).text;
      expect(last).toBe(whole);
      expect(inlineRequests(opened.uri!)).toHaveLength(before + 1);
    } catch (e) {
      await page.screenshot({ path: join(wb.scratch.root, 'failure-stale.png') }).catch(() => {});
      console.error(wb.report());
      throw e;
    }
  });
});
