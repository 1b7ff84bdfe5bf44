/**
 * The language server behind one connection: builds the features, merges their capabilities in
 * initialize, applies configuration (initializationOptions, then workspace/configuration), keeps
 * the document store (and tells the client of documents its limits keep out), and shuts the
 * features down in reverse order. Wiring to the connection is connection.ts; transport (stdio or
 * socket) is the caller's. Never touches process.stdout.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  DidChangeConfigurationNotification,
  MessageType,
  ShowMessageNotification,
  type Connection,
  type DidChangeConfigurationParams,
  type DidChangeTextDocumentParams,
  type DidCloseTextDocumentParams,
  type DidOpenTextDocumentParams,
  type InitializeParams,
  type InitializeResult,
  type ServerCapabilities,
  TextDocumentSyncKind,
} from 'vscode-languageserver';
import { ConfigStore, defaultSettings, engineChanged, ownField, type DecodeMode, type Settings, type SharedPolicy } from './config.js';
import { chooseModel } from './completion/default-model.js';
import { wireConnection } from './connection.js';
import type { EngineHost } from './completion/engine-host.js';
import { CompletionFeature } from './completion/feature.js';
import type { Schedule } from './completion/retention.js';
import { SwitchingEngineHost } from './completion/switching-engine-host.js';
import type { DocumentLimits } from './document-limits.js';
import { DocumentStore, type Refusal } from './documents.js';
import type { Feature, ServerContext } from './feature.js';
import { Logger, type LogSink } from './log.js';
import { negotiateEncoding } from './position-encoding.js';
import type { DebugDocumentResult } from './protocol.js';
import { StatusFeature } from './status-feature.js';
import { VERSION } from './version.js';

export interface ServerOptions {
  modelDir?: string;
  drafterDir?: string;
  /** engine.mode before any client setting (`serve --mode`). */
  mode?: DecodeMode;
  /** An engine host to use instead of a new one (shared by TCP clients; fakes in tests). */
  engineHost?: EngineHost;
  /** Whether shutdown disposes the engine host (default: when the server created it). */
  ownsEngineHost?: boolean;
  /** Serve the test-only slipstream/debug/* methods (default: SLIPSTREAM_DEBUG_METHODS=1). */
  debugMethods?: boolean;
  /** Settings before any client's (a daemon's --config file); modelDir, drafterDir and mode apply on top. */
  base?: Settings;
  /**
   * A connection of a shared daemon: engine settings are the daemon's (the shared engine host is
   * configured by the daemon, never by a connection) and client trace files stay in its state dir.
   */
  shared?: SharedPolicy;
  /** The connection's document limits (document-limits.ts; defaults where absent). */
  documentLimits?: Partial<DocumentLimits>;
  /** Timers of the retention checkpoints (completion/retention.ts), for tests; real unref'd timers by default. */
  retentionSchedule?: Schedule;
}

export const SERVER_NAME = 'slipstream';

export class Server {
  readonly documents: DocumentStore;
  readonly config: ConfigStore;
  readonly log: Logger;
  readonly completion: CompletionFeature;
  readonly status: StatusFeature;
  readonly debugMethods: boolean;
  private readonly features: Feature[];
  private readonly ctx: ServerContext;
  private readonly host: EngineHost;
  private readonly ownsHost: boolean;
  private readonly reportedModelErrors = new Set<string>();
  /** Whether the client was told of a document over the limits since it last closed one. */
  private toldOfLimits = false;
  /** A shared daemon's connection: never configures the engine host (the daemon does). */
  private readonly shared: boolean;

