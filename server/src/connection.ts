/**
 * Wiring only: which connection message goes to which Server or feature method. No behaviour
 * lives here (typescript-language-server's split of entry, wiring and behaviour).
 */
import type { Connection } from 'vscode-languageserver';
import {
  CompleteRequest,
  DebugDocumentRequest,
  DidPartiallyAcceptCompletionNotification,
  DidShowCompletionNotification,
  StatusRequest,
  TracesRequest,
  type TracesParams,
} from './protocol.js';
import type { Server } from './server.js';

export function wireConnection(connection: Connection, server: Server): void {
  connection.onInitialize((params) => server.initialize(params));
  connection.onInitialized(() => server.initialized());
  connection.onShutdown(() => server.shutdown());
  connection.onDidOpenTextDocument((params) => server.didOpen(params));
  connection.onDidChangeTextDocument((params) => server.didChange(params));
  connection.onDidCloseTextDocument((params) => server.didClose(params));
  connection.onDidChangeConfiguration((params) => server.didChangeConfiguration(params));
  // afterCompletion reads the host's status (tens of µs): after the answer is written, not before
  connection.languages.inlineCompletion.on(async (params, token) => {
    try {
      return await server.completion.inlineCompletion(params, token);
    } finally {
      setImmediate(() => server.afterCompletion());
    }
  });
  connection.onCompletion(async (params, token) => {
    try {
      return await server.completion.completion(params, token);
    } finally {
      setImmediate(() => server.afterCompletion());
    }
  });
  connection.onNotification(DidShowCompletionNotification.type, (params) => server.completion.didShow(params));
  connection.onNotification(DidPartiallyAcceptCompletionNotification.type, (params) => server.completion.didPartiallyAccept(params));
  connection.onExecuteCommand((params) => server.completion.executeCommand(params));
  connection.onRequest(StatusRequest.method, () => server.status.status());
  connection.onRequest(TracesRequest.method, (params?: TracesParams | null) => server.status.traces(params));
  if (server.debugMethods) connection.onRequest(DebugDocumentRequest.type, (params) => server.debugDocument(params.uri));
  connection.onRequest(CompleteRequest.type, async (params, token) => {
    try {
      return await server.completion.complete(params, token);
    } finally {
      setImmediate(() => server.afterCompletion());
    }
  });
}
