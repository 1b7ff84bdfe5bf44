/**
 * Session: one sequence with its KV cache. forward() runs a batch (optionally with positions and
 * an attention mask, for draft trees); generate() is a thin loop over the engine's generation (the
 * one decode loop, native/src/decode/), and generateBranches() the same loop over B samples of one
 * prompt decoded side by side (one forward per step for all of them): each validates, takes its steps (the addon runs them on a
 * worker thread, ahead of the consumer when a CPU is free: runAhead), checks the abort signal
 * between steps (and hands it to the native abort flag, polled between layers), and streams each
 * step's tokens. The busy guard is the engine's: a call while another runs on the same session,
 * or while a generation holds it, throws EngineError ENGINE_BUSY.
 */
import { availableParallelism } from 'node:os';
import {
  STEP_RECORD_BRANCHES_ENDED, STEP_RECORD_ENDED, STEP_RECORD_IDS, STEP_RECORD_LOGPROBS,
  type NativeGenerateParams, type NativeGeneration, type NativeSession, type NativeStepStats,
} from './binding-types.js';
import type { Drafter } from './drafter.js';
import { loadBinding } from './binding.js';
import { EngineError, native, toEngineError } from './errors.js';
import type { Model } from './model.js';
import { checkBoolean, checkInt, checkKeys, checkNumber, checkObject, checkSignal, checkTokens } from './validate.js';

export interface ForwardOptions {
  /** (n) RoPE positions; default length .. length + n - 1. */
  positions?: Int32Array;
  /** (n, length + n) row-major, 1 = may attend; default causal. */
  mask?: Uint8Array;
  /** Which of the n rows to return; default [n - 1]. */
  outputRows?: Int32Array;
  /** Also return the post-final-norm hidden states of outputRows. */
  hidden?: boolean;
  signal?: AbortSignal;
}

export interface ForwardResult {
  /** (rows, vocab) row-major. */
  logits: Float32Array;
  /** (rows, hidden) row-major, when asked for. */
  hidden?: Float32Array;
}

/** One step's figures (engine_step_stats; docs/redrafter.md §4). */
export type StepStats = NativeStepStats;

export interface LookupOptions {
  /** Draft tokens at most per round (1..63; 4 to 8 measured best: docs/performance.md, "Lookup drafts"). */
  tokens: number;
  /** N-gram lengths looked up, longest first (defaults: LOOKUP_DEFAULTS, minNgram 2, maxNgram 4). */
  minNgram?: number;
  maxNgram?: number;
  /** Distinct drafts per round at most (default: LOOKUP_DEFAULTS.maxDrafts, 1). */
  maxDrafts?: number;
}

/**
 * Lookup drafts' defaults (docs/performance.md, "Lookup drafts (2026-12-07)"): the n-gram lengths
 * looked up and the drafts per round when LookupOptions leaves them out; the engine's own.
 */
export const LOOKUP_DEFAULTS = { minNgram: 2, maxNgram: 4, maxDrafts: 1 } as const;

export interface GenerateOptions {
  maxTokens: number;
  /** 0 = greedy (default). */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** Default: the model's eosTokenIds. A decided stop token ends the generation and is not emitted. */
  stopTokens?: number[];
  mode?: 'ar' | 'redrafter';
  drafter?: Drafter;
  beams?: number;
  beamLength?: number;
  /**
   * Candidate continuations of the prompt, verified exactly while the output follows them: with
   * 'redrafter' as extra beams of its tree (docs/redrafter.md §3); with 'ar' (no drafter) in a
   * round verifying g0 plus the drafts in one forward (StepStats.kind 'drafts').
   */
  extraDrafts?: Int32Array[];
  /** Drafts looked up in the prompt and the output so far, verified exactly (no drafter needed; with one they join its tree). */
  lookup?: LookupOptions;
  /**
   * The output must start with these bytes (a string is taken as UTF-8): token healing's
   * constraint (docs/engine.md, "The required prefix"). Needs model.setTokenBytes() first.
   */
  requiredPrefix?: string | Uint8Array;
  /**
   * Also return each emitted token's log-probability (GenerateChunk.logprobs): the natural log of
   * its probability under the model's distribution at temperature 1 (after the required prefix's
   * mask), whatever the sampling options: the model's confidence in it. Costs one pass over the
   * vocabulary per token; greedy or sampled, plain or ReDrafter, the same figures for the same tokens.
   */
  logprobs?: boolean;
  /**
   * How many steps the engine may run ahead of the consumer (0..16): while the consumer handles
   * one step's tokens the engine runs the next. Default: DEFAULT_RUN_AHEAD when the model's
   * threads leave a CPU free for the consumer (defaultRunAhead()), else 0 (one step per next()).
   */
  runAhead?: number;
  signal?: AbortSignal;
}

