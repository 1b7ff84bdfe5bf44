/**
 * The engine sessions of the native host, one per document, bounded by bytes (issue 14): the sum
 * of the sessions' own KV bytes (committed tokens not read in place from the engine's block pool,
 * whose bytes the pool's half of the budget counts, x bytes per token) stays under the budget
 * (cache.kvBudgetMB) by dropping the least recently used sessions, never one in use. Counts the
 * figures slipstream/status reports under cache.kv. Generic over what a session is, so unit tests
 * use plain objects.
 */
import type { KvFigures } from './engine-host.js';

export interface PooledSession {
  /** Committed tokens. */
  readonly length: number;
  /** Of those, the first ones read in place from the engine's KV block pool (its bytes, not the session's); none when absent. */
  readonly sharedLength?: number;
  dispose(): void;
}

/** A hard cap on sessions whatever the budget (each one reserves its context's KV). */
export const MAX_SESSIONS = 32;

export class SessionPool<S extends PooledSession> {
  /** Most recently used last. */
  private readonly sessions = new Map<string, S>();
  private readonly inUse = new Set<S>();
  budgetBytes: number;
  hits = 0;
  evictions = 0;

  constructor(
    /** K/V bytes per committed token. */
    private readonly bytesPerToken: number,
    budgetBytes: number,
    private readonly maxSessions = MAX_SESSIONS,
  ) {
    this.budgetBytes = budgetBytes;
  }

  get size(): number {
    return this.sessions.size;
  }

  bytes(): number {
    let tokens = 0;
    for (const s of this.sessions.values()) tokens += s.length - (s.sharedLength ?? 0);
    return tokens * this.bytesPerToken;
  }

  /**
   * The session of `key` (made by `create` when there is none), marked most recently used and in
   * use until `release`. Other sessions are dropped first if over the budget or the cap.
   */
  acquire(key: string, create: () => S): { session: S; release: () => void } {
    let s = this.sessions.get(key);
    if (s) this.sessions.delete(key);
    else s = create();
    this.sessions.set(key, s);
    this.inUse.add(s);
    this.enforce();
    const session = s;
    let released = false;
    return {
      session,
      release: () => {
        if (released) return;
        released = true;
        this.inUse.delete(session);
        this.enforce();
      },
    };
  }

  /** Counts a generation that reused `reused` resident tokens. */
  noteReuse(reused: number): void {
    if (reused > 0) this.hits++;
  }

  /** Drops least recently used sessions not in use while over the budget or the cap. */
  enforce(): void {
    for (const [key, s] of this.sessions) {
      if (this.bytes() <= this.budgetBytes && this.sessions.size <= this.maxSessions) return;
      if (this.inUse.has(s)) continue;
      this.sessions.delete(key);
      s.dispose();
      this.evictions++;
    }
  }

  /** Removes a key's session and returns it (the caller disposes it when nothing uses it). */
  take(key: string): S | undefined {
    const s = this.sessions.get(key);
    if (s) this.sessions.delete(key);
    return s;
  }

  /** Disposes every session (model unloaded). */
  clear(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
    this.inUse.clear();
  }

  figures(): KvFigures {
    return { bytes: this.bytes(), budgetBytes: this.budgetBytes, sessions: this.sessions.size, hits: this.hits, evictions: this.evictions };
  }
}