  constructor(
    private readonly connection: Connection,
    options: ServerOptions,
  ) {
    const sink: LogSink = (level, message) => {
      try {
        if (level === 'error') connection.console.error(message);
        else if (level === 'warn') connection.console.warn(message);
        else if (level === 'info') connection.console.info(message);
        else connection.console.log(message);
      } catch {
        // The client is gone (connection disposed): nobody is left to tell.
      }
    };
    this.log = new Logger(sink);
    this.documents = new DocumentStore(options.documentLimits);
    const base: Settings = structuredClone(options.base ?? defaultSettings());
    if (options.modelDir) base.engine.model = options.modelDir;
    if (options.drafterDir) base.engine.drafter = options.drafterDir;
    if (options.mode) base.engine.mode = options.mode;
    this.config = new ConfigStore(base, (w) => this.log.warn(w), options.shared);
    this.shared = options.shared !== undefined;
    this.host = options.engineHost ?? new SwitchingEngineHost(this.log);
    this.ownsHost = options.ownsEngineHost ?? options.engineHost === undefined;
    this.debugMethods = options.debugMethods ?? process.env.SLIPSTREAM_DEBUG_METHODS === '1';
    this.ctx = { connection, documents: this.documents, config: this.config, log: this.log, client: {} };
    this.completion = new CompletionFeature(this.ctx, this.host, options.retentionSchedule);
    this.status = new StatusFeature(this.ctx, this.completion);
    this.features = [this.completion, this.status];
    this.config.onChange((next, prev) => this.applySettings(next, prev));
  }

  initialize(params: InitializeParams): InitializeResult {
    this.ctx.client = params.capabilities;
    const encoding = negotiateEncoding(this.ctx.client.general?.positionEncodings);
    this.documents.encoding = encoding;
    let capabilities: ServerCapabilities = {
      positionEncoding: encoding,
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
    };
    for (const f of this.features) capabilities = { ...capabilities, ...f.initialize(params) };
    this.config.set(0, params.initializationOptions);
    if (!this.shared) this.host.configure(this.config.settings.engine);
    this.log.setLevel(this.config.settings.log.level);
    return { capabilities, serverInfo: { name: SERVER_NAME, version: VERSION } };
  }

  initialized(): void {
    const ws = this.ctx.client.workspace;
    if (ws?.didChangeConfiguration?.dynamicRegistration) {
      void this.connection.client.register(DidChangeConfigurationNotification.type, { section: 'slipstream' }).catch(() => {});
    }
    for (const f of this.features) f.initialized?.();
    this.checkModelPath(this.config.settings);
    // Load the model now (not at the first keystroke), once the client's settings are in.
    void this.pullConfiguration().then(() => this.warmUp());
  }

  /** Pulls `slipstream` from workspace/configuration when the client supports it. */
  private async pullConfiguration(): Promise<void> {
    if (!this.ctx.client.workspace?.configuration) return;
    try {
      const section: unknown = await this.connection.workspace.getConfiguration('slipstream');
      this.config.set(1, section ?? {});
    } catch (err) {
      this.log.warn(`workspace/configuration failed: ${(err as Error).message}`);
    }
  }

  /** Starts loading the model; a model that cannot be loaded is shown to the user. */
  private warmUp(): void {
    const model = chooseModel(this.config.settings.engine).model;
    this.host.ready().then(
      () => {},
      (err: { message?: string; code?: string }) => this.reportModelError(model, `cannot load model ${model}: ${err?.message ?? String(err)} [${err?.code ?? 'ENGINE_LOAD_FAILED'}]`, false),
    );
  }

  didChangeConfiguration(params: DidChangeConfigurationParams): void {
    const pushed = ownField(params.settings, 'slipstream');
    if (pushed !== undefined) this.config.set(1, pushed);
    else void this.pullConfiguration();
  }

  private applySettings(next: Settings, prev: Settings): void {
    this.log.setLevel(next.log.level);
    if (!this.shared && (engineChanged(next, prev) || next.engine.mode !== prev.engine.mode)) {
      this.host.configure(next.engine);
      if (engineChanged(next, prev)) {
        this.checkModelPath(next);
        this.warmUp();
      }
    }
  }

