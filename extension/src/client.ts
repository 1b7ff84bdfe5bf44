/**
 * The language client: starts the server (settings.ts picks the bundled one or the user's
 * command), sends it the `slipstream` settings (path settings only from the user's own
 * settings) on start, on pull and on every change, syncs only the documents that get suggestions
 * (language-gate.ts: never .env files unless turned on), and restarts a server that died, after a
 * growing delay (restart-policy.ts). vscode-languageclient registers the inline completion
 * provider itself once the server advertises it. When the server says the whole suggestion behind
 * an early answer is ready (slipstream/suggestionFinished: suggestion-finished.ts) and the editor
 * is still there, it asks again, as its own automatic request; Alt+] / Alt+[ on such an answer
 * fetch the user's own list first (own-answers.ts). No completion logic here.
 */
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  DidOpenTextDocumentNotification,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { KeystrokeClock } from './client-trace.js';
import { holdsItems, OwnAnswers } from './own-answers.js';
import { RestartPolicy } from './restart-policy.js';
import { syncableScheme } from './language-gate.js';
import { documentOn, serverSection, serverToStart, suggestionsOn } from './settings.js';
import { askAgain, finishedEditor, SUGGESTION_FINISHED, SuggestionFinishedCapability } from './suggestion-finished.js';

/** How long the extension's own request may take to come back through VS Code to the middleware. */
const OWN_REQUEST_MS = 5000;
/** A finished suggestion is asked for this long after the server says so (suggestion-finished.ts askAgain). */
const ASK_AGAIN_AFTER_MS = 50;

export interface ClientHooks {
  /** After each inline completion answer (the status bar refreshes its latency). */
  onCompletion(): void;
  /** The server died for good (after repeated crashes). */
  onGaveUp(message: string): void;
  /** The server died and will restart after `delayMs`. */
  onRestarting(delayMs: number): void;
}

