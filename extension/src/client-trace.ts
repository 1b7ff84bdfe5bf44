/**
 * The editor's half of a trace: remembers when each document last changed (the keystroke, on the
 * trace clock: performance.timeOrigin + performance.now()) and adds `clientTrace` (a fresh trace
 * id and that time) to every textDocument/inlineCompletion request, through the language client's
 * sendRequest middleware, when the request is for the text that keystroke made and was not
 * invoked by a command (trace-view.ts inlineClientTrace) and the extension has not asked again on
 * its own since (forget). The server's trace then starts at the keystroke (docs/tracing.md).
 * Nothing else is sent.
 */
import { getRandomValues } from 'node:crypto';
import * as vscode from 'vscode';
import type { MessageSignature } from 'vscode-languageclient/node';
import { inlineClientTrace, newTraceId } from './trace-view.js';

const INLINE = 'textDocument/inlineCompletion';

export class KeystrokeClock implements vscode.Disposable {
  private readonly last = new Map<string, { version: number; at: number }>();
  private readonly sub: vscode.Disposable;

  constructor() {
    this.sub = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length === 0) return;
      this.last.set(e.document.uri.toString(), { version: e.document.version, at: performance.timeOrigin + performance.now() });
    });
  }

  /** The keystroke that made the current text of `uri`, if it was one (and not, say, a save). */
  keystrokeAt(uri: string): number | undefined {
    const k = this.last.get(uri);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    return k && doc && doc.version === k.version ? k.at : undefined;
  }

  /** The text of `uri` is no longer the latest keystroke's to time: the extension asks again there on its own. */
  forget(uri: string): void {
    this.last.delete(uri);
  }

  /** The language client's sendRequest middleware: inline completion requests get clientTrace (an invoked one no keystroke). */
  middleware = <P, R>(type: string | MessageSignature, param: P | undefined, token: vscode.CancellationToken | undefined, next: (type: string | MessageSignature, param?: P, token?: vscode.CancellationToken) => Promise<R>): Promise<R> => {
    const method = typeof type === 'string' ? type : type.method;
    if (method !== INLINE || typeof param !== 'object' || param === null) return next(type, param, token);
    const uri = (param as { textDocument?: { uri?: string } }).textDocument?.uri;
    const clientTrace = inlineClientTrace(param, newTraceId((n) => getRandomValues(new Uint8Array(n))), uri ? this.keystrokeAt(uri) : undefined);
    return next(type, { ...param, clientTrace }, token);
  };

  dispose(): void {
    this.sub.dispose();
    this.last.clear();
  }
}
