/**
 * Adaptive debounce. Waiting before calling the engine only pays when the user will type again
 * before the answer arrives, so the delay is the smaller of the typing interval (EWMA, ×1.25)
 * and the engine latency (EWMA), capped by `slipstream.completion.debounceMs`. A fast engine
 * gets almost no debounce; a slow one waits out typing bursts. Requests answered from the cache
 * and explicitly invoked ones skip it (the provider decides). The last request time is kept for
 * the KEYS_KEPT most recent keys only (slipstream/complete may name a new document every time).
 */
import { LRUCache } from 'lru-cache';
import { KEYS_KEPT } from './keys-kept.js';

const ALPHA = 0.3;
/** Gaps longer than this are pauses, not typing speed. */
const MAX_TYPING_GAP_MS = 1500;

export class AdaptiveDebouncer {
  private typingMs: number | null = null;
  private latencyMs: number | null = null;
  private readonly lastRequestAt = new LRUCache<string, number>({ max: KEYS_KEPT });

  /** Notes a request for `key` at time `now` (ms) to learn the typing interval. */
  noteRequest(key: string, now: number): void {
    const last = this.lastRequestAt.get(key);
    this.lastRequestAt.set(key, now);
    if (last === undefined) return;
    const gap = now - last;
    if (gap <= 0 || gap > MAX_TYPING_GAP_MS) return;
    this.typingMs = this.typingMs === null ? gap : this.typingMs + ALPHA * (gap - this.typingMs);
  }

  /** Notes how long the engine took for a request. */
  noteLatency(ms: number): void {
    this.latencyMs = this.latencyMs === null ? ms : this.latencyMs + ALPHA * (ms - this.latencyMs);
  }

  forget(key: string): void {
    this.lastRequestAt.delete(key);
  }

  /** The delay for the next request, in ms, at most `maxMs`. */
  delay(maxMs: number): number {
    if (maxMs <= 0) return 0;
    if (this.typingMs === null || this.latencyMs === null) return Math.min(maxMs, this.typingMs === null ? maxMs : this.typingMs * 1.25);
    return Math.max(0, Math.min(maxMs, this.typingMs * 1.25, this.latencyMs));
  }
}

/** Resolves after `ms`, or rejects with the signal's reason (an AbortError) when aborted first. */
export function wait(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(signal: AbortSignal): Error {
  const err = new Error(typeof signal.reason === 'string' ? signal.reason : 'aborted');
  err.name = 'AbortError';
  return err;
}
