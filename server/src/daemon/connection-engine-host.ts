/**
 * A shared daemon connection's view of the one engine host: it never configures or disposes it
 * (the daemon does), and it lets at most one generation of this connection wait for or hold the
 * engine at a time. The engine's own lock is first come, first served; with this in front, its
 * queue holds at most one generation per connection, so a client that floods makes every other
 * client wait for at most one of its generations, not for all of its pending ones.
 */
import type { Settings } from '../config.js';
import type { EngineHost, EngineHostStatus, GeneratedChunk, GenerateRequest, GenerateSummary, LoadedModel } from '../completion/engine-host.js';
import { Mutex } from '../completion/mutex.js';

export class ConnectionEngineHost implements EngineHost {
  private readonly turn = new Mutex();

  constructor(private readonly shared: EngineHost) {}

  /** Engine settings are the daemon's: a connection's are never applied. */
  configure(_engine: Settings['engine']): void {}

  ready(signal?: AbortSignal): Promise<LoadedModel> {
    return this.shared.ready(signal);
  }

  async *generate(req: GenerateRequest): AsyncGenerator<GeneratedChunk, GenerateSummary | undefined, void> {
    const release = await this.turn.acquire(req.signal);
    try {
      return yield* this.shared.generate(req);
    } finally {
      release();
    }
  }

  takesExtraDrafts(): boolean {
    return this.shared.takesExtraDrafts?.() ?? true;
  }

  closeSession(key: string): void {
    this.shared.closeSession(key);
  }

  status(): EngineHostStatus {
    return this.shared.status();
  }

  /** The shared host outlives every connection. */
  async dispose(): Promise<void> {}
}
