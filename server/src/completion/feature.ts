/**
 * The completion feature: advertises inlineCompletionProvider (and a completion menu to clients
 * that show no inline completions) and the accept command, turns `textDocument/inlineCompletion`,
 * `textDocument/completion` and `slipstream/complete` into provider requests (LSP
 * CancellationToken → AbortSignal), answers with ranges in the negotiated position encoding,
 * and records Copilot's didShow / didPartiallyAccept / accept events (and, through retention.ts,
 * what stays of the accepted text); tells clients that ask for it when the whole suggestion behind
 * an early answer (time-budget.ts) is ready (slipstream/suggestionFinished). Params arrive checked against their types (message-gate.ts);
 * what is left here are checks against state (is the document open, is the item known).
 */
import {
  ErrorCodes,
  LSPErrorCodes,
  ResponseError,
  CompletionItemKind,
  InsertTextFormat,
  MarkupKind,
  type CancellationToken,
  type Command,
  type CompletionItem,
  type CompletionList,
  type CompletionParams,
  type ExecuteCommandParams,
  type InlineCompletionItem,
  type InlineCompletionList,
  type Position,
  type ServerCapabilities,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { PositionError } from '../documents.js';
import type { Feature, ServerContext } from '../feature.js';
import {
  ACCEPT_COMMAND,
  type CompleteParams,
  type CompleteResult,
  type DidPartiallyAcceptCompletionParams,
  type DidShowCompletionParams,
  type SlipstreamInlineCompletionParams,
  SuggestionFinishedNotification,
} from '../protocol.js';
import type { EngineHost } from './engine-host.js';
import { CompletionEvents } from './events.js';
import { alternativesFor, invokedSeats } from './alternatives.js';
import { menuItems } from './menu-items.js';
import { RetentionTracker, type Schedule } from './retention.js';
import { CompletionProvider, type CompletionRequest, type CompletionResult } from './provider.js';
import { checkClientTrace, type ClientTrace } from '../trace/client-trace.js';
import { nowMs } from '../trace/clock.js';
import { TraceLog } from './traces.js';

function invalid(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, message);
}

/** An AbortSignal that follows the token; call dispose when the request is over. */
function tokenSignal(token: CancellationToken | undefined): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  if (!token) return { signal: ac.signal, dispose: () => {} };
  if (token.isCancellationRequested) ac.abort('cancelled');
  const sub = token.onCancellationRequested(() => ac.abort('cancelled'));
  return { signal: ac.signal, dispose: () => sub.dispose() };
}

/** Characters after which a menu client asks at once (it asks after word characters anyway). */
const MENU_TRIGGER_CHARACTERS = ['.', '(', '[', '{', ',', ':', '=', ' '];

/** The command an item carries, which the client runs when the user accepts it: the item's id and, for a part of it, its length. */
function acceptCommand(id: string, acceptedLength?: number): Command {
  return { title: 'Accept Slipstream completion', command: ACCEPT_COMMAND, arguments: acceptedLength === undefined ? [id] : [id, acceptedLength] };
}

function itemId(item: InlineCompletionItem | undefined): string | undefined {
  const arg = item?.command?.arguments?.[0];
  return typeof arg === 'string' ? arg : undefined;
}

export class CompletionFeature implements Feature {
  readonly name = 'completion';
  readonly traces: TraceLog;
  readonly events = new CompletionEvents();
  readonly retention: RetentionTracker;
  readonly provider: CompletionProvider;

  constructor(
    private readonly ctx: ServerContext,
    readonly host: EngineHost,
    /** The retention checkpoints' timers (tests pass their own). */
    schedule?: Schedule,
  ) {
    this.retention = new RetentionTracker((uri) => ctx.documents.get(uri)?.getText(), schedule);
    ctx.documents.onEdits((doc, edits) => {
      this.events.edited(doc.uri, edits);
      this.retention.changed(doc.uri, edits);
    });
    this.traces = new TraceLog((message) => ctx.log.warn(message));
    this.provider = new CompletionProvider({
      host,
      settings: () => ctx.config.settings,
      log: ctx.log,
      traces: this.traces,
      events: this.events,
      sources: () => ctx.documents.all(),
    });
    const applyTrace = (): void => this.traces.configure(ctx.config.settings.trace);
    applyTrace();
    ctx.config.onChange(applyTrace);
  }

  initialize(): ServerCapabilities {
    return {
      inlineCompletionProvider: true,
      executeCommandProvider: { commands: [ACCEPT_COMMAND] },
      // the menu for clients that show no inline completions (VS Code's and the editors/ plugins' say they do)
      ...(this.ctx.client.textDocument?.inlineCompletion ? {} : { completionProvider: { triggerCharacters: MENU_TRIGGER_CHARACTERS } }),
    };
  }

  /** The document was closed or dropped for the limits. */
  closed(uri: string): void {
    this.provider.close(uri);
    this.retention.closed(uri);
  }

