/**
 * Exponential backoff for a remote server that failed: after the n-th failure in a row, no
 * request goes out for min(maxMs, baseMs · 2^(n-1)) ms; a success clears it. Only the clock is
 * kept here (the host decides what counts as a failure).
 */
export class Backoff {
  private failuresInRow = 0;
  private until = 0;

  constructor(
    readonly baseMs = 250,
    readonly maxMs = 8000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get failures(): number {
    return this.failuresInRow;
  }

  /** Records a failure; returns the wait before the next attempt. */
  fail(): number {
    this.failuresInRow++;
    const wait = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(30, this.failuresInRow - 1));
    this.until = this.now() + wait;
    return wait;
  }

  succeed(): void {
    this.failuresInRow = 0;
    this.until = 0;
  }

  /** ms until the next attempt may go out (0: now). */
  remaining(): number {
    return Math.max(0, this.until - this.now());
  }
}
