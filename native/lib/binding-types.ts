/**
 * The TypeScript mirror of what engine_addon.node exports (and the layout of the one record it
 * returns per generation step). Only binding.ts and the wrapper classes use it; everything else
 * goes through the public API in index.ts. Arguments reach these methods already validated by the
 * wrapper (model.ts, session.ts).
 */

/** One compute backend as the registry reports it. */
export interface BackendReport {
  name: string;
  available: boolean;
  /** Present when available: what the backend runs on. */
  device?: string;
  /** Present when unavailable: "not built", "module failed to load: …", "no device: …", "API version mismatch: …". */
  reason?: string;
}

/** engine_model_info as the addon returns it. */
export interface NativeModelInfo {
  architecture: 'llama' | 'qwen2' | 'mistral';
  /** As in the files. */
  storedDtype: 'f32' | 'bf16' | 'f16';
  /** Weights as kept in memory: 'bf16' for bf16 files, else 'f32'; 'q8_0' / 'q4_0' when quantized (at load or saved). */
  computeDtype: 'f32' | 'bf16' | 'q8_0' | 'q4_0';
  /** The format of a saved quantized folder (`slipstream quantize`), loaded without quantizing; null for any other folder. */
  savedWeights: 'q8_0' | 'q4_0' | null;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  maxPositionEmbeddings: number;
  ropeTheta: number;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  bosTokenId: number | null;
  /** config.json's and generation_config.json's eos_token_id, merged. */
  eosTokenIds: number[];
  weightBytes: number;
  /** CPU threads the model computes with. */
  threads: number;
  /** The matmul path this model's weights run on this CPU: 'avx512bf16' | 'avx512' | 'avx2' | 'ref'; q8_0 / q4_0 weights: 'avx512vnni' | 'avx2' | 'ref'. */
  kernelPath: string;
  /** What the KV cache and the pool's blocks store: 'bf16' for bf16/f16 files, 'f32' for f32 ones (docs/engine.md "K/V dtype"). */
  kvDtype: 'f32' | 'bf16';
  /** KV bytes of one token position: 2 x numLayers x numKvHeads x headDim x (4 or 2). */
  kvBytesPerToken: number;
}

/** A model's shared KV block pool (native/src/core/kv-pool.h): blocks of 16 positions. */
export interface KvPoolFigures {
  /** Resident blocks x blockBytes. */
  bytes: number;
  /** 0 = off. */
  budgetBytes: number;
  blockBytes: number;
  blocks: number;
  /** Blocks held: read in place by a live session, or being copied into one right now. */
  held: number;
  /** Blocks found by prefills. */
  hits: number;
  misses: number;
  inserted: number;
  evictions: number;
  /** Blocks not added: the budget was full of held blocks, or smaller than one block. */
  refused: number;
}

export interface NativeModel {
  info(): NativeModelInfo;
  /** What each token writes (token-bytes.ts), for decoding constraints; throws ENGINE_INVALID_ARGUMENT on a bad table. */
  setTokenBytes(bytes: Uint8Array, offsets: Uint32Array, special: Uint8Array): void;
  /** The shared KV block pool's budget in bytes (engine_model_set_kv_pool; 0 = off). */
  setKvPool(budgetBytes: number): void;
  /** The shared KV block pool's figures (engine_model_get_kv_pool_stats). */
  kvPool(): KvPoolFigures;
  /** engine_model_save_weights: a quantized model's weights as a saved folder's model.safetensors (path.tmp, then renamed). */
  saveWeights(path: string): Promise<void>;
  /** maxContext 0 = the model's max_position_embeddings. */
  createSession(maxContext: number): NativeSession;
  dispose(): void;
}

