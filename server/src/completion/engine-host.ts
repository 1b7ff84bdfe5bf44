/**
 * The engine host interface: what the completion pipeline needs from an engine, a lazily loaded
 * model with its tokenizer and per-document generation that streams token ids and honours an
 * AbortSignal, with the types it shares with its callers. Interface and types only:
 * native-engine-host.ts implements it over native/lib, remote/remote-engine-host.ts over a serving
 * engine's HTTP API, switching-engine-host.ts picks one by engine.backend; tests use a fake (named
 * as such).
 */
import type { Settings } from '../config.js';
import type { ModelSource } from './default-model.js';
import type { ModeDecision } from './mode-calibration.js';
import type { KvFigures, RemoteExchange, RemoteStatus } from '../protocol.js';

export type { KvFigures, KvPoolSummary } from '../protocol.js';
import type { EngineSpans } from '../trace/engine-steps.js';
import type { TokenBytes } from '../../../native/lib/token-bytes.js';

/** The tokenizer surface the prompt builder uses (native/lib/tokenizer.ts implements it). */
export interface TokenizerLike {
  encode(text: string, opts?: { addSpecialTokens?: boolean; literalSpecials?: boolean }): Int32Array;
  decode(ids: ArrayLike<number>, opts?: { skipSpecialTokens?: boolean }): string;
  tokenId(token: string): number | undefined;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: number[];
  /** Fill-in-the-middle order the model was trained in (tokenizer_config.json `fim_order`). */
  readonly fimOrder?: 'psm' | 'spm';
}

export interface LoadedModel {
  dir: string;
  tokenizer: TokenizerLike;
  /** Positions a session holds: prompt + generated tokens must fit. */
  maxContext: number;
  architecture: string;
  vocabSize: number;
  numLayers: number;
  hiddenSize: number;
  /** How a local engine computes it (absent for a remote one): threads, weights as kept, the matmul kernels. */
  compute?: { threads: number; weights: string; kernelPath: string };
  /**
   * What each token writes, present only when the host honours GenerateRequest.requiredPrefix
   * (the native engine; a remote serving engine cannot constrain decoding, so it gets no token healing).
   */
  tokenBytes?: TokenBytes;
}

export interface GenerateRequest {
  /** One engine session per key (a document); its resident prefix is reused across requests. */
  key: string;
  prompt: Int32Array;
  maxTokens: number;
  stopTokens: number[];
  temperature: number;
  /** The sampler's seed (temperature > 0): the same seed, prompt and settings give the same tokens. Absent: the engine's default. */
  seed?: number;
  /**
   * Plain decoding whatever the engine's mode (native engine; others ignore it): a sample that
   * must be the same for a seed on every start and machine, which ReDrafter's exact but
   * differently drawn sampling is not (the alternatives of an invoked request).
   */
  plainDecoding?: boolean;
  signal: AbortSignal;
  /**
   * Candidate continuations of the prompt (token ids), verified by the engine as extra beams in
   * its first decoding round (ReDrafter only; others ignore them): the cache's re-aligned drafts.
   */
  extraDrafts?: Int32Array[];
  /**
   * Called once when a generation that used extraDrafts ends (however it ends): the draft tokens
   * offered and the generated tokens only they proposed.
   */
  onDrafts?: (offered: number, accepted: number) => void;
  /** false: start cold, dropping the session's resident KV first (cache.enabled off). Default true. */
  reuse?: boolean;
  /** Bound of all sessions' KV bytes (cache.kvBudgetMB); hosts that keep no KV ignore it. */
  kvBudgetBytes?: number;
  /** The output must start with this text (token healing: token-healing.ts); needs LoadedModel.tokenBytes. */
  requiredPrefix?: string;
  /**
   * End the generation before the first token the model gives less than this probability
   * (confidence.ts; the summary's stoppedBy is then 'unsure'). A remote host asks its server for
   * them and is not cut where the server reports none.
   */
  minTokenProbability?: number;
  /** Called once before the prefill with how many prompt tokens the session already holds (KV reused). */
  onReuse?: (reusedTokens: number) => void;
  /** Called once when a remote host's HTTP exchange ends (completed, stopped early, cancelled or failed). */
  onRemote?: (exchange: RemoteExchange) => void;
  /** Present when the request is traced: the host reports its queue wait and each engine step (trace/engine-steps.ts). */
  spans?: EngineSpans;
  /**
   * Background work (a prefetch: prefetch.ts). A host that runs it ends it the moment any other
   * request arrives, and refuses to start it (aborted) when one is running or waiting.
   */
  background?: boolean;
  /**
   * When this signal fires, the generation becomes background work from then on (its request was
   * answered early and it runs on for the cache: time-budget.ts): a host that runs background
   * work ends it the moment any other request arrives. Hosts without background work ignore it.
   */
  becomesBackground?: AbortSignal;
}

