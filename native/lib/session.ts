/**
 * Session: one sequence with its KV cache. forward() runs a batch (optionally with positions and
 * an attention mask, for draft trees); generate() streams tokens, reusing the longest common prefix
 * of the prompt with what the session already holds. One native AsyncWorker per step; the abort
 * signal is checked between steps and, through the native abort flag, between layers of a prefill.
 * A call while another runs on the same session throws EngineError ENGINE_BUSY.
 */
import type { NativeSession } from './binding-types.js';
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

/** Per-round statistics a speculative stepper may report (ReDrafter). */
export interface SpeculativeStepStats {
  /** Drafted tokens accepted this round (the guaranteed token not counted). */
  accepted: number;
  treeSize: number;
  draftMs: number;
  verifyMs: number;
}

/**
 * The hook through which mode 'redrafter' runs: a drafter (native/lib/drafter.ts) implements it.
 * stepNative runs one speculative round on the native session (which must have a pending token,
 * i.e. after prefill) and resolves with the emitted ids (at most maxEmit). `generated` holds the
 * tokens emitted since the prompt, the pending one last (to align extraDrafts to the round).
 */
export interface DraftStepper {
  stepNative(
    session: NativeSession,
    opts: { beams?: number; beamLength?: number; extraDrafts?: Int32Array[]; maxEmit: number; generated?: ArrayLike<number> },
  ): Promise<{ ids: Int32Array; stats?: SpeculativeStepStats }>;
}

export interface GenerateOptions {
  maxTokens: number;
  /** 0 = greedy (default). */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** Default: the model's eosTokenIds. The stop token itself is not emitted. */
  stopTokens?: number[];
  mode?: 'ar' | 'redrafter';
  drafter?: DraftStepper;
  beams?: number;
  beamLength?: number;
  extraDrafts?: Int32Array[];
  signal?: AbortSignal;
}

export interface GenerateChunk {
  /** Tokens accepted in one step. */
  ids: Int32Array;
}

export interface GenerateStats {
  forward_passes: number;
  tokens_per_step: number;
  prefill_ms: number;
  decode_ms: number;
  prompt_tokens: number;
  reused_tokens: number;
  accepted_histogram?: number[];
  mean_tree_size?: number;
  draft_ms?: number;
  verify_ms?: number;
}

export interface GenerateResult {
  ids: Int32Array;
  stats: GenerateStats;
  stoppedBy: 'eos' | 'max_tokens' | 'aborted';
}

const GENERATE_KEYS = [
  'maxTokens', 'temperature', 'topK', 'topP', 'seed', 'stopTokens', 'mode', 'drafter', 'beams', 'beamLength',
  'extraDrafts', 'signal',
] as const;

interface CheckedGenerate {
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stop: Set<number>;
  mode: 'ar' | 'redrafter';
  drafter?: DraftStepper;
  beams?: number;
  beamLength?: number;
  extraDrafts?: Int32Array[];
  signal?: AbortSignal;
}

/**
 * How many prompt tokens a session keeps from its KV cache when it generates: the longest common
 * prefix with the committed tokens, less one when the whole prompt matches (the prefill must
 * compute the last prompt position to get its logits).
 */
export function reusablePrefixLength(committed: ArrayLike<number>, prompt: ArrayLike<number>): number {
  let n = 0;
  while (n < committed.length && n < prompt.length && committed[n] === prompt[n]) n++;
  return Math.max(0, Math.min(n, prompt.length - 1));
}

export class Session {
  readonly model: Model;
  /** @internal */
  readonly native: NativeSession;
  #busy = false;
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

  #enter(): void {
    this.#alive();
    if (this.#busy) throw new EngineError('session is busy: another call on it is still running', 'ENGINE_BUSY');
    this.#busy = true;
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
    this.#enter();
    const onAbort = (): void => this.native.abort();
    try {
      if (signal?.aborted) throw new EngineError('cancelled', 'ENGINE_CANCELLED');
      signal?.addEventListener('abort', onAbort, { once: true });
      const r = await native(this.native.forward(tokens, positions, mask, rows, hidden, true));
      return hidden ? { logits: r.logits!, hidden: r.hidden! } : { logits: r.logits! };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#busy = false;
    }
  }

