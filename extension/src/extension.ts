/**
 * The thin VS Code client: starts `slipstream serve --stdio` through vscode-languageclient, which
 * registers inline completions by itself once the server advertises them. Adds a status bar item
 * (model, backend, last latency from slipstream/status) and two commands, and asks for a suggestion
 * once the server is up if the user typed while it started. No completion logic here.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import type { StatusResult } from '../../server/src/protocol.js';

let client: LanguageClient | undefined;
let statusItem: vscode.StatusBarItem | undefined;

function serverOptions(context: vscode.ExtensionContext): ServerOptions {
  const configured = vscode.workspace.getConfiguration('slipstream').get<string[]>('server.command') ?? [];
  const [command, ...args] =
    configured.length > 0 ? configured : [process.execPath, path.join(context.extensionPath, '..', 'bin', 'slipstream.js')];
  return { command: command!, args: [...args, 'serve', '--stdio'] };
}

function clientOptions(): LanguageClientOptions {
  const config = vscode.workspace.getConfiguration('slipstream');
  return {
    documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
    initializationOptions: {
      engine: { model: config.get('engine.model') || undefined, drafter: config.get('engine.drafter') || undefined, backend: config.get('engine.backend') },
      completion: { debounceMs: config.get('completion.debounceMs'), maxTokens: config.get('completion.maxTokens') },
    },
    synchronize: { configurationSection: 'slipstream' },
    outputChannel: vscode.window.createOutputChannel('Slipstream', { log: true }),
  };
}

async function refreshStatus(): Promise<void> {
  if (!client || !statusItem) return;
  try {
    const status = await client.sendRequest<StatusResult>('slipstream/status', {});
    const model = status.engine.model ? path.basename(status.engine.model.dir) : 'slipstream';
    const latency = status.latency.lastMs !== null ? ` ${Math.round(status.latency.lastMs)} ms` : '';
    statusItem.text = `$(zap) ${model} · ${status.engine.backend}${latency}`;
  } catch {
    statusItem.text = '$(zap) slipstream';
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Right, 100);
  statusItem.command = 'slipstream.showStatus';
  statusItem.text = '$(loading~spin) slipstream';
  statusItem.show();
  client = new LanguageClient('slipstream', 'Slipstream', serverOptions(context), clientOptions());
  const timer = setInterval(() => void refreshStatus(), 5000);
  context.subscriptions.push(
    statusItem,
    { dispose: () => clearInterval(timer) },
    vscode.commands.registerCommand('slipstream.showStatus', async () => {
      const status = await client?.sendRequest('slipstream/status', {});
      void vscode.window.showInformationMessage(`Slipstream: ${JSON.stringify(status)}`);
    }),
    vscode.commands.registerCommand('slipstream.restartServer', async () => client?.restart()),
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
  } finally {
    watch.dispose();
  }
  if (editedWhileStarting || vscode.window.activeTextEditor?.document.isDirty) {
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
  }
  await refreshStatus();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
