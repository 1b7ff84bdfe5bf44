/**
 * The TypeScript mirror of what engine_addon.node exports. Only binding.ts and the wrapper classes
 * use it; everything else goes through the public API in index.ts. Arguments reach these methods
 * already validated by the wrapper (model.ts, session.ts).
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
  /** Weights as kept in memory: 'bf16' for bf16 files, else 'f32'. */
  computeDtype: 'f32' | 'bf16';
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
  /** The matmul path chosen for this CPU: 'avx512bf16' | 'avx512' | 'avx2' | 'ref'. */
  kernelPath: string;
}

export interface NativeModel {
  info(): NativeModelInfo;
  /** maxContext 0 = the model's max_position_embeddings. */
  createSession(maxContext: number): NativeSession;
  dispose(): void;
}

/** One native session. Async methods reject with an Error carrying `code` (ENGINE_BUSY, ...). */
export interface NativeSession {
  readonly length: number;
  readonly maxContext: number;
  readonly busy: boolean;
  tokens(): Int32Array;
  forward(
    tokens: Int32Array,
    positions: Int32Array | null,
    mask: Uint8Array | null,
    outRows: Int32Array | null,
    wantHidden: boolean,
    wantLogits: boolean,
  ): Promise<{ logits?: Float32Array; hidden?: Float32Array }>;
  /** Commits the tokens, reseeds the sampler, returns the next token g0 (emitted, not committed). */
  prefill(tokens: Int32Array, temperature: number, topK: number, topP: number, seed: number): Promise<number>;
  /** One autoregressive step: commits g0, returns the emitted token(s). */
  step(): Promise<Int32Array>;
  truncate(length: number): void;
  /** Makes the running call reject with ENGINE_CANCELLED (checked between layers). */
  abort(): void;
  dispose(): void;
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

/** What one ReDrafter round emitted and how it went. */
export interface NativeRedrafterStep {
  ids: Int32Array;
  /** Drafted tokens accepted this round. */
  accepted: number;
  /** Nodes of the packed draft tree verified. */
  treeSize: number;
  /** Accepted drafted tokens that only caller-supplied drafts proposed. */
  extraAccepted: number;
  draftMs: number;
  verifyMs: number;
}

export type NativeLogger = (level: 'debug' | 'info' | 'warn' | 'error', line: string) => void;

export interface NativeBinding {
  backends(): BackendReport[];
  loadModel(dir: string, threads: number, backend: string, abortFlag: Int32Array): Promise<NativeModel>;
  /** Loads a drafter folder and checks it against the model (rejects with ENGINE_BAD_MODEL, ...). */
  loadDrafter(dir: string, model: NativeModel): Promise<NativeDrafter>;
  /** One ReDrafter round on a session with a prefill (rejects with ENGINE_BUSY while another call runs). */
  redrafterStep(
    session: NativeSession,
    drafter: NativeDrafter,
    beams: number,
    beamLength: number,
    extraTokens: Int32Array | null,
    extraLens: Int32Array | null,
    maxOut: number,
  ): Promise<NativeRedrafterStep>;
  /** The backend defaults for beam width and beam length (the length counts the guaranteed token). */
  redrafterDefaults(model: NativeModel): { beams: number; beamLength: number };
  /** DRAM read bandwidth in GB/s (synchronous; a benchmark helper). */
  readBandwidth(bytes: number, threads: number, repeats: number): number;
  setLogger(fn: NativeLogger | null): void;
  setLogLevel(level: 'debug' | 'info' | 'warn' | 'error'): void;
}