/**
 * Generated text a host received already decoded, from a server whose API returns text and no
 * token ids (OpenAI-compatible completions); `tokens` is how many tokens it stands for.
 */
export interface GeneratedText {
  text: string;
  tokens: number;
}

/** What generate yields: accepted token ids, or text where the engine gives no ids. */
export type GeneratedChunk = Int32Array | GeneratedText;

/**
 * One branch of a generation decoded together with others (EngineHost.generateTogether): a sample
 * of the same prompt with its own sampler settings.
 */
export interface BranchRequest {
  temperature: number;
  seed: number;
  /** Ends this branch from the engine's next step on (the others go on). */
  signal: AbortSignal;
}

/** One engine step of a generation decoded together: the tokens it emitted and the branches it ended. */
export interface BranchChunk {
  /** Tokens emitted by the step (at most one per branch). */
  ids: Int32Array;
  /** (ids.length) the branch (index into the branches asked for) of each token. */
  branches: Int32Array;
  /** The branches that ended at this step, each with its summary; every branch ends once. */
  ended: { branch: number; summary: GenerateSummary }[];
}

export interface GenerateSummary {
  /** 'unsure': ended before a token below GenerateRequest.minTokenProbability. */
  stoppedBy: 'eos' | 'max_tokens' | 'aborted' | 'unsure';
  promptTokens: number;
  reusedTokens: number;
  prefillMs: number;
  decodeMs: number;
}


export interface EngineHostStatus {
  state: 'unconfigured' | 'unloaded' | 'loading' | 'ready' | 'error';
  model: LoadedModel | null;
  /** Whether the model is the shipped default (no model configured) or a configured one. */
  modelSource?: ModelSource | null;
  drafterDir: string | null;
  drafterSource?: ModelSource | 'none' | null;
  /** The backend setting. */
  backend: string;
  /** The backend the loaded model runs on (null until loaded). */
  backendInUse?: string | null;
  /** The mode requests run in ('ar' | 'redrafter'). */
  mode: string;
  /** The engine.mode setting ('auto' | 'ar' | 'redrafter'). */
  modeSetting?: string;
  /** Why `mode`, with the calibration figures of mode auto. */
  modeDecision?: ModeDecision | null;
  /**
   * Prompt lookup (engine.promptLookup): draft tokens per round at most, whether it runs and why,
   * and the tokens only its drafts proposed that were accepted since the start; null when the
   * setting is 0 or engine.mode "ar" (absent: a host without it).
   */
  lookup?: { tokens: number; on: boolean; reason: string; accepted: number } | null;
  backends: { name: string; available: boolean; reason?: string }[];
  error: { message: string; code: string } | null;
  sessions: number;
  remote?: RemoteStatus;
  /**
   * What the engine holds in memory: weights (model + drafter, as loaded) and the K/V of the
   * tokens the sessions hold; absent when the host does not know (a remote engine).
   */
  memory?: { weightBytes: number; kvBytes: number };
  /** KV pool figures; absent when the host keeps no KV (a remote engine, a fake). */
  kv?: KvFigures;
}

export interface EngineHost {
  /** New engine settings; a changed model, drafter or backend unloads the current model. */
  configure(engine: Settings['engine']): void;
  /** The loaded model, loading it on first use. Rejects with an EngineError-like {code}. */
  ready(signal?: AbortSignal): Promise<LoadedModel>;
  /**
   * Streams accepted token ids (or text, see GeneratedText) for one request. Stopping the
   * iteration early (break) ends the generation. Returns a summary when it ran to its end.
   */
  generate(req: GenerateRequest): AsyncGenerator<GeneratedChunk, GenerateSummary | undefined, void>;
  /**
   * Whether generateTogether may be called now (the native engine decodes branches side by side:
   * one forward per step for all of them). Absent or false: callers generate one after another.
   */
  decodesTogether?(): boolean;
  /**
   * Several samples of one prompt decoded together, as branches of one generation (the
   * alternatives of an invoked request: alternatives.ts, branch-batch.ts): req's prompt, maxTokens,
   * stopTokens, requiredPrefix and session key are every branch's, its temperature and seed are
   * ignored, its signal ends them all. Each branch's tokens are exactly those of a generation of
   * its own with its temperature and seed, plain decoding. Only when decodesTogether() is true.
   */
  generateTogether?(req: GenerateRequest, branches: BranchRequest[]): AsyncGenerator<BranchChunk, void, void>;
  /**
   * Whether background work (GenerateRequest.background) may start now: a loaded local engine with
   * nothing running or waiting. Absent or false: never (a remote engine's time is its server's).
   */
  canPrefetch?(): boolean;
  /**
   * Whether a generation now would use GenerateRequest.extraDrafts (ReDrafter decoding on a local
   * engine), so a caller can skip making them. Absent: it may.
   */
  takesExtraDrafts?(): boolean;
  /** Drops the session of a key (document closed). */
  closeSession(key: string): void;
  status(): EngineHostStatus;
  dispose(): Promise<void>;
}