export interface GenerateChunk {
  /** Tokens emitted by one step. */
  ids: Int32Array;
  /** With options.logprobs: (ids.length) each token's log-probability (GenerateOptions.logprobs). */
  logprobs?: Float32Array;
  /** That step's figures. */
  step: StepStats;
  /**
   * When the engine finished the step, on performance.now()'s clock: the steps run ahead of the
   * consumer, so this can be earlier than the chunk's arrival (it ran from endedAt - step.stepMs).
   */
  endedAt: number;
}

export interface GenerateStats {
  forward_passes: number;
  tokens_per_step: number;
  /** Wall time of the first step (prefix reuse + prefill), as the caller sees it. */
  prefill_ms: number;
  /**
   * Wall time from the first step's arrival to the last step's, as the caller sees it: the engine
   * runs the steps ahead while the caller handles chunks, so a caller slower than the engine adds
   * its own time here.
   */
  decode_ms: number;
  prompt_tokens: number;
  reused_tokens: number;
  accepted_histogram?: number[];
  mean_tree_size?: number;
  extra_accepted?: number;
  /** Accepted tokens only a lookup draft proposed (0 without lookup). */
  lookup_accepted: number;
  draft_ms?: number;
  verify_ms?: number;
  accept_ms?: number;
}

export interface GenerateResult {
  ids: Int32Array;
  stats: GenerateStats;
  stoppedBy: 'eos' | 'max_tokens' | 'aborted';
}

/** One branch's sampling (generateBranches): temperature 0 = greedy. */
export interface BranchSampling {
  temperature: number;
  seed: number;
  topK?: number;
  topP?: number;
}

export interface GenerateBranchesOptions {
  /** 1..MAX_BRANCHES: branch b emits exactly what generate() with its sampling would. */
  branches: BranchSampling[];
  /** Per branch. */
  maxTokens: number;
  /** Default: the model's eosTokenIds. A decided stop token ends its branch and is not emitted. */
  stopTokens?: number[];
  /** Every branch's output starts with it (token healing; GenerateOptions.requiredPrefix). */
  requiredPrefix?: string | Uint8Array;
  /** As GenerateOptions.runAhead. */
  runAhead?: number;
  signal?: AbortSignal;
}

export interface BranchesChunk {
  /** Tokens this step emitted (at most one per branch). */
  ids: Int32Array;
  /** (ids.length) the branch of each. */
  branches: Int32Array;
  /** Branches that ended at this step (any reason). */
  ended: Int32Array;
  /** (ended.length) why each ended: a stop token, max_tokens, or endBranch ('ended'). */
  endedBy: BranchEnd[];
  /** That step's figures (a prefill step, then plain steps: treeSize = the branches it forwarded). */
  step: StepStats;
  /** As GenerateChunk.endedAt. */
  endedAt: number;
}

/** Why a branch ended at a step (the engine's engine_branch_end). */
export type BranchEnd = 'eos' | 'max_tokens' | 'ended';

export interface BranchesResult {
  /** (B) each branch's tokens. */
  ids: Int32Array[];
  /** (B) why each ended ('ended': endBranch). */
  stoppedBy: ('eos' | 'max_tokens' | 'ended' | 'aborted')[];
  stats: GenerateStats;
}

export interface BranchedGeneration extends AsyncGenerator<BranchesChunk, BranchesResult> {
  /** Ends branch b from the next engine step on (its tokens so far stay in the result). No-op when it already ended. */
  endBranch(b: number): void;
}

/** The most branches generateBranches() decodes side by side (ENGINE_MAX_BRANCHES). */
export const MAX_BRANCHES = 16;

/** Steps the engine runs ahead of the consumer by default, when a CPU is free for it (defaultRunAhead). */
export const DEFAULT_RUN_AHEAD = 4;
const MAX_RUN_AHEAD = 16;

