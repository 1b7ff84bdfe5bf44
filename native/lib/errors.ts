/**
 * Errors the engine wrapper throws. Every failure from native code carries a stable `code`
 * (ENGINE_BAD_MODEL, ENGINE_BUSY, ...) so callers branch on codes, never on message text.
 */
export class EngineError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
  }
}

/** True for the error an aborted AbortSignal produces, and for an engine step cancelled by one. */
export function isAbortError(err: unknown): boolean {
  if (err instanceof EngineError) return err.code === 'ENGINE_CANCELLED';
  return err instanceof Error && err.name === 'AbortError';
}
