/**
 * generateWithHidden(): the engine entry point that records ReDrafter training data
 * (native/include/engine-distill.h). Plain greedy decoding of a prompt on a session that returns
 * every emitted token with the base model's post-final-norm hidden state c at the position whose
 * argmax decided it: exactly the context vector a ReDrafter round gives the drafter. Used by
 * `slipstream train-drafter` (server/src/cli/train-drafter/).
 */
import { loadBinding } from './binding.js';
import { EngineError, native } from './errors.js';
import type { Session } from './session.js';
import { checkInt, checkKeys, checkObject, checkSignal, checkTokens } from './validate.js';

export interface GenerateHiddenOptions {
  /** The most tokens to emit (>= 1). */
  maxTokens: number;
  /** Default: the model's eosTokenIds. A decided stop token IS emitted (the drafter learns it) and ends the run. */
  stopTokens?: number[];
  signal?: AbortSignal;
}

export interface GenerateHiddenResult {
  /** (n) the greedy tokens. */
  tokens: Int32Array;
  /** (n, hiddenSize) row-major: row j is c at position prompt.length - 1 + j, whose argmax is tokens[j]. */
  hidden: Float32Array;
}

/**
 * Greedy plain decoding of prompt on session with the hidden state of every decision. The session
 * keeps its longest common prefix with the prompt and afterwards holds prompt + tokens[0..n-1).
 */
export async function generateWithHidden(session: Session, prompt: Int32Array, opts: GenerateHiddenOptions): Promise<GenerateHiddenResult> {
  const info = session.model.info;
  checkTokens('prompt', prompt, info.vocabSize);
  const o = checkObject('options', opts);
  checkKeys('options', o, ['maxTokens', 'stopTokens', 'signal']);
  const maxTokens = checkInt('maxTokens', o.maxTokens, 1, session.maxContext);
  if (prompt.length + maxTokens - 1 > session.maxContext)
    throw new RangeError(`prompt (${prompt.length}) + ${maxTokens} tokens exceed maxContext ${session.maxContext}`);
  const stop = o.stopTokens === undefined ? info.eosTokenIds : (o.stopTokens as unknown);
  if (!Array.isArray(stop)) throw new TypeError('stopTokens must be an array of token ids');
  const stopTokens = checkTokens('stopTokens', Int32Array.from(stop as number[]), info.vocabSize, true);
  const signal = checkSignal('signal', o.signal);
  if (signal?.aborted) throw new EngineError('cancelled', 'ENGINE_CANCELLED');
  const running = native(loadBinding().generateHidden(session.native, prompt, maxTokens, stopTokens));  // rejects ENGINE_BUSY
  const onAbort = (): void => session.native.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await running;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