/** The CPUs the process may use, asked once (a system call; generate() asks per generation). */
let cpus: number | undefined;

/**
 * The default runAhead for a model computing with `threads` threads: DEFAULT_RUN_AHEAD when the
 * process may use more CPUs than that, else 0. Running ahead overlaps the engine with the
 * consumer's JS, which needs a CPU of its own: with every CPU computing it was slower (on 2 vCPUs,
 * 2 threads: docs/performance.md, "Steps run ahead").
 */
export function defaultRunAhead(threads: number): number {
  cpus ??= availableParallelism();
  return threads < cpus ? DEFAULT_RUN_AHEAD : 0;
}

/** A required prefix is at most this many bytes (token healing backs off a few tokens). */
export const MAX_REQUIRED_PREFIX_BYTES = 256;

const GENERATE_KEYS = [
  'maxTokens', 'temperature', 'topK', 'topP', 'seed', 'stopTokens', 'mode', 'drafter', 'beams', 'beamLength',
  'extraDrafts', 'lookup', 'requiredPrefix', 'logprobs', 'runAhead', 'signal',
] as const;
const LOOKUP_KEYS = ['tokens', 'minNgram', 'maxNgram', 'maxDrafts'] as const;
const BRANCHES_KEYS = ['branches', 'maxTokens', 'stopTokens', 'requiredPrefix', 'runAhead', 'signal'] as const;
const SAMPLING_KEYS = ['temperature', 'seed', 'topK', 'topP'] as const;

interface CheckedGenerate {
  params: NativeGenerateParams;
  signal?: AbortSignal;
}

