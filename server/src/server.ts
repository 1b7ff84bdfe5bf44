/**
 * The language server behind one connection: builds the features, merges their capabilities in
 * onInitialize and shuts them down in order. Transport (stdio or socket) is chosen by the caller;
 * this file never touches process.stdout.
 */
import {
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { VERSION } from './version.js';

export interface ServerOptions {
  modelDir?: string;
  drafterDir?: string;
}

export const SERVER_NAME = 'slipstream';

/** Wires a server onto a connection and starts listening. */
export function startServer(connection: Connection, options: ServerOptions): void {
  const documents = new TextDocuments(TextDocument);
  connection.onInitialize(
    (_params: InitializeParams): InitializeResult => ({
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
      },
      serverInfo: { name: SERVER_NAME, version: VERSION },
    }),
  );
  connection.onShutdown(() => {
    connection.console.info(`${SERVER_NAME}: shutting down${options.modelDir ? ` (model ${options.modelDir})` : ''}`);
  });
  documents.listen(connection);
  connection.listen();
}
