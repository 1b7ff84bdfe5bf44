/**
 * Admission of background generations (prefetches: prefetch.ts) on one engine: one starts only on an
 * idle engine (nothing running or waiting), and any other generation ends every background one the
 * moment it arrives. An engine host wraps each generation in enter()/leave().
 */
import type { GenerateRequest } from './engine-host.js';

export class BackgroundGate {
  /** Generations entered and not yet left (running or waiting for the engine). */
  private active = 0;
  private readonly background = new Set<AbortController>();

  get idle(): boolean {
    return this.active === 0;
  }

  /** Enters a generation: the signal it runs with, and leave() for when it ends (however it ends). */
  enter(req: GenerateRequest): { signal: AbortSignal; leave: () => void } {
    let own: AbortController | null = null;
    if (req.background) {
      own = new AbortController();
      if (!this.idle) own.abort('background work starts only on an idle engine');
      this.background.add(own);
    } else {
      for (const b of this.background) b.abort('superseded by a request');
    }
    this.active++;
    let left = false;
    return {
      signal: own ? AbortSignal.any([req.signal, own.signal]) : req.signal,
      leave: () => {
        if (left) return;
        left = true;
        this.active--;
        if (own) this.background.delete(own);
      },
    };
  }
}