/** One native session. Async methods reject with an Error carrying `code` (ENGINE_BUSY, ...). */
export interface NativeSession {
  readonly length: number;
  /** Of the committed tokens, the first ones read in place from the model's KV block pool. */
  readonly sharedLength: number;
  readonly maxContext: number;
  tokens(): Int32Array;
  forward(
    tokens: Int32Array,
    positions: Int32Array | null,
    mask: Uint8Array | null,
    outRows: Int32Array | null,
    wantHidden: boolean,
    wantLogits: boolean,
  ): Promise<{ logits?: Float32Array; hidden?: Float32Array }>;
  /**
   * Starts a generation (engine_generation_init): it holds the session until disposed (other calls
   * then throw ENGINE_BUSY). Throws ENGINE_BUSY, ENGINE_INVALID_ARGUMENT synchronously.
   */
  generate(params: NativeGenerateParams): NativeGeneration;
  /** Prompt tokens a generation would keep from the KV cache (engine_session_reusable_prefix). */
  reusablePrefix(prompt: Int32Array): number;
  truncate(length: number): void;
  /** Makes the running call (or the next step of a generation) stop with ENGINE_CANCELLED / done 'cancelled'. */
  abort(): void;
  dispose(): void;
}

/** engine_generation_params as the addon reads them; absent numbers take the engine's defaults. */
export interface NativeGenerateParams {
  prompt: Int32Array;
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stopTokens: Int32Array;
  /** ReDrafter rounds with this drafter; null: plain decoding. */
  drafter: NativeDrafter | null;
  /** 0 = the backend default. */
  beams: number;
  beamLength: number;
  /** Drafts continuing the prompt, concatenated, with their lengths (with a drafter: extra beams; without: drafts rounds). */
  extraTokens: Int32Array | null;
  extraLens: Int32Array | null;
  /** Lookup drafts (engine_generation_params.lookup_*): tokens 0 = off; n-gram lengths and drafts, 0 = the engine's defaults. */
  lookupTokens?: number;
  lookupMinNgram?: number;
  lookupMaxNgram?: number;
  lookupMaxDrafts?: number;
  /** The output's bytes must start with these (null or empty: no constraint). */
  requiredPrefix: Uint8Array | null;
  /** Keep each emitted token's log-probability (engine_generation_params.logprobs): the step records carry them. */
  logprobs: boolean;
  /** Steps the engine may run ahead of step() (0..MAX_RUN_AHEAD in generation-wrap.h; 0: one step per step()). */
  runAhead: number;
  /**
   * Branches of the prompt decoded side by side (engine_generation_params.branches): (B x 4)
   * temperature, topK, topP, seed of each; null: one sequence with the sampling above.
   */
  branches?: Float64Array | null;
}

/** engine_step_stats: one step's figures (session.ts decodes them from the step record). */
export interface NativeStepStats {
  /** 'drafts': a round verifying extra / lookup drafts without a drafter. */
  kind: 'prefill' | 'ar' | 'redrafter' | 'drafts';
  /** prefill: prompt tokens whose KV was kept. */
  reusedTokens: number;
  /** prefill: prompt tokens computed. */
  promptTokens: number;
  /** Tokens the base forward verified (ar: 1; redrafter, drafts: tree nodes). */
  treeSize: number;
  /** redrafter, drafts: drafted tokens accepted (the guaranteed token not counted). */
  accepted: number;
  /** redrafter, drafts: of those, the ones only a caller's extra draft proposed. */
  extraAccepted: number;
  /** redrafter, drafts: of those, the ones only a lookup draft proposed. */
  lookupAccepted: number;
  draftMs: number;
  verifyMs: number;
  acceptMs: number;
  /** The whole step in the engine. */
  stepMs: number;
}

/**
 * What NativeGeneration.step() resolves with (native/addon/generation-wrap.h): a Float64Array of
 * STEP_RECORD_IDS + n + l + b + 2m entries: engine_done (0 running, 1 eos, 2 max_tokens, 3
 * cancelled), the engine_step_stats fields in NativeStepStats order (kind 0 prefill, 1 ar, 2
 * redrafter, 3 drafts), when the engine finished the step (STEP_RECORD_ENDED, on clockMs()'s clock; the
 * steps may run ahead of step()), l (STEP_RECORD_LOGPROBS: n when the generation keeps logprobs,
 * else 0), m (STEP_RECORD_BRANCHES_ENDED: branches that ended at this step, 0 without branches),
 * then the n emitted token ids (a stop token is never among them), then their l log-probabilities,
 * then b (n with branches, else 0) branch indices (the branch of each id), then the m ended
 * branches, then why each ended (1 eos, 2 max_tokens, 3 endBranch).
 */