  /** Drops committed KV past `length`. */
  truncate(length: number): void {
    this.#alive();
    checkInt('length', length, 0, this.length);
    if (this.#busy) throw new EngineError('session is busy: another call on it is still running', 'ENGINE_BUSY');
    try {
      this.native.truncate(length);
    } catch (err) {
      throw toEngineError(err);
    }
  }

  #checkGenerate(prompt: unknown, opts: unknown): CheckedGenerate {
    this.#alive();
    const info = this.model.info;
    checkTokens('prompt', prompt, info.vocabSize);
    if (opts === undefined) throw new TypeError('options are required (at least maxTokens)');
    const o = checkObject('options', opts);
    checkKeys('options', o, GENERATE_KEYS);
    if (o.maxTokens === undefined) throw new TypeError('maxTokens is required');
    const maxTokens = checkInt('maxTokens', o.maxTokens, 1, info.maxPositionEmbeddings);
    const temperature = o.temperature === undefined ? 0 : checkNumber('temperature', o.temperature, 0, 1e6);
    const topK = o.topK === undefined ? 0 : checkInt('topK', o.topK, 0, info.vocabSize);
    const topP = o.topP === undefined ? 1 : checkNumber('topP', o.topP, 0, 1, true);
    const seed = o.seed === undefined ? 0 : checkInt('seed', o.seed, 0, Number.MAX_SAFE_INTEGER);
    let stop: number[] = info.eosTokenIds;
    if (o.stopTokens !== undefined) {
      if (!Array.isArray(o.stopTokens)) throw new TypeError('stopTokens must be an array of token ids');
      o.stopTokens.forEach((t, i) => checkInt(`stopTokens[${i}]`, t, 0, info.vocabSize - 1));
      stop = o.stopTokens as number[];
    }
    const mode = o.mode ?? 'ar';
    if (mode !== 'ar' && mode !== 'redrafter') throw new TypeError("mode must be 'ar' or 'redrafter'");
    const r: CheckedGenerate = { maxTokens, temperature, topK, topP, seed, stop: new Set(stop), mode };
    if (o.drafter !== undefined) {
      const d = o.drafter as Partial<DraftStepper> | null;
      if (d === null || typeof d !== 'object' || typeof d.stepNative !== 'function')
        throw new TypeError('drafter must be a Drafter (from Drafter.load)');
      r.drafter = d as DraftStepper;
    }
    if (mode === 'redrafter' && !r.drafter) throw new TypeError("drafter is required when mode is 'redrafter'");
    if (o.beams !== undefined) r.beams = checkInt('beams', o.beams, 1, 64);
    if (o.beamLength !== undefined) r.beamLength = checkInt('beamLength', o.beamLength, 2, 16);
    if (o.extraDrafts !== undefined) {
      if (!Array.isArray(o.extraDrafts)) throw new TypeError('extraDrafts must be an array of Int32Array');
      o.extraDrafts.forEach((d, i) => checkTokens(`extraDrafts[${i}]`, d, info.vocabSize, true));
      r.extraDrafts = o.extraDrafts as Int32Array[];
    }
    r.signal = checkSignal('signal', o.signal);
    if ((prompt as Int32Array).length + maxTokens > this.maxContext)
      throw new RangeError(`prompt (${(prompt as Int32Array).length} tokens) + maxTokens (${maxTokens}) exceed maxContext ${this.maxContext}`);
    return r;
  }

  /**
   * Streams generated tokens: one chunk per engine step; the return value holds all ids, stats and
   * why it stopped. Abort through opts.signal ends it with stoppedBy 'aborted' (no throw).
   * Options are validated when called; the session is claimed at the first next().
   */
  generate(prompt: Int32Array, opts: GenerateOptions): AsyncGenerator<GenerateChunk, GenerateResult> {
    const o = this.#checkGenerate(prompt, opts);
    return this.#generate(prompt, o);
  }

