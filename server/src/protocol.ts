/**
 * The messages Slipstream adds to LSP: its own `slipstream/*` requests and the Copilot language
 * server's extensions it speaks verbatim (document version and formatting options on
 * inlineCompletion, didShow / didPartiallyAccept notifications, an accept command). Each message is
 * a namespace with its method and type. docs/protocol.md documents every shape here.
 */
import {
  NotificationType,
  RequestType,
  type InlineCompletionItem,
  type InlineCompletionParams,
} from 'vscode-languageserver';

/** `textDocument/inlineCompletion` params as Copilot's language server sends them. */
export type SlipstreamInlineCompletionParams = InlineCompletionParams & {
  textDocument: { uri: string; version?: number };
  formattingOptions?: { tabSize?: number; insertSpaces?: boolean };
};

/** The command every returned item carries; the editor runs it when the item is accepted. */
export const ACCEPT_COMMAND = 'slipstream.didAcceptCompletionItem';

export interface DidShowCompletionParams {
  item: InlineCompletionItem;
}
export namespace DidShowCompletionNotification {
  export const method = 'textDocument/didShowCompletion' as const;
  export const type = new NotificationType<DidShowCompletionParams>(method);
}

export interface DidPartiallyAcceptCompletionParams {
  item: InlineCompletionItem;
  /** Accepted length in UTF-16 code units of `item.insertText`. */
  acceptedLength: number;
}
export namespace DidPartiallyAcceptCompletionNotification {
  export const method = 'textDocument/didPartiallyAcceptCompletion' as const;
  export const type = new NotificationType<DidPartiallyAcceptCompletionParams>(method);
}

export type Stage = 'receive' | 'debounce' | 'load' | 'context' | 'tokenize' | 'prefill' | 'decode' | 'postprocess' | 'respond';

export type Outcome = 'shown' | 'empty' | 'cached' | 'cancelled' | 'superseded' | 'stale' | 'error' | 'disabled';

export interface RequestTrace {
  id: number;
  uri: string;
  /** Document version the request was computed for (null for slipstream/complete). */
  version: number | null;
  trigger: 'invoked' | 'automatic' | 'complete';
  /** Wall-clock start, ms since the epoch. */
  startedAt: number;
  /** Milliseconds spent in each stage that ran. */
  stages: Partial<Record<Stage, number>>;
  totalMs: number;
  outcome: Outcome;
  promptTokens?: number;
  reusedTokens?: number;
  generatedTokens?: number;
  error?: string;
}

export interface StatusResult {
  version: string;
  engine: {
    state: 'unconfigured' | 'unloaded' | 'loading' | 'ready' | 'error';
    model: { dir: string; architecture: string; vocabSize: number; numLayers: number; hiddenSize: number; fim: boolean } | null;
    drafter: { dir: string } | null;
    backend: string;
    mode: string;
    backends: { name: string; available: boolean; reason?: string }[];
    error: { message: string; code: string } | null;
    sessions: number;
    /** Bytes of weights (model + drafter) and of the sessions' K/V; null when the engine does not say. */
    memory: { weightBytes: number; kvBytes: number } | null;
  };
  /** The server process (shared by every connection of a TCP server). */
  process: { rssBytes: number; heapUsedBytes: number; externalBytes: number; uptimeS: number };
  cache: { hits: number; misses: number };
  latency: { count: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null; lastMs: number | null };
  requests: { total: number; shown: number; empty: number; cached: number; cancelled: number; superseded: number; stale: number; errors: number };
  events: { shown: number; accepted: number; partiallyAccepted: number };
  documents: number;
}
export namespace StatusRequest {
  export const method = 'slipstream/status' as const;
  export const type = new RequestType<null | Record<string, never> | undefined, StatusResult, void>(method);
}

export interface CompleteParams {
  /** The whole document. */
  text: string;
  /** Cursor offset in UTF-16 code units of `text`. */
  offset: number;
  languageId?: string;
  /** Names the document for the engine's per-document session (default `slipstream:complete`). */
  uri?: string;
  maxTokens?: number;
}
export interface CompleteResult {
  /** Zero or one item; `start`/`end` are UTF-16 offsets in `text` of the range it replaces. */
  items: { insertText: string; start: number; end: number }[];
  traceId: number;
}
export namespace CompleteRequest {
  export const method = 'slipstream/complete' as const;
  export const type = new RequestType<CompleteParams, CompleteResult, void>(method);
}

/** Test-only (SLIPSTREAM_DEBUG_METHODS=1): the server's copy of an open document. */
export interface DebugDocumentResult {
  uri: string;
  version: number;
  text: string;
}
export namespace DebugDocumentRequest {
  export const method = 'slipstream/debug/document' as const;
  export const type = new RequestType<{ uri: string }, DebugDocumentResult | null, void>(method);
}

export interface TracesParams {
  /** Only traces with an id greater than this. */
  after?: number;
  /** At most this many, the newest. */
  limit?: number;
}
export interface TracesResult {
  capacity: number;
  traces: RequestTrace[];
}
export namespace TracesRequest {
  export const method = 'slipstream/traces' as const;
  export const type = new RequestType<TracesParams | null | undefined, TracesResult, void>(method);
}
