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

/** Turns a native rejection (an Error with a `code`) into an EngineError; rethrows anything else. */
export function toEngineError(err: unknown): Error {
  if (err instanceof EngineError) return err;
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ENGINE_')) return new EngineError(err.message, code);
    return err;
  }
  return new Error(String(err));
}

/** Awaits a native promise, converting its rejection with toEngineError. */
export async function native<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw toEngineError(err);
  }
}
