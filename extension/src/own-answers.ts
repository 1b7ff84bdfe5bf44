/**
 * Alt+] / Alt+[ where the ghost text is the answer to the extension's own request. VS Code keeps
 * the list of its last explicit fetch for a document version and cursor and asks no more there
 * (its InlineCompletionsSource: an explicit request satisfies every later one at the same spot).
 * The extension's own requests (the catch-up once the server is up, asking again for a finished
 * suggestion: client.ts) are explicit fetches to VS Code but go to the server as automatic, so
 * their list holds one suggestion, and Show Next / Show Previous there would find nothing else.
 * Where the shown list is such an answer (the context key slipstream.ownAnswerShown, and the editor
 * still at that spot), the commands bound to Alt+] / Alt+[ (package.json) first hide the ghost
 * text, which clears VS Code's list, and trigger a fetch of VS Code's own, invoked, which the
 * server answers with the usual suggestion (from its suggestion cache) and its alternatives; then
 * they move to the next / previous item. Anywhere else they run VS Code's own commands.
 */
import * as vscode from 'vscode';
import { loneCursorAt } from './suggestion-finished.js';

/** The context key the Alt+] / Alt+[ bindings wait for. */
export const OWN_ANSWER_SHOWN = 'slipstream.ownAnswerShown';

interface Spot {
  uri: string;
  version: number;
  position: vscode.Position;
}

export class OwnAnswers {
  private spot: Spot | undefined;

  /** The extension's own request at `position` of `doc` was answered (`shown`: with an item). */
  answered(doc: vscode.TextDocument, position: vscode.Position, shown: boolean): void {
    this.set(shown ? { uri: doc.uri.toString(), version: doc.version, position } : undefined);
  }

  /** VS Code asked on its own (a keystroke, the user's ask): its list is no longer the extension's answer. */
  fetched(): void {
    if (this.spot) this.set(undefined);
  }

  /** Show Next / Show Previous Inline Suggestion, fetching the user's own list first where VS Code holds the extension's. */
  async cycle(direction: 'next' | 'previous'): Promise<void> {
    const spot = this.spot;
    this.set(undefined);
    const editor = vscode.window.activeTextEditor;
    if (spot && editor && editor.document.uri.toString() === spot.uri && editor.document.version === spot.version && loneCursorAt(editor, spot.position.line, spot.position.character)) {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    }
    await vscode.commands.executeCommand(direction === 'next' ? 'editor.action.inlineSuggest.showNext' : 'editor.action.inlineSuggest.showPrevious');
  }

  private set(spot: Spot | undefined): void {
    this.spot = spot;
    void vscode.commands.executeCommand('setContext', OWN_ANSWER_SHOWN, spot !== undefined);
  }
}

/** Whether a provider's answer holds an item. */
export function holdsItems(result: vscode.InlineCompletionItem[] | vscode.InlineCompletionList | null | undefined): boolean {
  return Array.isArray(result) ? result.length > 0 : (result?.items.length ?? 0) > 0;
}