  async *#generate(prompt: Int32Array, o: CheckedGenerate): AsyncGenerator<GenerateChunk, GenerateResult> {
    this.#enter();
    const stats: GenerateStats = {
      forward_passes: 0, tokens_per_step: 0, prefill_ms: 0, decode_ms: 0, prompt_tokens: prompt.length, reused_tokens: 0,
    };
    const out: number[] = [];
    let stoppedBy: GenerateResult['stoppedBy'] = 'max_tokens';
    const signal = o.signal;
    const onAbort = (): void => this.native.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const histogram: number[] = [];
    let treeNodes = 0;
    let rounds = 0;
    try {
      // longest common prefix with the committed tokens; at least one prompt token is recomputed
      // so the prefill yields the logits of the last prompt position
      const have = this.native.tokens();
      const lcp = reusablePrefixLength(have, prompt);
      if (lcp < have.length) this.native.truncate(lcp);
      stats.reused_tokens = lcp;
      if (signal?.aborted) return { ids: new Int32Array(0), stats, stoppedBy: 'aborted' };

      let t0 = performance.now();
      let ids: Int32Array;
      try {
        const g0 = await native(this.native.prefill(prompt.subarray(lcp), o.temperature, o.topK, o.topP, o.seed));
        ids = Int32Array.of(g0);
      } catch (err) {
        if (err instanceof EngineError && err.code === 'ENGINE_CANCELLED') return { ids: new Int32Array(0), stats, stoppedBy: 'aborted' };
        throw err;
      }
      stats.prefill_ms = performance.now() - t0;
      stats.forward_passes = 1;
      while (true) {
        // emit up to the first stop token (not included) and within maxTokens
        const emit: number[] = [];
        for (const t of ids) {
          if (o.stop.has(t)) {
            stoppedBy = 'eos';
            break;
          }
          if (out.length + emit.length >= o.maxTokens) break;
          emit.push(t);
        }
        out.push(...emit);
        if (emit.length > 0) yield { ids: Int32Array.from(emit) };
        if (stoppedBy === 'eos') break;
        if (out.length >= o.maxTokens) {
          stoppedBy = 'max_tokens';
          break;
        }
        if (signal?.aborted) {
          stoppedBy = 'aborted';
          break;
        }
        t0 = performance.now();
        try {
          if (o.mode === 'redrafter') {
            const r = await native(
              o.drafter!.stepNative(this.native, {
                beams: o.beams, beamLength: o.beamLength, extraDrafts: o.extraDrafts, maxEmit: o.maxTokens - out.length, generated: out,
              }),
            );
            ids = r.ids;
            if (r.stats) {
              histogram[r.stats.accepted] = (histogram[r.stats.accepted] ?? 0) + 1;
              treeNodes += r.stats.treeSize;
              rounds++;
              stats.draft_ms = (stats.draft_ms ?? 0) + r.stats.draftMs;
              stats.verify_ms = (stats.verify_ms ?? 0) + r.stats.verifyMs;
            }
          } else {
            ids = await native(this.native.step());
          }
        } catch (err) {
          if (err instanceof EngineError && err.code === 'ENGINE_CANCELLED') {
            stoppedBy = 'aborted';
            break;
          }
          throw err;
        }
        stats.decode_ms += performance.now() - t0;
        stats.forward_passes++;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.#busy = false;
    }
    stats.tokens_per_step = stats.forward_passes > 0 ? out.length / stats.forward_passes : 0;
    if (rounds > 0) {
      stats.accepted_histogram = Array.from(histogram, (v) => v ?? 0);
      stats.mean_tree_size = treeNodes / rounds;
    }
    return { ids: Int32Array.from(out), stats, stoppedBy };
  }

  /** Frees the KV cache (after the running call, if any, settles). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.native.dispose();
  }
}
