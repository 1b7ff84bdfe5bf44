/**
 * `slipstream/suggestionFinished` (docs/protocol.md): the ghost text grows to the whole suggestion
 * once a slow generation behind an early answer (completion.timeBudgetMs) has finished. The
 * client declares the capability (a StaticFeature fills capabilities.experimental.slipstream), and
 * finishedEditor picks the editor a notification is still about: the active one, on that document
 * at that version (nothing typed since), with a lone cursor at that position. client.ts then asks
 * VS Code for the suggestion there again (askAgain) as its own automatic request, which the server
 * answers with the whole suggestion from its cache.
 */
import * as vscode from 'vscode';
import type { ClientCapabilities, FeatureState, StaticFeature } from 'vscode-languageclient/node';
import type { SuggestionFinishedNotification, SuggestionFinishedParams } from '../../server/src/protocol.js';

export const SUGGESTION_FINISHED: typeof SuggestionFinishedNotification.method = 'slipstream/suggestionFinished';

/** Declares `experimental.slipstream.suggestionFinished` at initialize, beside whatever else is there. */
export class SuggestionFinishedCapability implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    const experimental = (capabilities.experimental ?? {}) as Record<string, unknown>;
    const slipstream = (experimental.slipstream ?? {}) as Record<string, unknown>;
    capabilities.experimental = { ...experimental, slipstream: { ...slipstream, suggestionFinished: true } };
  }
  initialize(): void {}
  getState(): FeatureState {
    return { kind: 'static' };
  }
  clear(): void {}
}

/**
 * The active editor when it is still where the notification's request was made: the same document
 * (`asUri`: the URI as the client sends it) at the same version, one empty selection at the same
 * position (VS Code's positions are UTF-16, the only encoding vscode-languageclient negotiates).
 * Undefined otherwise, and for params of any other shape.
 */
export function finishedEditor(params: unknown, asUri: (uri: vscode.Uri) => string): vscode.TextEditor | undefined {
  const p = params as Partial<SuggestionFinishedParams> | null;
  const uri = p?.textDocument?.uri;
  const version = p?.textDocument?.version;
  const line = p?.position?.line;
  const character = p?.position?.character;
  if (typeof uri !== 'string' || typeof version !== 'number' || typeof line !== 'number' || typeof character !== 'number') return undefined;
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.version !== version || asUri(editor.document.uri) !== uri) return undefined;
  return loneCursorAt(editor, line, character) ? editor : undefined;
}

/** Whether `editor` has one cursor, with nothing selected, at this line and character (UTF-16). */
export function loneCursorAt(editor: vscode.TextEditor, line: number, character: number): boolean {
  const [sel, ...more] = editor.selections;
  return !!sel && more.length === 0 && sel.isEmpty && sel.active.line === line && sel.active.character === character;
}

/**
 * Makes VS Code ask the inline completion provider again at the cursor, only while it shows ghost
 * text there: Show Next / Show Previous Inline Suggestion run only when `inlineSuggestionVisible`
 * (their precondition), so nothing comes back after the user dismissed the suggestion (Escape, a
 * click, the editor losing focus); VS Code tells no extension about that. Next fetches (as an
 * invoked request: the caller's middleware sends it as automatic) and moves to the next item;
 * Previous reuses that fetch and moves back, so the first item stays selected.
 */
export async function askAgain(): Promise<void> {
  await vscode.commands.executeCommand('editor.action.inlineSuggest.showNext');
  await vscode.commands.executeCommand('editor.action.inlineSuggest.showPrevious');
}
