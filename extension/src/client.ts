/**
 * The language client: starts the server (settings.ts picks the bundled one or the user's
 * command), sends it the `slipstream` settings (path settings only from the user's own
 * settings) on start, on pull and on every change, syncs only the documents that get suggestions
 * (language-gate.ts: never .env files unless turned on), and restarts a server that died, after a
 * growing delay (restart-policy.ts). vscode-languageclient registers the inline completion
 * provider itself once the server advertises it. No completion logic here.
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
import { RestartPolicy } from './restart-policy.js';
import { syncableScheme } from './language-gate.js';
import { documentOn, serverSection, serverToStart, suggestionsOn } from './settings.js';

export interface ClientHooks {
  /** After each inline completion answer (the status bar refreshes its latency). */
  onCompletion(): void;
  /** The server died for good (after repeated crashes). */
  onGaveUp(message: string): void;
  /** The server died and will restart after `delayMs`. */
  onRestarting(delayMs: number): void;
}

export function createClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel, hooks: ClientHooks): { client: LanguageClient; policy: RestartPolicy; catchUp: (uri: string) => void } {
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
  // the document whose next invoked request is the extension's catch-up after startup (extension.ts)
  let catchUpUri: string | null = null;
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
        // the extension's own catch-up request after startup stands for the user's typing: automatic
        const catchUp = catchUpUri === doc.uri.toString() && ctx.triggerKind === vscode.InlineCompletionTriggerKind.Invoke;
        if (catchUp) catchUpUri = null;
        const result = await next(doc, position, catchUp ? { ...ctx, triggerKind: vscode.InlineCompletionTriggerKind.Automatic } : ctx, token);
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
  // A (re)starting server has no documents yet; the client opens them again through didOpen.
  context.subscriptions.push(client.onDidChangeState((e) => void (e.newState !== State.Running && synced.clear())));
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('slipstream') || !client.isRunning()) return;
      void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { slipstream: serverSection() } });
    }),
  );
  /**
   * The next invoked inline completion request of `uri` is the extension's own catch-up for text
   * typed while the server started: it goes to the server as automatic (one suggestion, no
   * alternatives: the user asked for none), and its trace keeps the keystroke's time.
   */
  const catchUp = (uri: string): void => {
    catchUpUri = uri;
  };
  return { client, policy, catchUp };
}
