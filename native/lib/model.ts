/**
 * Model: a loaded Hugging Face model folder (llama, qwen2, mistral). Loading runs off the event
 * loop; a bad folder rejects with EngineError (ENGINE_BAD_MODEL / ENGINE_IO_ERROR) naming the file
 * and tensor. Sessions created from a model keep it alive until they are disposed.
 */
import { join, resolve } from 'node:path';
import { loadBinding } from './binding.js';
import type { KvPoolFigures, NativeModel, NativeModelInfo } from './binding-types.js';
import { EngineError, native, toEngineError } from './errors.js';
import { readModelJson } from './model-files.js';
import { Session } from './session.js';
import type { TokenBytes } from './token-bytes.js';
import { checkInt, checkKeys, checkObject, checkSignal } from './validate.js';

export type Dtype = 'f32' | 'bf16' | 'f16';

/** What a loaded model is (fields documented on NativeModelInfo), plus the folder it came from. */
export interface ModelInfo extends NativeModelInfo {
  dir: string;
}

/** How the matrices are kept in memory: 'bf16' as stored, or quantized at load (docs/engine.md, "Quantized weights"). */
export type WeightFormat = 'bf16' | 'q8_0' | 'q4_0';
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['bf16', 'q8_0', 'q4_0'];

export interface LoadOptions {
  threads?: number;
  backend?: 'auto' | 'cpu' | 'cuda';
  weights?: WeightFormat;
  /** The K/V dtype: 'auto' (default: bf16 for bf16/f16 files, f32 for f32 ones), or 'f32' / 'bf16' to force one (docs/engine.md "K/V dtype"). */
  kv?: 'auto' | 'f32' | 'bf16';
  signal?: AbortSignal;
}

export interface SessionOptions {
  /** Most tokens the session's KV cache holds; default the model's maxPositionEmbeddings. */
  maxContext?: number;
}

/** generation_config.json's eos_token_id (a number or a list), when the file is there. */
async function generationEos(dir: string): Promise<number[]> {
  const g = await readModelJson(join(dir, 'generation_config.json'), 'generation_config.json', false);
  const e = g?.eos_token_id;
  if (Number.isInteger(e)) return [e as number];
  if (Array.isArray(e)) return e.filter((x): x is number => Number.isInteger(x));
  return [];
}

export class Model {
  readonly info: ModelInfo;
  /** @internal */
  readonly native: NativeModel;
  #disposed = false;
  #hasTokenBytes = false;

  private constructor(nativeModel: NativeModel, dir: string, generationEosIds: number[]) {
    this.native = nativeModel;
    const ni = nativeModel.info();
    const eos = [...new Set([...ni.eosTokenIds, ...generationEosIds])];
    this.info = Object.freeze({
      ...ni,
      dir,
      ropeTheta: Number(ni.ropeTheta.toPrecision(7)),
      rmsNormEps: Number(ni.rmsNormEps.toPrecision(7)),
      eosTokenIds: eos,
    });
  }

