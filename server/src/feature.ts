/**
 * A Feature is one slice of server behaviour (completion, status, ...). The server builds the
 * features, merges the capabilities they return from initialize, and shuts them down in reverse
 * order. Features get what they share through ServerContext, never through globals.
 */
import type { ClientCapabilities, Connection, InitializeParams, ServerCapabilities } from 'vscode-languageserver';
import type { ConfigStore } from './config.js';
import type { DocumentStore } from './documents.js';
import type { Logger } from './log.js';

export interface ServerContext {
  connection: Connection;
  documents: DocumentStore;
  config: ConfigStore;
  log: Logger;
  /** Set by initialize. */
  client: ClientCapabilities;
}

export interface Feature {
  readonly name: string;
  initialize(params: InitializeParams): ServerCapabilities;
  initialized?(): void;
  shutdown?(): Promise<void> | void;
}
