/**
 * Admission of background generations (prefetches: prefetch.ts) on one engine: one starts only on an
 * idle engine (nothing running or waiting), and any other generation ends every background one the
 * moment it arrives. A generation answered early (time-budget.ts) becomes background work when its
 * GenerateRequest.becomesBackground fires. An engine host wraps each generation in enter()/leave().
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
    const own = new AbortController();
    if (req.background) {
      if (!this.idle) own.abort('background work starts only on an idle engine');
      this.background.add(own);
    } else {
      for (const b of this.background) b.abort('superseded by a request');
    }
    const demote = (): void => void this.background.add(own);
    if (req.becomesBackground?.aborted) demote();
    else req.becomesBackground?.addEventListener('abort', demote, { once: true });
    this.active++;
    let left = false;
    return {
      signal: AbortSignal.any([req.signal, own.signal]),
      leave: () => {
        if (left) return;
        left = true;
        this.active--;
        req.becomesBackground?.removeEventListener('abort', demote);
        this.background.delete(own);
      },
    };
  }
}