export type NativeStepRecord = Float64Array;
export const STEP_RECORD_ENDED = 12;
export const STEP_RECORD_LOGPROBS = 13;
export const STEP_RECORD_BRANCHES_ENDED = 14;
export const STEP_RECORD_IDS = 15;

/** engine_generation_stats: the totals over a generation's steps. */
export interface NativeGenerationStats {
  promptTokens: number;
  reusedTokens: number;
  emitted: number;
  forwardPasses: number;
  /** Verification rounds: ReDrafter rounds and drafts rounds. */
  rounds: number;
  treeNodes: number;
  maxTreeNodes: number;
  extraAccepted: number;
  lookupAccepted: number;
  /** [n] = rounds that accepted n drafted tokens, up to the last non-zero entry. */
  acceptedHistogram: number[];
  prefillMs: number;
  decodeMs: number;
  draftMs: number;
  verifyMs: number;
  acceptMs: number;
}

/**
 * One generation on a session (engine_generation). Its steps run on a worker thread, up to
 * params.runAhead of them ahead of step(), so a step asked for is often done already.
 */
export interface NativeGeneration {
  /** The next step's record: the first step prefills, each later one runs one round. One at a time (ENGINE_BUSY). */
  step(): Promise<NativeStepRecord>;
  /** The totals; ENGINE_BUSY while steps still run (read them after the done record). */
  stats(): NativeGenerationStats;
  /** Runs no further step; resolves once none runs (the running one finishes, or ends early if the session's abort flag is set). Later step() calls are refused. */
  stop(): Promise<void>;
  /** Stops the steps and resolves once the session is released (the running step is aborted between layers). */
  dispose(): Promise<void>;
  /** Branches only: branch b takes no further rows from the next step the engine starts (a no-op once freed or ended). */
  endBranch(b: number): void;
}

/** engine_drafter_info as the addon returns it. */
export interface NativeDrafterInfo {
  vocabSize: number;
  hiddenSize: number;
  /** Width of the drafter MLP (E). */
  exitDim: number;
  numDraftLayers: number;
  /** true: recurrent state update; false: running sum of embeddings. */
  rnn: boolean;
  storedDtype: 'f32' | 'bf16' | 'f16';
  weightBytes: number;
}

/** ReDrafter heads loaded against a model. */
export interface NativeDrafter {
  info(): NativeDrafterInfo;
  /** Frees the weights once no ReDrafter step uses them. */
  dispose(): void;
}

export type NativeLogger = (level: 'debug' | 'info' | 'warn' | 'error', line: string) => void;

export interface NativeBinding {
  backends(): BackendReport[];
  loadModel(dir: string, threads: number, backend: string, abortFlag: Int32Array, weights: string, kv: string): Promise<NativeModel>;
  /** Loads a drafter folder and checks it against the model (rejects with ENGINE_BAD_MODEL, ...). */
  loadDrafter(dir: string, model: NativeModel): Promise<NativeDrafter>;
  /** The backend defaults for beam width and beam length (the length counts the guaranteed token). */
  redrafterDefaults(model: NativeModel): { beams: number; beamLength: number };
  /**
   * Greedy plain decoding with the drafter's context vector per emitted token
   * (engine_session_generate_hidden); a stop token is emitted and ends the run. Rejects ENGINE_BUSY
   * while the session is held.
   */
  generateHidden(
    session: NativeSession,
    prompt: Int32Array,
    maxTokens: number,
    stopTokens: Int32Array,
  ): Promise<{ tokens: Int32Array; hidden: Float32Array }>;
  /** DRAM read bandwidth in GB/s (synchronous; a benchmark helper). */
  readBandwidth(bytes: number, threads: number, repeats: number): number;
  /** Now on the steady clock of a step record's end (ms; monotonic, its zero arbitrary). */
  clockMs(): number;
  setLogger(fn: NativeLogger | null): void;
  setLogLevel(level: 'debug' | 'info' | 'warn' | 'error'): void;
}
