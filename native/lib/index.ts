/**
 * Public API of the Slipstream engine for TypeScript. The server and the CLI import only this
 * module; it validates arguments and owns the API, the addon stays mechanical.
 */
import { loadBinding } from './binding.js';
import type { BackendReport, NativeLogger } from './binding-types.js';

export type { BackendReport, KvPoolFigures } from './binding-types.js';
export { addonPath } from './binding.js';
export { EngineError, isAbortError } from './errors.js';
export { Tokenizer } from './tokenizer.js';
export { Model, WEIGHT_FORMATS, type Dtype, type LoadOptions, type ModelInfo, type SessionOptions, type WeightFormat } from './model.js';
export { Drafter, type DrafterInfo } from './drafter.js';
export { generateWithHidden, type GenerateHiddenOptions, type GenerateHiddenResult } from './distill.js';
export {
  Session,
  MAX_REQUIRED_PREFIX_BYTES,
  DEFAULT_RUN_AHEAD,
  defaultRunAhead,
  MAX_BRANCHES,
  type BranchedGeneration,
  type BranchEnd,
  type BranchesChunk,
  type BranchesResult,
  type BranchSampling,
  type GenerateBranchesOptions,
  type ForwardOptions,
  type ForwardResult,
  type GenerateChunk,
  type GenerateOptions,
  type GenerateResult,
  type GenerateStats,
  type LookupOptions,
  LOOKUP_DEFAULTS,
  type StepStats,
} from './session.js';
export type { TokenBytes } from './token-bytes.js';

/** Which compute backends exist in this build and on this machine, and why any is unavailable. */
export function backends(): BackendReport[] {
  return loadBinding().backends();
}

/**
 * Sends native log lines to fn (called on the main thread); null restores the default sink,
 * which writes to stderr (never stdout).
 */
export function setEngineLogger(fn: NativeLogger | null): void {
  loadBinding().setLogger(fn);
}

export function setEngineLogLevel(level: 'debug' | 'info' | 'warn' | 'error'): void {
  loadBinding().setLogLevel(level);
}

/** DRAM read bandwidth in GB/s, measured now (a benchmark helper; blocks for about a second). */
export function measureReadBandwidth(bytes = 512 * 1024 * 1024, threads = 2, repeats = 3): number {
  return loadBinding().readBandwidth(bytes, threads, repeats);
}