export function createClient(
  context: vscode.ExtensionContext,
  output: vscode.LogOutputChannel,
  hooks: ClientHooks,
): { client: LanguageClient; policy: RestartPolicy; catchUp: (editor: vscode.TextEditor) => void; ownAnswers: OwnAnswers } {
  const start = serverToStart(context.asAbsolutePath('dist/server.js'));
  output.info(start.kind === 'bundled' ? `server: the bundled one (${start.module})` : `server: ${start.command} ${start.args.join(' ')} (slipstream.server.command)`);
  const serverOptions: ServerOptions =
    start.kind === 'bundled'
      ? { module: start.module, transport: TransportKind.stdio, args: start.args }
      : { command: start.command, args: start.args }; // stdio; args already end with serve --stdio

  // Documents the server has been told about (didOpen sent); the rest are not its business.
  const synced = new Set<string>();
  let client: LanguageClient;
  const openNow = async (doc: vscode.TextDocument): Promise<void> => {
    synced.add(doc.uri.toString());
    await client.sendNotification(DidOpenTextDocumentNotification.type, client.code2ProtocolConverter.asOpenTextDocumentParams(doc));
  };
  const policy = new RestartPolicy();
  // The spot (document, version, cursor) where the next invoked request is the extension's own (the
  // catch-up after startup, asking again for a finished suggestion), until a deadline: it stands for
  // the user's typing and goes to the server as automatic (one suggestion, no alternatives).
  let own: { uri: string; version: number; position: vscode.Position; until: number } | undefined;
  // where VS Code's list is the answer to such a request (Alt+] / Alt+[ there: own-answers.ts)
  const ownAnswers = new OwnAnswers();
  const expectOwn = (editor: vscode.TextEditor): void => {
    own = { uri: editor.document.uri.toString(), version: editor.document.version, position: editor.selection.active, until: Date.now() + OWN_REQUEST_MS };
  };
  // each inline completion request carries the keystroke's time and a trace id (client-trace.ts)
  const keystrokes = new KeystrokeClock();
  context.subscriptions.push(keystrokes);

  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
    initializationOptions: () => serverSection(), // read again at every (re)start
    outputChannel: output,
    errorHandler: {
      // a few read/write errors in a row are survivable; more end the connection (then `closed` decides)
      error: (_err, _msg, count) => ({ action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown }),
      closed: async () => {
        const d = policy.crashed();
        if (!d.restart) {
          hooks.onGaveUp(d.message);
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        hooks.onRestarting(d.delayMs);
        output.warn(`the server stopped; restarting in ${d.delayMs / 1000} s`);
        await new Promise((r) => setTimeout(r, d.delayMs));
        return { action: CloseAction.Restart, handled: true };
      },
    },
    middleware: {
      sendRequest: keystrokes.middleware,
      didOpen: async (doc, next) => {
        if (!syncableScheme(doc.uri.scheme) || !documentOn(doc)) return;
        synced.add(doc.uri.toString());
        await next(doc);
      },
      didChange: async (event, next) => {
        const doc = event.document;
        if (synced.has(doc.uri.toString())) return next(event);
        // a language turned on after the document was opened: open it now, with this text
        if (syncableScheme(doc.uri.scheme) && documentOn(doc)) await openNow(doc);
      },
      didClose: async (doc, next) => {
        if (synced.delete(doc.uri.toString())) await next(doc);
      },
      provideInlineCompletionItems: async (doc, position, ctx, token, next) => {
        if (!suggestionsOn() || !documentOn(doc)) return null;
        if (!synced.has(doc.uri.toString())) await openNow(doc);
        const mine =
          ctx.triggerKind === vscode.InlineCompletionTriggerKind.Invoke &&
          own?.uri === doc.uri.toString() && own.version === doc.version && own.position.isEqual(position) && Date.now() <= own.until;
        if (mine) own = undefined;
        const result = await next(doc, position, mine ? { ...ctx, triggerKind: vscode.InlineCompletionTriggerKind.Automatic } : ctx, token);
        if (mine) ownAnswers.answered(doc, position, holdsItems(result));
        else ownAnswers.fetched();
        hooks.onCompletion();
        return result;
      },
      workspace: {
        // The client's own change notification would carry the raw section (the extension's own
        // settings included); the listener below sends the vetted one instead.
        didChangeConfiguration: async () => {},
        // The server pulls `slipstream`: answer with the vetted section, never raw workspace values.
        configuration: async (params, token, next) => {
          const others = params.items.filter((i) => i.section !== 'slipstream');
          const answered = others.length > 0 ? await next({ ...params, items: others }, token) : [];
          if (answered instanceof Error || !Array.isArray(answered)) return answered;
          let k = 0;
          return params.items.map((i) => (i.section === 'slipstream' ? serverSection() : answered[k++]));
        },
      },
    },
  };
  client = new LanguageClient('slipstream', 'Slipstream', serverOptions, clientOptions);
  client.registerFeature(new SuggestionFinishedCapability());
  // The whole suggestion behind an early answer is ready: ask again where the editor still is (and
  // still shows ghost text: askAgain), without the keystroke's time (the wait was the server's).
  // A moment's delay lets VS Code show the early answer first when both arrive together.
  client.onNotification(SUGGESTION_FINISHED, (params: unknown) => {
    setTimeout(() => {
      const editor = finishedEditor(params, (uri) => client.code2ProtocolConverter.asUri(uri));
      if (!editor || !suggestionsOn() || !documentOn(editor.document) || !synced.has(editor.document.uri.toString())) return;
      expectOwn(editor);
      keystrokes.forget(editor.document.uri.toString());
      askAgain().catch((err: Error) => output.warn(`asking again for the finished suggestion: ${err.message}`));
    }, ASK_AGAIN_AFTER_MS);
  });
  // A (re)starting server has no documents yet; the client opens them again through didOpen.
  context.subscriptions.push(client.onDidChangeState((e) => void (e.newState !== State.Running && synced.clear())));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('slipstream') || !client.isRunning()) return;
      void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { slipstream: serverSection() } });
    }),
  );
  /**
   * The next invoked inline completion request at `editor`'s cursor is the extension's own catch-up
   * for text typed while the server started: it goes to the server as automatic (one suggestion, no
   * alternatives: the user asked for none), and its trace keeps the keystroke's time.
   */
  return { client, policy, catchUp: expectOwn, ownAnswers };
}
