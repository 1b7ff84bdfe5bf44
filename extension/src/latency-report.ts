/**
 * "Slipstream: Open Latency Report": the report `slipstream trace --html` writes (the same
 * renderer, server/src/trace/html-report.ts), made from this session's traces (`slipstream/traces`:
 * the ring of the last requests) and shown in a webview beside the editor. No script runs in it;
 * its Refresh link runs the command again, which redraws the open panel.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import type { TracesResult } from '../../server/src/protocol.js';
import { reportHtml } from './trace-view.js';

const COMMAND = 'slipstream.openLatencyReport';

let panel: vscode.WebviewPanel | undefined;

export async function openLatencyReport(client: LanguageClient): Promise<void> {
  if (!client.isRunning()) {
    void vscode.window.showInformationMessage('Slipstream: the server is not running, so there is no latency to report');
    return;
  }
  const traces = await client.sendRequest<TracesResult>('slipstream/traces', {});
  if (!panel) {
    panel = vscode.window.createWebviewPanel('slipstream.latencyReport', 'Slipstream Latency', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: false, enableCommandUris: [COMMAND] });
    panel.onDidDispose(() => (panel = undefined));
  } else {
    panel.reveal(undefined, true);
  }
  panel.webview.html = reportHtml(traces, COMMAND);
}

export { COMMAND as OPEN_LATENCY_REPORT };
