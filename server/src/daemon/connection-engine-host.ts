/**
 * A shared daemon connection's view of the one engine host: it never configures or disposes it
 * (the daemon does), and it lets at most one generation of this connection wait for or hold the
 * engine at a time. The engine's own lock is first come, first served; with this in front, its
 * queue holds at most one generation per connection, so a client that floods makes every other
 * client wait for at most one of its generations, not for all of its pending ones. A background
 * generation (a prefetch) takes no turn: the shared host starts it only on an idle engine and ends
 * it when any generation arrives, this connection's next one included; a generation that becomes
 * background work (GenerateRequest.becomesBackground) gives its turn back then. Every session
 * key it passes on carries this connection's prefix, so two editors with the same document never
 * share (or close) one session, and dispose (the connection ended) closes all of its sessions.
 */
import type { Settings } from '../config.js';
import type { BranchChunk, BranchRequest, EngineHost, EngineHostStatus, GeneratedChunk, GenerateRequest, GenerateSummary, LoadedModel } from '../completion/engine-host.js';
import { Mutex } from '../completion/mutex.js';

/** Numbers the connections of this process; a number is never given twice. */
let connections = 0;

/**
 * Keys of one connection remembered for closing, most recently used kept: far more than the
 * sessions the shared host holds at all (session-pool.ts MAX_SESSIONS), so an older key's session
 * is gone already; it is closed anyway as it is forgotten. Bounds what a client sending
 * slipstream/complete with ever new URIs makes this remember.
 */
export const TRACKED_KEYS = 256;

export class ConnectionEngineHost implements EngineHost {
  /**
   * Put before every key passed to the shared host: `c<n>:` with n unique in the process, so a
   * prefixed key names its connection (digits up to the first ':') and never another's key.
   */
  readonly prefix = `c${++connections}:`;
  private readonly turn = new Mutex();
  /** Shared-host keys this connection generated for and has not closed, least recently used first. */
  private readonly keys = new Set<string>();
  private ended = false;

  constructor(private readonly shared: EngineHost) {}

  /** Engine settings are the daemon's: a connection's are never applied. */
  configure(_engine: Settings['engine']): void {}

  ready(signal?: AbortSignal): Promise<LoadedModel> {
    return this.shared.ready(signal);
  }

  generate(req: GenerateRequest): AsyncGenerator<GeneratedChunk, GenerateSummary | undefined, void> {
    return this.inTurn(req, (key) => this.shared.generate({ ...req, key }));
  }

  decodesTogether(): boolean {
    return this.shared.decodesTogether?.() ?? false;
  }

  /** Branches decoded together are one generation: they take one turn. */
  generateTogether(req: GenerateRequest, branches: BranchRequest[]): AsyncGenerator<BranchChunk, void, void> {
    const shared = this.shared;
    if (!shared.generateTogether) throw new Error('the shared engine does not decode branches together');
    return this.inTurn(req, (key) => shared.generateTogether!({ ...req, key }, branches));
  }

  /** Runs `run` with this connection's prefixed key once the connection's turn is free (a background generation takes none). */
  private async *inTurn<T, R>(req: GenerateRequest, run: (key: string) => AsyncGenerator<T, R, void>): AsyncGenerator<T, R, void> {
    const key = this.prefix + req.key;
    this.keys.delete(key);
    this.keys.add(key);
    for (const old of this.keys) {
      if (this.keys.size <= TRACKED_KEYS) break;
      this.keys.delete(old);
      this.shared.closeSession(old);
    }
    try {
      // a prefetch (or a generation running on after an early answer) must not keep this
      // connection's next request from reaching the shared host, whose arrival ends it
      const release = req.background ? () => {} : await this.turn.acquire(req.signal);
      const demoted = req.becomesBackground;
      if (demoted?.aborted) release();
      else demoted?.addEventListener('abort', release, { once: true });
      try {
        return yield* run(key);
      } finally {
        demoted?.removeEventListener('abort', release);
        release();
      }
    } finally {
      // closed (or the connection ended) while this generation waited or ran: the session it
      // may have made is closed now, not left to the shared host's eviction
      if (this.ended || !this.keys.has(key)) this.shared.closeSession(key);
    }
  }

  takesExtraDrafts(): boolean {
    return this.shared.takesExtraDrafts?.() ?? true;
  }

  canPrefetch(): boolean {
    return this.shared.canPrefetch?.() ?? false;
  }

  closeSession(key: string): void {
    const prefixed = this.prefix + key;
    this.keys.delete(prefixed);
    this.shared.closeSession(prefixed);
  }

  status(): EngineHostStatus {
    return this.shared.status();
  }

  /** The connection ended: closes every session it opened on the shared host, which outlives it. */
  async dispose(): Promise<void> {
    this.ended = true;
    for (const key of this.keys) this.shared.closeSession(key);
    this.keys.clear();
  }
}