interface Sampling {
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

/** Sampling options (names prefixed for messages: '' or 'branches[i].'); absent ones take generate()'s defaults. */
function checkSampling(o: Record<string, unknown>, vocabSize: number, prefix: string): Sampling {
  return {
    temperature: o.temperature === undefined ? 0 : checkNumber(`${prefix}temperature`, o.temperature, 0, 1e6),
    topK: o.topK === undefined ? 0 : checkInt(`${prefix}topK`, o.topK, 0, vocabSize),
    topP: o.topP === undefined ? 1 : checkNumber(`${prefix}topP`, o.topP, 0, 1, true),
    seed: o.seed === undefined ? 0 : checkInt(`${prefix}seed`, o.seed, 0, Number.MAX_SAFE_INTEGER),
  };
}

function concatIds(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const DONE = [null, 'eos', 'max_tokens', 'cancelled'] as const;
const STEP_KIND = ['prefill', 'ar', 'redrafter', 'drafts'] as const;
const BRANCH_END = [null, 'eos', 'max_tokens', 'ended'] as const;

interface DecodedStep {
  ids: Int32Array;
  logprobs?: Float32Array;
  /** With branches: (ids) the branch of each; the branches that ended and why (BRANCH_END). */
  branches?: Int32Array;
  ended?: Int32Array;
  endedWhy?: Float64Array;
  done: (typeof DONE)[number];
  stats: StepStats;
  endedAt: number;
}

/**
 * A step record (binding-types.ts NativeStepRecord) as the emitted ids, the done reason, the step's
 * figures and its end on performance.now()'s clock (`clockOffset`: performance.now() less clockMs());
 * `branched`: the record carries the branch of each id.
 */
function decodeStep(r: Float64Array, clockOffset: number, branched: boolean): DecodedStep {
  const l = r[STEP_RECORD_LOGPROBS]!;
  const m = r[STEP_RECORD_BRANCHES_ENDED]!;
  const rest = r.length - STEP_RECORD_IDS - l - 2 * m;
  const n = branched ? rest / 2 : rest;
  const at = (off: number, len: number): Float64Array => r.subarray(STEP_RECORD_IDS + off, STEP_RECORD_IDS + off + len);
  return {
    ids: Int32Array.from(at(0, n)),
    ...(l > 0 ? { logprobs: Float32Array.from(at(n, l)) } : {}),
    ...(branched ? { branches: Int32Array.from(at(n + l, n)), ended: Int32Array.from(at(2 * n + l, m)), endedWhy: at(2 * n + l + m, m) } : {}),
    done: DONE[r[0]!] ?? null,
    endedAt: r[STEP_RECORD_ENDED]! + clockOffset,
    stats: {
      kind: STEP_KIND[r[1]!]!, reusedTokens: r[2]!, promptTokens: r[3]!, treeSize: r[4]!, accepted: r[5]!, extraAccepted: r[6]!,
      lookupAccepted: r[7]!, draftMs: r[8]!, verifyMs: r[9]!, acceptMs: r[10]!, stepMs: r[11]!,
    },
  };
}

/** How the shared step loop (Session.#steps) ended. */
interface StepsEnd {
  stats: GenerateStats;
  stoppedBy: 'eos' | 'max_tokens' | 'aborted';
}

/**
 * GenerateOptions.lookup checked, the absent fields resolved: a default n-gram bound follows an
 * explicit other one (minNgram 4 alone: maxNgram 4), as the engine does.
 */
function checkLookup(v: unknown): Required<LookupOptions> {
  const o = checkObject('lookup', v ?? null);
  checkKeys('lookup', o, LOOKUP_KEYS);
  if (o.tokens === undefined) throw new TypeError('lookup.tokens is required (1..63 draft tokens per round)');
  const tokens = checkInt('lookup.tokens', o.tokens, 1, 63);
  const minSet = o.minNgram === undefined ? undefined : checkInt('lookup.minNgram', o.minNgram, 1, 16);
  const maxSet = o.maxNgram === undefined ? undefined : checkInt('lookup.maxNgram', o.maxNgram, 1, 16);
  const minNgram = minSet ?? Math.min(LOOKUP_DEFAULTS.minNgram, maxSet ?? LOOKUP_DEFAULTS.minNgram);
  const maxNgram = maxSet ?? Math.max(LOOKUP_DEFAULTS.maxNgram, minNgram);
  if (minNgram > maxNgram) throw new RangeError(`lookup.minNgram (${minNgram}) must not exceed lookup.maxNgram (${maxNgram})`);
  const maxDrafts = o.maxDrafts === undefined ? LOOKUP_DEFAULTS.maxDrafts : checkInt('lookup.maxDrafts', o.maxDrafts, 1, 16);
  return { tokens, minNgram, maxNgram, maxDrafts };
}

/** Extra drafts as the engine takes them: concatenated, with their lengths. */
function concatDrafts(drafts: Int32Array[]): { tokens: Int32Array; lens: Int32Array } {
  return { tokens: concatIds(drafts), lens: Int32Array.from(drafts, (d) => d.length) };
}

export class Session {
  readonly model: Model;
  /** @internal */
  readonly native: NativeSession;
  #disposed = false;

  /** @internal use model.createSession() */
  constructor(model: Model, nativeSession: NativeSession) {
    this.model = model;
    this.native = nativeSession;
  }

  /** Tokens whose KV is committed. */
  get length(): number {
    return this.native.length;
  }

  /**
   * Of those, the first ones whose KV the session reads in place from the model's shared KV block
   * pool (held blocks: their bytes are counted in model.kvPool().bytes, not the session's). A multiple of 16.
   */
  get sharedLength(): number {
    return this.native.sharedLength;
  }

  /** The committed tokens (a copy). */
  get tokens(): Int32Array {
    return this.native.tokens();
  }

  get maxContext(): number {
    return this.native.maxContext;
  }

  #alive(): void {
    if (this.#disposed) throw new EngineError('session is disposed', 'ENGINE_INVALID_ARGUMENT');
  }

  #checkRoom(n: number): void {
    if (this.length + n > this.maxContext)
      throw new RangeError(`${this.length} committed + ${n} new tokens exceed maxContext ${this.maxContext}`);
  }

  /** Appends the n tokens' KV after `length`, commits them, and returns logits (and hidden states) of outputRows. */
  async forward(tokens: Int32Array, opts?: ForwardOptions): Promise<ForwardResult> {
    this.#alive();
    const vocab = this.model.info.vocabSize;
    checkTokens('tokens', tokens, vocab);
    const o = checkObject('options', opts);
    checkKeys('options', o, ['positions', 'mask', 'outputRows', 'hidden', 'signal']);
    const n = tokens.length;
    let positions: Int32Array | null = null;
    if (o.positions !== undefined) {
      if (!(o.positions instanceof Int32Array)) throw new TypeError('positions must be an Int32Array');
      if (o.positions.length !== n) throw new RangeError(`positions must have ${n} entries (one per token)`);
      for (let i = 0; i < n; i++)
        if (o.positions[i]! < 0) throw new RangeError(`positions[${i}] = ${o.positions[i]} must be >= 0`);
      positions = o.positions;
    }
    let mask: Uint8Array | null = null;
    if (o.mask !== undefined) {
      if (!(o.mask instanceof Uint8Array)) throw new TypeError('mask must be a Uint8Array');
      const cols = this.length + n;
      if (o.mask.length !== n * cols) throw new RangeError(`mask must have ${n} x ${cols} = ${n * cols} entries (tokens x (length + tokens))`);
      mask = o.mask;
    }
    let rows: Int32Array | null = null;
    if (o.outputRows !== undefined) {
      if (!(o.outputRows instanceof Int32Array)) throw new TypeError('outputRows must be an Int32Array');
      if (o.outputRows.length === 0) throw new RangeError('outputRows must not be empty');
      for (let i = 0; i < o.outputRows.length; i++)
        if (o.outputRows[i]! < 0 || o.outputRows[i]! >= n) throw new RangeError(`outputRows[${i}] = ${o.outputRows[i]} is outside 0..${n - 1}`);
      rows = o.outputRows;
    }
    const hidden = o.hidden === undefined ? false : checkBoolean('hidden', o.hidden);
    const signal = checkSignal('signal', o.signal);
    this.#checkRoom(n);
    if (signal?.aborted) throw new EngineError('cancelled', 'ENGINE_CANCELLED');
    const running = native(this.native.forward(tokens, positions, mask, rows, hidden, true));  // rejects ENGINE_BUSY
    const onAbort = (): void => this.native.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const r = await running;
      return hidden ? { logits: r.logits!, hidden: r.hidden! } : { logits: r.logits! };
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Drops committed KV past `length`. Throws ENGINE_BUSY while a call or a generation holds the session. */
  truncate(length: number): void {
    this.#alive();
    checkInt('length', length, 0, this.length);
    try {
      this.native.truncate(length);
    } catch (err) {
      throw toEngineError(err);
    }
  }

  /**
   * How many of the prompt's tokens generate() would keep from the KV cache: the longest common
   * prefix with the committed tokens, less one when it covers the whole prompt (the engine's rule).
   */
  reusablePrefixLength(prompt: Int32Array): number {
    this.#alive();
    checkTokens('prompt', prompt, this.model.info.vocabSize);
    return this.native.reusablePrefix(prompt);
  }

  /** The options generate() and generateBranches() share: stop tokens, required prefix, runAhead, signal. */
  #checkShared(o: Record<string, unknown>): Pick<NativeGenerateParams, 'stopTokens' | 'requiredPrefix' | 'runAhead'> & { signal?: AbortSignal } {
    const info = this.model.info;
    let stop: number[] = info.eosTokenIds;
    if (o.stopTokens !== undefined) {
      if (!Array.isArray(o.stopTokens)) throw new TypeError('stopTokens must be an array of token ids');
      o.stopTokens.forEach((t, i) => checkInt(`stopTokens[${i}]`, t, 0, info.vocabSize - 1));
      stop = o.stopTokens as number[];
    }
    let requiredPrefix: Uint8Array | null = null;
    if (o.requiredPrefix !== undefined) {
      const r = o.requiredPrefix;
      if (typeof r === 'string') requiredPrefix = new TextEncoder().encode(r);
      else if (r instanceof Uint8Array) requiredPrefix = r;
      else throw new TypeError('requiredPrefix must be a string or a Uint8Array');
      if (requiredPrefix.length > MAX_REQUIRED_PREFIX_BYTES)
        throw new RangeError(`requiredPrefix must be at most ${MAX_REQUIRED_PREFIX_BYTES} bytes (got ${requiredPrefix.length})`);
      if (requiredPrefix.length > 0 && !this.model.hasTokenBytes)
        throw new EngineError(
          'requiredPrefix needs the token bytes: call model.setTokenBytes(tokenizer.tokenBytes(model.info.vocabSize)) first',
          'ENGINE_INVALID_ARGUMENT',
        );
    }
    const runAhead = o.runAhead === undefined ? defaultRunAhead(info.threads) : checkInt('runAhead', o.runAhead, 0, MAX_RUN_AHEAD);
    const signal = checkSignal('signal', o.signal);
    return { stopTokens: Int32Array.from(stop), requiredPrefix, runAhead, ...(signal ? { signal } : {}) };
  }

  /** The options object with its known keys and maxTokens (required), for a prompt of these tokens. */
  #checkOptions(prompt: unknown, opts: unknown, keys: readonly string[]): { o: Record<string, unknown>; maxTokens: number } {
    this.#alive();
    const info = this.model.info;
    checkTokens('prompt', prompt, info.vocabSize);
    if (opts === undefined) throw new TypeError('options are required (at least maxTokens)');
    const o = checkObject('options', opts);
    checkKeys('options', o, keys);
    if (o.maxTokens === undefined) throw new TypeError('maxTokens is required');
    return { o, maxTokens: checkInt('maxTokens', o.maxTokens, 1, info.maxPositionEmbeddings) };
  }

