/**
 * The engine host interface: what the completion pipeline needs from an engine, a lazily loaded
 * model with its tokenizer and per-document generation that streams token ids and honours an
 * AbortSignal, with the types it shares with its callers. Interface and types only:
 * native-engine-host.ts implements it over native/lib; tests use a fake (named as such).
 */
import type { Settings } from '../config.js';

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
}

export interface GenerateRequest {
  /** One engine session per key (a document); its resident prefix is reused across requests. */
  key: string;
  prompt: Int32Array;
  maxTokens: number;
  stopTokens: number[];
  temperature: number;
  signal: AbortSignal;
  /** Called once before the prefill with how many prompt tokens the session already holds (KV reused). */
  onReuse?: (reusedTokens: number) => void;
}

export interface GenerateSummary {
  stoppedBy: 'eos' | 'max_tokens' | 'aborted';
  promptTokens: number;
  reusedTokens: number;
  prefillMs: number;
  decodeMs: number;
}

export interface EngineHostStatus {
  state: 'unconfigured' | 'unloaded' | 'loading' | 'ready' | 'error';
  model: LoadedModel | null;
  drafterDir: string | null;
  backend: string;
  mode: string;
  backends: { name: string; available: boolean; reason?: string }[];
  error: { message: string; code: string } | null;
  sessions: number;
  /**
   * What the engine holds in memory: weights (model + drafter, as loaded) and the K/V of the
   * tokens the sessions hold; absent when the host does not know (a remote engine).
   */
  memory?: { weightBytes: number; kvBytes: number };
}

export interface EngineHost {
  /** New engine settings; a changed model, drafter or backend unloads the current model. */
  configure(engine: Settings['engine']): void;
  /** The loaded model, loading it on first use. Rejects with an EngineError-like {code}. */
  ready(signal?: AbortSignal): Promise<LoadedModel>;
  /**
   * Streams accepted token ids for one request; engine calls are serialized. Stopping the
   * iteration early (break) ends the generation. Returns a summary when it ran to its end.
   */
  generate(req: GenerateRequest): AsyncGenerator<Int32Array, GenerateSummary | undefined, void>;
  /** Drops the session of a key (document closed). */
  closeSession(key: string): void;
  status(): EngineHostStatus;
  dispose(): Promise<void>;
}