  /** The open document and the cursor's offset in it; null for a document the limits keep out. */
  private cursor(uri: string, position: Position): { doc: TextDocument; offset: number } | null {
    const doc = this.ctx.documents.get(uri);
    if (!doc) {
      // over the limits: the client was told once (server.ts); an error here would be shown per keystroke
      if (this.ctx.documents.wasRefused(uri)) return null;
      throw invalid(`unknown document ${uri}: send textDocument/didOpen first`);
    }
    try {
      return { doc, offset: this.ctx.documents.offsetAt(doc, position) };
    } catch (err) {
      if (err instanceof PositionError) throw invalid(err.message);
      throw err;
    }
  }

  async inlineCompletion(params: SlipstreamInlineCompletionParams, token?: CancellationToken): Promise<InlineCompletionList | null> {
    const receivedAt = nowMs();
    const uri = params.textDocument.uri;
    const at = this.cursor(uri, params.position);
    if (!at) return { items: [] };
    const { doc, offset } = at;
    const version = typeof params.textDocument.version === 'number' ? params.textDocument.version : doc.version;
    if (version !== doc.version) return { items: [] }; // computed for a text the document no longer has
    const { signal, dispose } = tokenSignal(token);
    try {
      const req: CompletionRequest = {
        key: uri,
        text: doc.getText(),
        offset,
        languageId: doc.languageId,
        version,
        currentVersion: () => this.ctx.documents.get(uri)?.version,
        trigger: params.context?.triggerKind === 1 ? 'invoked' : 'automatic',
        signal,
        receivedAt,
        clientTrace: this.clientTrace(params.clientTrace, receivedAt),
        ...(this.wantsSuggestionFinished() ? { onWhole: () => this.suggestionFinished(uri, version, params.position) } : {}),
      };
      const count = req.trigger === 'invoked' ? this.ctx.config.settings.completion.alternatives : 1;
      return this.toList(await this.withAlternatives(req, count), doc, offset);
    } finally {
      dispose();
    }
  }

  /**
   * `textDocument/completion`: the suggestion an automatic inline request would show, as menu
   * items (menu-items.ts). Incomplete, so that the client asks again as the user types (the
   * keystroke cache answers what typing through the suggestion keeps).
   */
  async completion(params: CompletionParams, token?: CancellationToken): Promise<CompletionList> {
    const receivedAt = nowMs();
    const uri = params.textDocument.uri;
    const at = this.cursor(uri, params.position);
    if (!at) return { isIncomplete: true, items: [] };
    const { doc, offset } = at;
    const text = doc.getText(); // the text the suggestion and its items are for, whatever comes meanwhile
    const { signal, dispose } = tokenSignal(token);
    try {
      const result = await this.provider.complete({
        key: uri,
        text,
        offset,
        languageId: doc.languageId,
        version: doc.version,
        currentVersion: () => this.ctx.documents.get(uri)?.version,
        trigger: 'automatic',
        signal,
        receivedAt,
      });
      if (result.outcome === 'cancelled') throw new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');
      const suggestions = result.outcome === 'shown' || result.outcome === 'cached' ? [{ id: result.item.id, text: result.item.text, replaceLength: result.replaceLength }] : [];
      const formats: unknown = this.ctx.client.textDocument?.completion?.completionItem?.documentationFormat;
      const markdown = Array.isArray(formats) && formats.includes(MarkupKind.Markdown);
      const docs = this.ctx.documents;
      const cursor = docs.positionAt(doc, offset);
      const items = menuItems(text, offset, suggestions, { markdown, languageId: doc.languageId }).map((plan, i): CompletionItem => ({
        label: plan.label,
        kind: CompletionItemKind.Text,
        detail: plan.detail,
        ...(plan.documentation ? { documentation: plan.documentation } : {}),
        sortText: String(i).padStart(4, '0'),
        filterText: plan.filterText,
        insertTextFormat: InsertTextFormat.PlainText,
        textEdit: { range: { start: docs.positionAt(doc, plan.start), end: cursor }, newText: plan.newText },
        command: acceptCommand(plan.id, plan.acceptedLength),
      }));
      return { isIncomplete: true, items };
    } finally {
      dispose();
    }
  }

  /** The client asked for slipstream/suggestionFinished (capabilities.experimental.slipstream.suggestionFinished). */
  private wantsSuggestionFinished(): boolean {
    const slipstream = (this.ctx.client.experimental as { slipstream?: { suggestionFinished?: unknown } } | undefined)?.slipstream;
    return slipstream?.suggestionFinished === true;
  }

  /** Tells the client the whole suggestion behind an early answer is ready, if the document is still at that version. */
  private suggestionFinished(uri: string, version: number, position: Position): void {
    if (this.ctx.documents.get(uri)?.version !== version) return;
    void this.ctx.connection.sendNotification(SuggestionFinishedNotification.type, { textDocument: { uri, version }, position }).catch(() => {});
  }