  /** A model folder that is not there is a startup misconfiguration: tell the user. */
  private checkModelPath(s: Settings): void {
    const dir = s.engine.model;
    if (!dir) {
      this.log.info(`no model configured (slipstream.engine.model or --model): using the shipped default model ${chooseModel(s.engine).model}`);
      return;
    }
    if (!existsSync(join(dir, 'config.json'))) this.reportModelError(dir, `model folder ${dir} has no config.json`);
  }

  /** Shows a model problem once per folder as window/showMessage. */
  reportModelError(dir: string, message: string, logIt = true): void {
    if (this.reportedModelErrors.has(dir)) return;
    this.reportedModelErrors.add(dir);
    if (logIt) this.log.error(message, 'ENGINE_BAD_MODEL');
    try {
      void this.connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Error, message: `Slipstream: ${message}` }).catch(() => {});
    } catch {
      // connection disposed
    }
  }

  didOpen(params: DidOpenTextDocumentParams): void {
    const { uri } = params.textDocument;
    const wasOpen = this.documents.get(uri) !== undefined;
    const refusal = this.documents.open(params);
    // opened again without a close: the accepted text followed so far refers to the old text
    if (wasOpen) this.completion.retention.closed(uri);
    if (refusal) this.overLimits(uri, wasOpen ? 'dropped (opened again, larger)' : 'not opened', refusal, wasOpen);
  }

  didChange(params: DidChangeTextDocumentParams): void {
    const { uri, version } = params.textDocument;
    const r = this.documents.change(params);
    if (r === 'unknown') {
      if (this.documents.wasRefused(uri)) this.log.debug(`didChange for ${uri} ignored: the document is over the limits`);
      else this.log.warn(`didChange for a document that is not open: ${JSON.stringify(uri)}`);
    }
    if (r === 'stale') {
      this.log.warn(`didChange for ${uri} ignored: version ${version} does not increase on ${this.documents.get(uri)?.version} (LSP: versions increase with every change)`);
    }
    if (typeof r === 'object') this.overLimits(uri, `dropped at version ${version}`, r, true);
  }

  didClose(params: DidCloseTextDocumentParams): void {
    this.documents.close(params);
    this.completion.closed(params.textDocument.uri);
    this.toldOfLimits = false;
  }

  /**
   * A document the limits kept out: the completion state of a dropped one goes with it, the log
   * says why, and the client is shown a warning once until it closes a document (then again at
   * the next one).
   */
  private overLimits(uri: string, what: string, refusal: Refusal, dropped: boolean): void {
    if (dropped) this.completion.closed(uri);
    const name = uri.length > 200 ? `${uri.slice(0, 200)}…` : uri;
    this.log.warn(`document ${name} ${what}: ${refusal.reason}; it gets no completions until it is opened again under the limits`);
    if (this.toldOfLimits) return;
    this.toldOfLimits = true;
    const message = `Slipstream: no completions for ${name}: ${refusal.reason}. Close documents you do not need, then reopen it.`;
    try {
      void this.connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Warning, message }).catch(() => {});
    } catch {
      // connection disposed
    }
  }

  /** slipstream/debug/document: the server's copy of a document, for tests that check edits. */
  debugDocument(uri: string): DebugDocumentResult | null {
    const doc = this.documents.get(uri);
    return doc ? { uri, version: doc.version, text: doc.getText() } : null;
  }

  /** Called after each completion: a model that fails to load is shown to the user once. */
  afterCompletion(): void {
    const st = this.host.status();
    if (st.state === 'error' && st.error) this.reportModelError(chooseModel(this.config.settings.engine).model, `${st.error.message} [${st.error.code}]`, false);
  }

  async shutdown(): Promise<void> {
    for (const f of [...this.features].reverse()) await f.shutdown?.();
    if (this.ownsHost) await this.host.dispose();
  }
}

/** Wires a server onto a connection and starts listening. */
export function startServer(connection: Connection, options: ServerOptions): Server {
  const server = new Server(connection, options);
  wireConnection(connection, server);
  connection.listen();
  return server;
}
