/**
 * How the completion pipeline reads an error from any engine host: its stable code (as the
 * native EngineError carries; INTERNAL when there is none) and whether it means the work was
 * aborted (cancelled or superseded) rather than failed.
 */

/** An error's stable code, as EngineError has; 'INTERNAL' when it has none. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'INTERNAL';
}

/** True for an AbortError or the engine's cancellation. */
export function isAbort(err: unknown): boolean {
  return (err as { name?: string })?.name === 'AbortError' || errorCode(err) === 'ENGINE_CANCELLED';
}
