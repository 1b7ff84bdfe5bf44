/**
 * The editor's side of documents in a benchmark: the texts and versions a client holds, edits sent
 * as didChange with their ranges, and timed inline completion requests.
 */
import type { InlineCompletionList } from 'vscode-languageserver';
import { positionOf, type LspClient } from './lsp-client.js';

export class Docs {
  readonly text = new Map<string, string>();
  readonly version = new Map<string, number>();
  constructor(private readonly c: LspClient) {}

  async open(uri: string, text: string): Promise<void> {
    this.text.set(uri, text);
    this.version.set(uri, 1);
    await this.c.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
  }

  async edit(uri: string, start: number, end: number, insert: string): Promise<void> {
    const t = this.text.get(uri)!;
    const range = { start: positionOf(t, start), end: positionOf(t, end) };
    this.text.set(uri, t.slice(0, start) + insert + t.slice(end));
    const version = this.version.get(uri)! + 1;
    this.version.set(uri, version);
    await this.c.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ range, text: insert }] });
  }

  async complete(uri: string, offset: number, trigger: 1 | 2 = 2): Promise<{ list: InlineCompletionList | null; ms: number }> {
    const sent = performance.now();
    const list = await this.c.request<InlineCompletionList | null>('textDocument/inlineCompletion', {
      textDocument: { uri, version: this.version.get(uri) },
      position: positionOf(this.text.get(uri)!, offset),
      context: { triggerKind: trigger },
    });
    return { list, ms: performance.now() - sent };
  }
}