  #checkGenerate(prompt: unknown, opts: unknown): CheckedGenerate {
    const { o, maxTokens } = this.#checkOptions(prompt, opts, GENERATE_KEYS);
    const info = this.model.info;
    const sampling = checkSampling(o, info.vocabSize, '');
    const mode = o.mode ?? 'ar';
    if (mode !== 'ar' && mode !== 'redrafter') throw new TypeError("mode must be 'ar' or 'redrafter'");
    let drafter: Drafter | undefined;
    if (o.drafter !== undefined) {
      const d = o.drafter as { native?: unknown } | null;
      if (d === null || typeof d !== 'object' || !('native' in d)) throw new TypeError('drafter must be a Drafter (from Drafter.load)');
      drafter = d as Drafter;
    }
    if (mode === 'redrafter' && !drafter) throw new TypeError("drafter is required when mode is 'redrafter'");
    const beams = o.beams === undefined ? 0 : checkInt('beams', o.beams, 1, 64);
    const beamLength = o.beamLength === undefined ? 0 : checkInt('beamLength', o.beamLength, 2, 16);
    let extraTokens: Int32Array | null = null;
    let extraLens: Int32Array | null = null;
    if (o.extraDrafts !== undefined) {
      if (!Array.isArray(o.extraDrafts)) throw new TypeError('extraDrafts must be an array of Int32Array');
      const drafts = o.extraDrafts as unknown[];
      drafts.forEach((d, i) => checkTokens(`extraDrafts[${i}]`, d, info.vocabSize, true));
      ({ tokens: extraTokens, lens: extraLens } = concatDrafts(drafts as Int32Array[]));
    }
    const lookup = o.lookup === undefined ? undefined : checkLookup(o.lookup);
    const { signal, ...shared } = this.#checkShared(o);
    if (o.logprobs !== undefined && typeof o.logprobs !== 'boolean') throw new TypeError('logprobs must be a boolean');
    const logprobs = o.logprobs === true;
    if ((prompt as Int32Array).length + maxTokens > this.maxContext)
      throw new RangeError(`prompt (${(prompt as Int32Array).length} tokens) + maxTokens (${maxTokens}) exceed maxContext ${this.maxContext}`);
    const params: NativeGenerateParams = {
      prompt: prompt as Int32Array, maxTokens, ...sampling, ...shared,
      drafter: mode === 'redrafter' ? drafter!.native : null, beams, beamLength, extraTokens, extraLens, logprobs,
      ...(lookup
        ? { lookupTokens: lookup.tokens, lookupMinNgram: lookup.minNgram, lookupMaxNgram: lookup.maxNgram, lookupMaxDrafts: lookup.maxDrafts }
        : {}),
    };
    return { params, ...(signal ? { signal } : {}) };
  }

  #checkBranches(prompt: unknown, opts: unknown): CheckedGenerate & { count: number } {
    const { o, maxTokens } = this.#checkOptions(prompt, opts, BRANCHES_KEYS);
    const info = this.model.info;
    if (!Array.isArray(o.branches)) throw new TypeError('branches must be an array of { temperature, seed, topK?, topP? }');
    const list = o.branches as unknown[];
    if (list.length < 1 || list.length > MAX_BRANCHES)
      throw new RangeError(`branches must have 1 to ${MAX_BRANCHES} entries (got ${list.length})`);
    const flat = new Float64Array(list.length * 4);  // (B x 4) temperature, topK, topP, seed
    list.forEach((b, i) => {
      const bo = checkObject(`branches[${i}]`, b ?? null);
      checkKeys(`branches[${i}]`, bo, SAMPLING_KEYS);
      if (bo.temperature === undefined || bo.seed === undefined) throw new TypeError(`branches[${i}] needs temperature and seed`);
      const sp = checkSampling(bo, info.vocabSize, `branches[${i}].`);
      flat.set([sp.temperature, sp.topK, sp.topP, sp.seed], i * 4);
    });
    const { signal, ...shared } = this.#checkShared(o);
    const P = (prompt as Int32Array).length;
    if (P + list.length * maxTokens > this.maxContext)
      throw new RangeError(`prompt (${P} tokens) + ${list.length} branches x maxTokens (${maxTokens}) exceed maxContext ${this.maxContext}`);
    const params: NativeGenerateParams = {
      prompt: prompt as Int32Array, maxTokens, temperature: 0, topK: 0, topP: 1, seed: 0, ...shared,
      drafter: null, beams: 0, beamLength: 0, extraTokens: null, extraLens: null, logprobs: false, branches: flat,
    };
    return { params, count: list.length, ...(signal ? { signal } : {}) };
  }

  /**
   * Streams generated tokens: one chunk per engine step (the engine's decode loop); the return
   * value holds all ids, stats and why it stopped. The engine may run up to opts.runAhead steps
   * ahead of the consumer, so a consumer that stops early (return()) may leave those steps' tokens
   * committed in the session (reusablePrefixLength() sees them; the next generate() keeps what
   * matches), and its return() waits for the running step to end (aborted between layers).
   * Abort through opts.signal ends it with stoppedBy 'aborted' (no throw). Options are validated
   * when called; the session is claimed at the first next() (ENGINE_BUSY if a call or another
   * generation holds it) and held until the generator finishes or its return() settles.
   */
  generate(prompt: Int32Array, opts: GenerateOptions): AsyncGenerator<GenerateChunk, GenerateResult> {
    const o = this.#checkGenerate(prompt, opts);
    return this.#generate(o);
  }

  async *#generate(o: CheckedGenerate): AsyncGenerator<GenerateChunk, GenerateResult> {
    const chunks: Int32Array[] = [];
    const end = yield* this.#chunks(o, (r): GenerateChunk | null => {
      if (r.ids.length === 0) return null;
      chunks.push(r.ids);
      return { ids: r.ids, ...(r.logprobs ? { logprobs: r.logprobs } : {}), step: r.stats, endedAt: r.endedAt };
    });
    const ids = concatIds(chunks);
    end.stats.tokens_per_step = end.stats.forward_passes > 0 ? ids.length / end.stats.forward_passes : 0;
    return { ids, stats: end.stats, stoppedBy: end.stoppedBy };
  }

  /**
   * B samples of one prompt decoded side by side: the prompt's prefill once, then ONE engine
   * forward per step for every live branch (docs/engine.md, "Branches"). Branch b's tokens are
   * exactly those generate() gives with its sampling (temperature, seed, topK, topP) and the same
   * maxTokens, stopTokens and requiredPrefix. One chunk per step that emitted or ended something;
   * endBranch(b) ends a branch early (from the next step the engine starts: with runAhead, steps
   * already run keep their tokens). Afterwards the session holds exactly the prompt (the next
   * generate() reuses it). Busy guard, abort (stoppedBy 'aborted' for the branches still running),
   * return() and validation as generate().
   */
  generateBranches(prompt: Int32Array, opts: GenerateBranchesOptions): BranchedGeneration {
    const o = this.#checkBranches(prompt, opts);
    let gen: NativeGeneration | undefined;
    const asked: number[] = [];  // endBranch calls before the generation started
    const it = this.#branches(o, (g) => {
      gen = g;
      for (const b of asked) g.endBranch(b);
    });
    return Object.assign(it, {
      endBranch(b: number): void {
        checkInt('branch', b, 0, o.count - 1);
        if (gen) gen.endBranch(b);
        else asked.push(b);
      },
    });
  }

  async *#branches(o: CheckedGenerate & { count: number }, started: (gen: NativeGeneration) => void): AsyncGenerator<BranchesChunk, BranchesResult> {
    const ids: number[][] = Array.from({ length: o.count }, () => []);
    const stoppedBy: (BranchesResult['stoppedBy'][number] | null)[] = new Array<null>(o.count).fill(null);
    const end = yield* this.#chunks(
      o,
      (r): BranchesChunk | null => {
        const branches = r.branches!, ended = r.ended!;
        r.ids.forEach((t, i) => ids[branches[i]!]!.push(t));
        const endedBy = Array.from(r.endedWhy!, (w): BranchEnd => BRANCH_END[w] ?? 'ended');
        ended.forEach((b, i) => (stoppedBy[b] = endedBy[i]!));
        return r.ids.length > 0 || ended.length > 0 ? { ids: r.ids, branches, ended, endedBy, step: r.stats, endedAt: r.endedAt } : null;
      },
      started,
    );
    const emitted = ids.reduce((n, b) => n + b.length, 0);
    end.stats.tokens_per_step = end.stats.forward_passes > 0 ? emitted / end.stats.forward_passes : 0;
    // a branch with no reason was still running: the generation was aborted
    return { ids: ids.map((b) => Int32Array.from(b)), stoppedBy: stoppedBy.map((w) => w ?? 'aborted'), stats: end.stats };
  }

  /** #steps' decoded steps, each made a chunk by `chunk` (null: not yielded); returns how the loop ended. */
  async *#chunks<C>(o: CheckedGenerate, chunk: (r: DecodedStep) => C | null, started?: (gen: NativeGeneration) => void): AsyncGenerator<C, StepsEnd> {
    const loop = this.#steps(o, started);
    try {
      for (;;) {
        const it = await loop.next();
        if (it.done) return it.value;
        const c = chunk(it.value);
        if (c !== null) yield c;
      }
    } finally {
      await loop.return(undefined as never); // the consumer's return(): the loop's own finally disposes the generation
    }
  }

  /**
   * The step loop generate() and generateBranches() share: claims the session (the native
   * generation; `started` sees it), takes each step (checking the signal between steps and handing
   * it to the native abort flag), yields every decoded step, and once done reads the totals and
   * frees the generation (also when the consumer returns early: the finally).
   */
  async *#steps({ params, signal }: CheckedGenerate, started?: (gen: NativeGeneration) => void): AsyncGenerator<DecodedStep, StepsEnd> {
    this.#alive();
    const stats: GenerateStats = {
      forward_passes: 0, tokens_per_step: 0, prefill_ms: 0, decode_ms: 0, prompt_tokens: params.prompt.length, reused_tokens: 0, lookup_accepted: 0,
    };
    if (signal?.aborted) return { stats, stoppedBy: 'aborted' };
    let gen: NativeGeneration;
    try {
      gen = this.native.generate(params);
    } catch (err) {
      throw toEngineError(err);
    }
    started?.(gen);
    const branched = params.branches != null;
    let stoppedBy: StepsEnd['stoppedBy'] = 'max_tokens';
    const onAbort = (): void => this.native.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const t0 = performance.now();
      const clockOffset = t0 - loadBinding().clockMs();  // both monotonic: one offset maps every step's end
      let prefilledAt = 0;
      for (let first = true; ; first = false) {
        if (signal?.aborted) {
          stoppedBy = 'aborted';
          break;
        }
        const r = decodeStep(await native(gen.step()), clockOffset, branched);
        const at = performance.now();
        if (first) {
          stats.prefill_ms = at - t0;
          prefilledAt = at;
        } else stats.decode_ms = at - prefilledAt;
        yield r;
        if (r.done !== null) {
          stoppedBy = r.done === 'cancelled' ? 'aborted' : r.done;
          break;
        }
      }
      await gen.stop();  // after an abort the loop may still run a step: the totals are read once it ended
      const t = gen.stats();
      stats.forward_passes = t.forwardPasses;
      stats.reused_tokens = t.reusedTokens;
      if (t.rounds > 0) {
        stats.accepted_histogram = t.acceptedHistogram;
        stats.mean_tree_size = t.treeNodes / t.rounds;
        stats.extra_accepted = t.extraAccepted;
        stats.lookup_accepted = t.lookupAccepted;
        stats.draft_ms = t.draftMs;
        stats.verify_ms = t.verifyMs;
        stats.accept_ms = t.acceptMs;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await gen.dispose();
    }
    return { stats, stoppedBy };
  }

  /** Frees the KV cache (after the running call, if any, settles). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.native.dispose();
  }
}
