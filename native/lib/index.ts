/**
 * Public API of the Slipstream engine for TypeScript. The server and the CLI import only this
 * module; it validates arguments and owns the API, the addon stays mechanical.
 */
import { loadBinding } from './binding.js';
import type { BackendReport } from './binding-types.js';

export type { BackendReport } from './binding-types.js';
export { EngineError, isAbortError } from './errors.js';

/** Which compute backends exist in this build and on this machine, and why any is unavailable. */
export function backends(): BackendReport[] {
  return loadBinding().backends();
}
