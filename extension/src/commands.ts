/**
 * The extension's commands: the menu (status bar click), Show Status as a readable quick pick,
 * suggestions on/off (everywhere, or for the active editor's language), the latency report
 * (latency-report.ts), restart, the log, and
 * accept-next-word / accept-next-line, which run VS Code's own partial-accept actions (word: VS
 * Code binds Ctrl+Right itself; line: package.json binds Ctrl+Alt+End, unbound in VS Code), and
 * show next / previous suggestion (Alt+] / Alt+[ where the ghost text answers the extension's own
 * request: own-answers.ts).
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { RequestTrace, StatusResult, TracesResult } from '../../server/src/protocol.js';
import { languageKey } from './language-gate.js';
import { OPEN_LATENCY_REPORT, openLatencyReport } from './latency-report.js';
import type { OwnAnswers } from './own-answers.js';
import { documentOn, suggestionsOn, toggleLanguage, toggleSuggestions } from './settings.js';
import type { StatusBar } from './status-bar.js';
import { statusRows } from './status-view.js';

export interface CommandContext {
  client: () => LanguageClient;
  statusBar: StatusBar;
  output: vscode.LogOutputChannel;
  restart: () => Promise<void>;
  ownAnswers: OwnAnswers;
}

type Action = vscode.QuickPickItem & { run?: () => unknown };

/** The server's slipstream/status, or null while it is not running. */
export async function fetchStatus(client: LanguageClient): Promise<StatusResult | null> {
  return client.isRunning() ? client.sendRequest<StatusResult>('slipstream/status', {}) : null;
}

/** The server's last finished request trace, or null. */
export async function fetchLastTrace(client: LanguageClient): Promise<RequestTrace | null> {
  return client.isRunning() ? ((await client.sendRequest<TracesResult>('slipstream/traces', { limit: 1 })).traces[0] ?? null) : null;
}

function actions(ctx: CommandContext): Action[] {
  const editor = vscode.window.activeTextEditor;
  const list: Action[] = [{ label: 'Actions', kind: vscode.QuickPickItemKind.Separator }];
  list.push({ label: suggestionsOn() ? '$(circle-slash) Turn suggestions off' : '$(check) Turn suggestions on', run: () => vscode.commands.executeCommand('slipstream.toggle') });
  if (editor) {
    const key = languageKey(editor.document.languageId, editor.document.uri.path);
    list.push({ label: documentOn(editor.document) ? `$(circle-slash) Turn suggestions off for ${key}` : `$(check) Turn suggestions on for ${key}`, run: () => vscode.commands.executeCommand('slipstream.toggleLanguage') });
  }
  list.push({ label: '$(graph) Open the latency report', run: () => vscode.commands.executeCommand(OPEN_LATENCY_REPORT) });
  list.push({ label: '$(debug-restart) Restart the server', run: () => ctx.restart() });
  list.push({ label: '$(output) Open the log', run: () => ctx.output.show() });
  return list;
}

async function showStatus(ctx: CommandContext, title: string): Promise<void> {
  let status: StatusResult | null = null;
  let problem: string | null = ctx.statusBar.error;
  try {
    status = await fetchStatus(ctx.client());
  } catch (err) {
    problem ??= (err as Error).message;
  }
  const rows: Action[] = [];
  if (problem) rows.push({ label: `$(error) ${problem}` });
  if (status) rows.push(...statusRows(status).map((r) => ({ label: r.label, ...(r.detail ? { detail: r.detail } : {}) })));
  else rows.push({ label: 'The server is not running' });
  const pick = await vscode.window.showQuickPick([...rows, ...actions(ctx)], { title, matchOnDetail: true, placeHolder: 'Slipstream status; pick an action below' });
  await pick?.run?.();
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const reg = vscode.commands.registerCommand;
  return [
    reg('slipstream.menu', async () => {
      const error = ctx.statusBar.error;
      if (error) {
        const choice = await vscode.window.showErrorMessage(`Slipstream: ${error}`, 'Show Log', 'Restart Server', 'Show Status');
        if (choice === 'Show Log') ctx.output.show();
        else if (choice === 'Restart Server') await ctx.restart();
        else if (choice === 'Show Status') await showStatus(ctx, 'Slipstream');
        return;
      }
      await showStatus(ctx, 'Slipstream');
    }),
    reg('slipstream.showStatus', () => showStatus(ctx, 'Slipstream status')),
    reg('slipstream.toggle', async () => {
      const on = await toggleSuggestions();
      void vscode.window.setStatusBarMessage(`Slipstream: suggestions ${on ? 'on' : 'off'}`, 3000);
    }),
    reg('slipstream.toggleLanguage', async () => {
      const doc = vscode.window.activeTextEditor?.document;
      if (!doc) return void vscode.window.showInformationMessage('Slipstream: open a file to turn suggestions on or off for its language');
      const key = languageKey(doc.languageId, doc.uri.path);
      const on = await toggleLanguage(key);
      void vscode.window.setStatusBarMessage(`Slipstream: suggestions ${on ? 'on' : 'off'} for ${key}`, 3000);
    }),
    reg('slipstream.restartServer', () => ctx.restart()),
    reg(OPEN_LATENCY_REPORT, () => openLatencyReport(ctx.client())),
    reg('slipstream.showLog', () => ctx.output.show()),
    reg('slipstream.acceptNextWord', () => vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextWord')),
    reg('slipstream.acceptNextLine', () => vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextLine')),
    reg('slipstream.showNextSuggestion', () => ctx.ownAnswers.cycle('next')),
    reg('slipstream.showPreviousSuggestion', () => ctx.ownAnswers.cycle('previous')),
  ];
}