  /** Loads a model folder (config.json, model.safetensors or shards, tokenizer.json optional). */
  static async load(dir: string, opts?: LoadOptions): Promise<Model> {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('dir must be a non-empty string');
    const o = checkObject('options', opts);
    checkKeys('options', o, ['threads', 'backend', 'weights', 'kv', 'signal']);
    const threads = o.threads === undefined ? 0 : checkInt('threads', o.threads, 1, 256);
    const backend = o.backend ?? 'auto';
    if (backend !== 'auto' && backend !== 'cpu' && backend !== 'cuda') throw new TypeError("backend must be 'auto', 'cpu' or 'cuda'");
    const weights: unknown = o.weights ?? 'bf16';
    if (typeof weights !== 'string' || !(WEIGHT_FORMATS as readonly string[]).includes(weights)) throw new TypeError("weights must be 'bf16', 'q8_0' or 'q4_0'");
    const kv: unknown = o.kv ?? 'auto';
    if (kv !== 'auto' && kv !== 'f32' && kv !== 'bf16') throw new TypeError("kv must be 'auto', 'f32' or 'bf16'");
    const signal = checkSignal('signal', o.signal);
    signal?.throwIfAborted();
    const abs = resolve(dir);
    const flag = new Int32Array(1);
    const onAbort = (): void => {
      flag[0] = 1;
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // a FIFO, an oversized file or broken JSON in generation_config.json is an error, before the weights load
      const eos = await generationEos(abs);
      const nm = await native(loadBinding().loadModel(abs, threads, backend, flag, weights, kv));
      return new Model(nm, abs, eos);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Gives the engine what each token writes (tokenizer.tokenBytes(model.info.vocabSize)), which
   * generate({ requiredPrefix }) needs: the native core deals in ids only.
   */
  setTokenBytes(table: TokenBytes): void {
    if (this.#disposed) throw new EngineError('model is disposed', 'ENGINE_INVALID_ARGUMENT');
    const v = this.info.vocabSize;
    if (!table || !(table.bytes instanceof Uint8Array) || !(table.offsets instanceof Uint32Array) || !(table.special instanceof Uint8Array))
      throw new TypeError('setTokenBytes needs { bytes: Uint8Array, offsets: Uint32Array, special: Uint8Array } (tokenizer.tokenBytes())');
    if (table.offsets.length !== v + 1 || table.special.length !== v)
      throw new RangeError(`token bytes must cover the model's ${v} tokens (offsets ${v + 1}, special ${v}); use tokenizer.tokenBytes(model.info.vocabSize)`);
    for (let i = 0; i < v; i++)
      if (table.offsets[i + 1]! < table.offsets[i]!) throw new RangeError(`token bytes: offsets decrease at token ${i}`);
    if (table.offsets[0] !== 0 || table.offsets[v]! > table.bytes.length) throw new RangeError('token bytes: offsets must start at 0 and stay within bytes');
    try {
      this.native.setTokenBytes(table.bytes, table.offsets, table.special);
    } catch (err) {
      throw toEngineError(err);
    }
    this.#hasTokenBytes = true;
  }

  /** Whether setTokenBytes was called (generate({ requiredPrefix }) needs it). */
  get hasTokenBytes(): boolean {
    return this.#hasTokenBytes;
  }

  /**
   * Sets the byte budget of the KV block pool this model's sessions share (docs/engine.md, "The KV
   * block pool"): a generation's prefill copies the longest resident prefix of its prompt from the
   * pool and computes only the rest. 0 (the default) turns it off. Outputs are the same either way.
   */
  setKvPool(budgetBytes: number): void {
    if (this.#disposed) throw new EngineError('model is disposed', 'ENGINE_INVALID_ARGUMENT');
    if (typeof budgetBytes !== 'number' || !Number.isSafeInteger(budgetBytes) || budgetBytes < 0)
      throw new RangeError(`setKvPool: budgetBytes must be a whole number >= 0 (got ${String(budgetBytes)})`);
    try {
      this.native.setKvPool(budgetBytes);
    } catch (err) {
      throw toEngineError(err);
    }
  }

  /** The shared KV block pool's figures (bytes, budget, blocks, hits, evictions, ...). */
  kvPool(): KvPoolFigures {
    if (this.#disposed) throw new EngineError('model is disposed', 'ENGINE_INVALID_ARGUMENT');
    return this.native.kvPool();
  }

  /**
   * Writes this model's weights to `path` as the model.safetensors of a saved quantized folder
   * (docs/engine.md, "Saved quantized folders"): the model must have been loaded with weights
   * 'q8_0' or 'q4_0' (else ENGINE_INVALID_ARGUMENT). The rest of the folder (config.json with
   * slipstream_weights, the tokenizer files) is the caller's: see `slipstream quantize`.
   */
  async saveWeights(path: string): Promise<void> {
    if (this.#disposed) throw new EngineError('model is disposed', 'ENGINE_INVALID_ARGUMENT');
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
    await native(this.native.saveWeights(resolve(path)));
  }

  /** A new sequence with its own KV cache. */
  createSession(opts?: SessionOptions): Session {
    if (this.#disposed) throw new EngineError('model is disposed', 'ENGINE_INVALID_ARGUMENT');
    const o = checkObject('options', opts);
    checkKeys('options', o, ['maxContext']);
    const max = this.info.maxPositionEmbeddings;
    const maxContext = o.maxContext === undefined ? max : checkInt('maxContext', o.maxContext, 1, max);
    return new Session(this, this.native.createSession(maxContext));
  }

  /** Frees the weights once every session of this model is disposed. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.native.dispose();
  }
}
