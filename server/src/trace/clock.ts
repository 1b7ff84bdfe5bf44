/**
 * The one clock of every trace: milliseconds since the Unix epoch with sub-millisecond resolution,
 * monotonic within a process (performance.timeOrigin + performance.now(), never Date.now(), which
 * can step). Spans, the client's keystroke timestamp and the exports all use it. Not a timer.
 */

/** Now, in ms since the epoch (fractional). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A performance.now() reading (e.g. a generation chunk's endedAt) on this clock. */
export function fromPerformanceNow(t: number): number {
  return performance.timeOrigin + t;
}
