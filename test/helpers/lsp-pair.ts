/**
 * An in-process server and a JSON-RPC client over a pair of streams (the pattern of
 * vscode-languageserver-node's connection tests). The client answers workspace/configuration and
 * registerCapability, and records showMessage / logMessage so tests can wait on them.
 */
import { PassThrough } from 'node:stream';
import {
  CancellationTokenSource,
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { ClientCapabilities, InlineCompletionList, Position, TextDocumentContentChangeEvent } from 'vscode-languageserver-protocol';
import { startServer, type Server, type ServerOptions } from '../../server/src/server.js';
import { createStreamConnection } from '../../server/src/transport.js';

export interface LspPair {
  client: ProtocolConnection;
  server: Server;
  /** Raw client → server stream, for malformed frames. */
  toServer: PassThrough;
  messages: { type: number; message: string }[];
  logs: { type: number; message: string }[];
  /** Answer for workspace/configuration (section 'slipstream'); null = not supported. */
  configuration: unknown;
  exitCode: Promise<number>;
  initialize(capabilities?: ClientCapabilities, initializationOptions?: unknown): Promise<{ capabilities: Record<string, unknown> }>;
  open(uri: string, text: string, languageId?: string, version?: number): Promise<void>;
  change(uri: string, version: number, changes: TextDocumentContentChangeEvent[]): Promise<void>;
  inline(uri: string, position: Position, extra?: Record<string, unknown>, token?: CancellationTokenSource): Promise<InlineCompletionList | null>;
  /** Resolves when the server next asks for workspace/configuration (after it is answered). */
  nextConfigurationRequest(): Promise<void>;
  /** Resolves with the next window/showMessage. */
  nextMessage(): Promise<{ type: number; message: string }>;
  dispose(): void;
}

export function createPair(options: ServerOptions): LspPair {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  let resolveExit!: (code: number) => void;
  const exitCode = new Promise<number>((r) => (resolveExit = r));
  const connection = createStreamConnection(toServer, toClient, { exit: (code) => resolveExit(code) });
  const server = startServer(connection, options);
  const client = createProtocolConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const messageWaiters: ((m: { type: number; message: string }) => void)[] = [];
  const configWaiters: (() => void)[] = [];
  const pair: LspPair = {
    client,
    server,
    toServer,
    messages: [],
    logs: [],
    configuration: null,
    exitCode,
    async initialize(capabilities = {}, initializationOptions) {
      const r = await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities, initializationOptions });
      await client.sendNotification('initialized', {});
      return r as { capabilities: Record<string, unknown> };
    },
    async open(uri, text, languageId = 'typescript', version = 1) {
      await client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
    },
    async change(uri, version, changes) {
      await client.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
    },
    inline(uri, position, extra = {}, token) {
      const params = { position, context: { triggerKind: 2 }, ...extra, textDocument: { uri, ...((extra.textDocument as object) ?? {}) } };
      const method = 'textDocument/inlineCompletion';
      return (token ? client.sendRequest(method, params, token.token) : client.sendRequest(method, params)) as Promise<InlineCompletionList | null>;
    },
    nextConfigurationRequest() {
      return new Promise((r) => configWaiters.push(r));
    },
    nextMessage() {
      return new Promise((r) => messageWaiters.push(r));
    },
    dispose() {
      client.dispose();
      connection.dispose();
      toServer.destroy();
      toClient.destroy();
    },
  };
  client.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) => {
    setImmediate(() => configWaiters.splice(0).forEach((w) => w()));
    return params.items.map((i) => (i.section === 'slipstream' ? pair.configuration : null));
  });
  client.onRequest('client/registerCapability', () => null);
  client.onNotification('window/showMessage', (m: { type: number; message: string }) => {
    pair.messages.push(m);
    for (const w of messageWaiters.splice(0)) w(m);
  });
  client.onNotification('window/logMessage', (m: { type: number; message: string }) => {
    pair.logs.push(m);
  });
  client.listen();
  return pair;
}

export { CancellationTokenSource };