  /**
   * The request's result and, when it was shown or cached and count > 1, its alternatives after
   * it; the request's trace stays open through them (its `alternatives` stage), so its time is the
   * time to the whole answer.
   */
  private async withAlternatives(req: CompletionRequest, count: number): Promise<CompletionResult[]> {
    // on an engine that decodes branches together, the first and its alternatives are branches of one
    // generation; a greedy first only: a sampled one stays the sample an automatic request gets (in
    // ReDrafter's mode, not plain decoding's), and its seat is left empty
    const temperature = req.temperature ?? this.ctx.config.settings.completion.temperature;
    const batch = count > 1 ? this.provider.branchBatch(invokedSeats(temperature, count)) : null;
    const seated = batch !== null && temperature === 0;
    if (!seated) batch?.absent(0);
    const result = await this.provider.complete({ ...req, holdTrace: count > 1, ...(seated ? { batch: { batch, index: 0 } } : {}) }).finally(() => batch?.absent(0));
    if (result.outcome !== 'shown' && result.outcome !== 'cached') {
      for (let i = 1; i < count; i++) batch?.absent(i); // no alternatives without a first suggestion
      return [result];
    }
    let more: CompletionResult[] = [];
    try {
      if (count > 1) more = await alternativesFor(this.provider, req, result, count, batch);
    } finally {
      result.finishTrace?.({ asked: count - 1, offered: more.length });
    }
    return [result, ...more];
  }

  /** The list for results[0] and the alternatives after it (all shown or cached). */
  private toList(results: CompletionResult[], doc: TextDocument, offset: number): InlineCompletionList | null {
    const first = results[0]!;
    if (first.outcome === 'cancelled') throw new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');
    const docs = this.ctx.documents;
    const start = docs.positionAt(doc, offset);
    const items: InlineCompletionItem[] = [];
    for (const result of results) {
      if (result.outcome !== 'shown' && result.outcome !== 'cached') continue;
      const end = result.replaceLength > 0 ? docs.positionAt(doc, offset + result.replaceLength) : start;
      items.push({
        insertText: result.item.text,
        range: { start, end },
        command: acceptCommand(result.item.id),
      });
    }
    return { items };
  }

  async complete(params: CompleteParams, token?: CancellationToken): Promise<CompleteResult> {
    const receivedAt = nowMs();
    const { text, offset } = params;
    const { signal, dispose } = tokenSignal(token);
    try {
      const req: CompletionRequest = {
        key: params.uri ?? 'slipstream:complete',
        text,
        offset,
        languageId: params.languageId ?? 'plaintext',
        version: null,
        trigger: 'complete',
        signal,
        maxTokens: params.maxTokens,
        receivedAt,
        clientTrace: this.clientTrace(params.clientTrace, receivedAt),
      };
      const results = await this.withAlternatives(req, params.alternatives ?? 1);
      const first = results[0]!;
      if (first.outcome === 'cancelled') throw new ResponseError(LSPErrorCodes.RequestCancelled, 'request cancelled');
      const items = results.flatMap((r) => (r.outcome === 'shown' || r.outcome === 'cached' ? [{ insertText: r.item.text, start: offset, end: offset + r.replaceLength }] : []));
      return { items, traceId: first.traceId };
    } finally {
      dispose();
    }
  }

  didShow(params: DidShowCompletionParams): void {
    const id = itemId(params.item);
    if (!id || !this.events.shown(id)) this.ctx.log.debug(`didShowCompletion for an unknown item ${JSON.stringify(id)}`);
  }

  didPartiallyAccept(params: DidPartiallyAcceptCompletionParams): void {
    const id = itemId(params.item);
    const n = params.acceptedLength;
    const rec = id ? this.events.partiallyAccepted(id, n) : undefined;
    if (!rec) this.ctx.log.debug(`didPartiallyAcceptCompletion ignored: item ${JSON.stringify(id)}, acceptedLength ${JSON.stringify(n)}`);
    else this.retention.accepted(rec, rec.acceptedLength ?? 0);
  }

  executeCommand(params: ExecuteCommandParams): null {
    if (params.command !== ACCEPT_COMMAND) throw invalid(`unknown command ${JSON.stringify(params.command)}`);
    const [id, length] = params.arguments ?? [];
    if (typeof id !== 'string' || (length !== undefined && !(Number.isInteger(length) && (length as number) >= 0))) {
      throw invalid(`${ACCEPT_COMMAND} takes the item id and, for a part of it, the accepted length (UTF-16 code units)`);
    }
    // a menu's first line of a multi-line suggestion (menu-items.ts) is a partial accept
    const rec = length === undefined ? this.events.accepted(id) : this.events.partiallyAccepted(id, length as number);
    if (!rec) this.ctx.log.debug(`accept for an unknown item ${id}`);
    else this.retention.accepted(rec, rec.acceptedLength ?? 0);
    return null;
  }

  /** The valid part of a request's clientTrace; what was wrong with the rest goes to the debug log. */
  private clientTrace(raw: unknown, receivedAt: number): ClientTrace | undefined {
    const { client, problems } = checkClientTrace(raw, receivedAt);
    if (problems.length > 0) this.ctx.log.debug(`clientTrace ignored in part: ${problems.join('; ')}`);
    return client;
  }

  async shutdown(): Promise<void> {
    this.retention.dispose();
    this.provider.abortAll();
    await this.traces.close();
  }
}
