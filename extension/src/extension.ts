/**
 * The VS Code extension's entry point: creates the status bar, the language client (client.ts)
 * and the commands (commands.ts), keeps the status bar's on/off state in step with the settings
 * and the active editor, and asks for a suggestion once the server is up if the user typed while
 * it started. The pieces live in their own files; no completion logic anywhere here.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { createClient } from './client.js';
import { fetchLastTrace, fetchStatus, registerCommands } from './commands.js';
import { languageKey } from './language-gate.js';
import { documentOn, suggestionsOn, workspaceOverridesIgnored } from './settings.js';
import { StatusBar } from './status-bar.js';
import type { RestartPolicy } from './restart-policy.js';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Slipstream', { log: true });
  const statusBar = new StatusBar(
    async () => (client ? fetchStatus(client) : null),
    async () => (client ? fetchLastTrace(client) : null),
  );
  context.subscriptions.push(output, statusBar);

  const ignored = workspaceOverridesIgnored();
  if (ignored.length > 0) output.warn(`ignored from the workspace's settings (they name a program or a path; set them in your user settings): ${ignored.join(', ')}`);

  const made = createClient(context, output, {
    onCompletion: () => statusBar.refreshSoon(),
    onRestarting: () => statusBar.setClient({ phase: 'starting' }),
    onGaveUp: (message) => {
      statusBar.setClient({ phase: 'failed', message });
      void vscode.window.showErrorMessage(message, 'Show Log').then((c) => c && output.show());
    },
  });
  client = made.client;
  const policy: RestartPolicy = made.policy;
  context.subscriptions.push(
    client.onDidChangeState(() => {
      if (client?.isRunning()) statusBar.setClient({ phase: 'running' });
    }),
  );

  const restart = async (): Promise<void> => {
    policy.reset();
    statusBar.setClient({ phase: 'starting' });
    try {
      await (client!.isRunning() ? client!.restart() : client!.start());
      statusBar.setClient({ phase: 'running' });
    } catch (err) {
      statusBar.setClient({ phase: 'failed', message: `the server did not start: ${(err as Error).message}` });
    }
  };
  context.subscriptions.push(...registerCommands({ client: () => client!, statusBar, output, restart, ownAnswers: made.ownAnswers }));

  const updateOff = (): void => {
    const doc = vscode.window.activeTextEditor?.document;
    statusBar.setOff(!suggestionsOn() ? 'suggestions are off' : doc && !documentOn(doc) ? `suggestions are off for ${languageKey(doc.languageId, doc.uri.path)}` : null);
  };
  updateOff();
  context.subscriptions.push(
    vscode.window.onDidChangeActiveTextEditor(updateOff),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('slipstream')) updateOff();
    }),
  );

  // Typing while the server starts (or before the extension is activated) asks VS Code for inline
  // completions before any provider is registered, and VS Code does not ask again when one
  // appears: the user would see nothing until the next keystroke. So if the active editor was
  // edited meanwhile (or holds unsaved edits), ask once when the client is up.
  let editedWhileStarting = false;
  const watch = vscode.workspace.onDidChangeTextDocument((e) => {
    if (e.contentChanges.length > 0 && e.document === vscode.window.activeTextEditor?.document) editedWhileStarting = true;
  });
  try {
    await client.start();
    statusBar.setClient({ phase: 'running' });
  } catch (err) {
    statusBar.setClient({ phase: 'failed', message: `the server did not start: ${(err as Error).message}` });
    return;
  } finally {
    watch.dispose();
  }
  const active = vscode.window.activeTextEditor;
  if (active && (editedWhileStarting || active.document.isDirty)) {
    made.catchUp(active);
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
