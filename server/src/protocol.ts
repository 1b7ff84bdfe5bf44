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
  type Position,
} from 'vscode-languageserver';

/** The native host's KV figures (slipstream/status cache.kv; the engine host reports them). */
export interface KvFigures {
  /** K/V bytes of the tokens the sessions hold. */
  bytes: number;
  budgetBytes: number;
  sessions: number;
  /** Generations that reused at least one resident token. */
  hits: number;
  /** Sessions dropped to stay under the budget. */
  evictions: number;
  /** Resident blocks of the engine's shared KV block pool (native host; 16 positions each). */
  blocks?: number;
  /** The engine's shared KV block pool (bytes count in `bytes` above too): blocks found by prefills (hits), evicted. */
  pool?: KvPoolSummary;
}

/** The engine's shared KV block pool, as slipstream/status reports it under cache.kv.pool. */
export interface KvPoolSummary {
  bytes: number;
  budgetBytes: number;
  blocks: number;
  hits: number;
  evictions: number;
}

/** `textDocument/inlineCompletion` params as Copilot's language server sends them. */
export type SlipstreamInlineCompletionParams = InlineCompletionParams & {
  textDocument: { uri: string; version?: number };
  formattingOptions?: { tabSize?: number; insertSpaces?: boolean };
  /** Slipstream's own, optional: the editor's trace id and keystroke time (ClientTraceParams). */
  clientTrace?: unknown;
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

/**
 * Server to client, to clients that declare `experimental.slipstream.suggestionFinished: true` in
 * their capabilities: the generation behind an inline completion answered early (its time budget,
 * completion.timeBudgetMs, ended while it ran) has finished, and the document is still at that
 * version: an automatic request at the same position now gets the whole suggestion at once (from
 * the suggestion cache). A client showing the early answer there asks again.
 */
export interface SuggestionFinishedParams {
  textDocument: { uri: string; version: number };
  position: Position;
}
export namespace SuggestionFinishedNotification {
  export const method = 'slipstream/suggestionFinished' as const;
  export const type = new NotificationType<SuggestionFinishedParams>(method);
}

/** The stages of a request, in pipeline order: the children of its `request` span (docs/tracing.md). */
export type Stage =
  | 'receive' | 'cache' | 'debounce' | 'load' | 'context' | 'tokenize' | 'queue' | 'prefill' | 'decode' | 'postprocess' | 'alternatives' | 'respond';

/** Spans below the stages: `round` under decode (draft, verify, accept under a round), `ttfb` under a remote prefill. */
export type SubSpan = 'round' | 'draft' | 'verify' | 'accept' | 'ttfb';

/** One span of a request's trace: a time interval with its children, all on the trace clock. */
export interface TraceSpan {
  name: 'request' | Stage | SubSpan;
  /** Start, ms since the epoch (performance.timeOrigin + performance.now(): monotonic, sub-ms). */
  start: number;
  /** Duration in ms; children lie within [start, start + dur]. */
  dur: number;
  attrs?: Record<string, string | number | boolean>;
  children?: TraceSpan[];
}

/**
 * What a client may send with a completion request (`clientTrace` in the params) so the editor's
 * time joins the server's: its own trace id and when the keystroke happened. Each field is
 * checked on its own; a malformed one is ignored (logged at debug), never an error.
 */
export interface ClientTraceParams {
  /** 1-64 printable ASCII characters; 32 lowercase hex digits (a W3C trace id) is also the OpenTelemetry trace id. */
  traceId?: string;
  /** The editor's span of this keystroke (16 lowercase hex digits): the OpenTelemetry parent of the request span. */
  spanId?: string;
  /** When the keystroke happened, ms since the epoch (the editor's performance.timeOrigin + performance.now()). */
  keystrokeAt?: number;
}

export type Outcome = 'shown' | 'empty' | 'cached' | 'cancelled' | 'superseded' | 'stale' | 'error' | 'disabled' | 'prefetched';

export interface RequestTrace {
  id: number;
  uri: string;
  /** Document version the request was computed for (null for slipstream/complete). */
  version: number | null;
  /**
   * 'prefetch': the server's own work after a shown suggestion (prefetch.ts), not a client's request.
   * 'alternative': a further suggestion for an invoked request (completion.alternatives).
   */
  trigger: 'invoked' | 'automatic' | 'complete' | 'prefetch' | 'alternative';
  /** Start (the request's receipt), ms since the epoch on the trace clock. */
  startedAt: number;
  /** Milliseconds spent in each stage that ran (the sums of the request span's children by name). */
  stages: Partial<Record<Stage, number>>;
  totalMs: number;
  outcome: Outcome;
  promptTokens?: number;
  reusedTokens?: number;
  generatedTokens?: number;
  /**
   * What the caches gave (issue 14): 'typing' (the rest of a suggestion typed through), 'attached'
   * (from a running generation the request waited for), 'prefetched' (a suggestion computed ahead, after
   * the one before it was accepted), 'none' (the engine ran), 'off' (cache.enabled off).
   */
  cacheHit?: 'typing' | 'attached' | 'prefetched' | 'none' | 'off';
  /** Extra-draft tokens offered to the engine (a diverged suggestion's rest) and generated tokens only they proposed. */
  draftTokens?: { offered: number; accepted: number };
  /** Token healing: prompt tokens backed off at the cursor and the bytes the output had to rewrite (absent when none). */
  healed?: { tokens: number; bytes: number };
  error?: string;
  /** The request's span tree (root `request`); absent when slipstream.trace.spans is off. */
  spans?: TraceSpan;
  /** The client's trace fields that passed the checks, and the editor's share: keystroke to receipt. */
  client?: { traceId?: string; spanId?: string; keystrokeAt?: number; editorMs?: number };
  /** The HTTP exchange with a remote serving engine (engine.backend "remote"). */
  remote?: RemoteExchange;
}

/** One request to a remote serving engine, as the trace records it. */
export interface RemoteExchange {
  /** The URL posted to, without credentials or query. */
  endpoint: string;
  api: 'openai' | 'llama-server';
  /** HTTP status of the response; absent when none arrived. */
  status?: number;
  /** From sending the request to the response headers (the server's first byte). */
  ttfbMs?: number;
  /** From sending the request to the first generated token. */
  firstTokenMs?: number;
  /** From the first generated token to the end of the stream (or its abort). */
  streamMs?: number;
  /** Generated tokens received (the server's count when it sends one). */
  tokens: number;
  /** Prompt tokens the server reports it reused from its cache (llama-server cache_n, OpenAI usage cached_tokens). */
  cachedTokens?: number;
  /** How it ended: completed, stopped early or cancelled by us, or failed. */
  ended: 'completed' | 'aborted' | 'failed';
}

/** What `slipstream/status` reports about a remote serving engine. */
export interface RemoteStatus {
  /** The server's base URL, without credentials. */
  url: string;
  api: 'openai' | 'llama-server';
  model: string;
  /** Name of the environment variable the API key is read from, and whether it is set (never the key). */
  apiKeyEnv: string;
  apiKeySet: boolean;
  requests: number;
  failures: number;
  /** Requests answered without contacting the server while it is backed off. */
  skipped: number;
  /** ms until the next attempt while backing off after a failure; 0 when not backing off. */
  retryInMs: number;
  /** The last exchange, however it ended. */
  last: RemoteExchange | null;
}

/** What stays of the accepted text (completion/retention.ts): counts only, never text. */
export interface RetentionStatus {
  /** One per checkpoint after the accept: 30 s, then 5 min. */
  checkpoints: RetentionCheckpoint[];
  /** Accepts (or partial accepts) whose text was not found where the item was inserted within 5 s. */
  untracked: number;
  /** Accepted items found and followed now, not yet past their last checkpoint. */
  tracking: number;
}

export interface RetentionCheckpoint {
  /** Seconds after the item's first accept. */
  afterSeconds: number;
  /** Accepted items counted at this checkpoint (those of documents closed before it count at the close). */
  items: number;
  /** Their accepted characters (UTF-16 code units) found in the document. */
  acceptedChars: number;
  /** Of those, the characters still there at the checkpoint. */
  retainedChars: number;
}

export interface StatusResult {
  version: string;
  engine: {
    state: 'unconfigured' | 'unloaded' | 'loading' | 'ready' | 'error';
    model: {
      dir: string; source: 'default' | 'configured'; architecture: string; vocabSize: number; numLayers: number; hiddenSize: number; fim: boolean;
      /**
       * How the local engine computes it (absent with a remote engine): CPU threads (engine.threads,
       * 0: docs/engine.md "Threads"), the weights as kept ('bf16', 'f32', 'q8_0', 'q4_0') and the
       * matmul kernels this CPU runs ('avx512bf16', 'avx512vnni', 'avx2', 'ref', ...).
       */
      compute?: { threads: number; weights: string; kernelPath: string };
    } | null;
    drafter: { dir: string; source: 'default' | 'configured' } | null;
    /** The backend setting. */
    backend: string;
    /** The backend the loaded model runs on; null until loaded. */
    backendInUse: string | null;
    /** The mode requests run in: 'ar' or 'redrafter'. */
    mode: string;
    /** The engine.mode setting: 'auto', 'ar' or 'redrafter'. */
    modeSetting: string;
    /**
     * Why `mode`, and ReDrafter's tree shape (beams M, beam length L; null with plain decoding); with
     * mode auto and a drafter, the calibration's figures: plain decoding's and each tree shape's
     * (docs/configuration.md).
     */
    modeDecision: {
      reason: string;
      shape: { beams: number; beamLength: number } | null;
      calibration: {
        tokens: number;
        /** The longest calibration prompt's tokens (a built-in file above the cursor and the snippet). */
        promptTokens: number;
        rounds: number;
        arMsPerToken: number;
        shapes: { beams: number; beamLength: number; msPerToken: number; tokensPerStep: number; speedup: number; rounds: number }[];
        ms: number;
        /** When it was measured (ISO 8601). */
        measuredAt: string;
        /** 'measured' at this start, or 'cache': kept from an earlier start on the same files, build, threads and CPU. */
        source: 'measured' | 'cache';
      } | null;
    } | null;
    /**
     * Prompt lookup (engine.promptLookup; docs/configuration.md "Prompt lookup"): draft tokens per
     * round at most; whether it runs and why (not where ReDrafter runs, nor where a forward of its
     * rows was measured to cost more than 1.5 single rows); the generated tokens only its drafts
     * proposed (accepted) since the start. null: the setting 0, engine.mode "ar", a remote engine,
     * no model loaded; absent from servers before it.
     */
    lookup?: { tokens: number; on: boolean; reason: string; accepted: number } | null;
    backends: { name: string; available: boolean; reason?: string }[];
    error: { message: string; code: string } | null;
    sessions: number;
    /** Present when engine.backend is "remote". */
    remote?: RemoteStatus;
    /** Bytes of weights (model + drafter) and of the sessions' K/V; null when the engine does not say. */
    memory: { weightBytes: number; kvBytes: number } | null;
  };
  /** The server process (shared by every connection of a TCP server). */
  process: { rssBytes: number; heapUsedBytes: number; externalBytes: number; uptimeS: number };
  /**
   * Cross-keystroke reuse (issue 14). hits / misses: the suggestion cache's (as `suggestions`).
   * kv: the engine's KV, the sessions' and the shared block pool's together (null when the engine
   * keeps none here: remote); kv.pool: the block pool alone.
   */
  cache: {
    hits: number;
    misses: number;
    enabled: boolean;
    kv: KvFigures | null;
    suggestions: { entries: number; hits: number; misses: number };
    drafts: { offered: number; accepted: number };
    attached: number;
    /** Suggestions computed ahead (cache.prefetch): computed, answered from, abandoned for a request. */
    prefetched: { computed: number; used: number; abandoned: number };
  };
  /**
   * completion.timeBudgetMs: requests answered early (with what their generation had when the
   * budget ended; attached ones included), and of them those whose generation then finished, its
   * whole suggestion cached.
   */
  timeBudget: { answered: number; finished: number };
  latency: { count: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null; lastMs: number | null };
  requests: { total: number; shown: number; empty: number; cached: number; cancelled: number; superseded: number; stale: number; errors: number };
  /** Items shown, accepted (of them alternatives: the items after an invoked request's first) and partly accepted. */
  events: { shown: number; accepted: number; acceptedAlternatives: number; partiallyAccepted: number; retention: RetentionStatus };
  documents: number;
  /** What this connection's open documents count for against its limits (document-limits.ts: 2 bytes per UTF-16 unit of text and URI, 8 per line). */
  documentBytes: number;
  /** This connection's document limits (`serve --max-documents`, `--max-document-mib`). */
  documentLimits: { maxDocuments: number; maxBytes: number };
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
  /**
   * Suggestions wanted, 1..5 (default 1): past the first, sampled alternatives as for an invoked
   * inline completion (alternatives.ts), each distinct; fewer when they repeat.
   */
  alternatives?: number;
  /** The client's trace id and keystroke time (ClientTraceParams); optional. */
  clientTrace?: unknown;
}
export interface CompleteResult {
  /** None, one, or (with `alternatives`) up to that many items; `start`/`end` are UTF-16 offsets in `text` of the range each replaces. */
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
  /** Only traces of this document (its URI; `slipstream:complete` or the given uri for slipstream/complete). */
  uri?: string;
  /** Only traces that started at or after this time, ms since the epoch. */
  since?: number;
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
