/**
 * In-flight attachment (issue 14): the generations running now, one per document, with the text
 * each has produced so far. A new request whose text is the running one's text with characters
 * typed at its cursor that agree with what the generation produced (or is producing: one is a
 * prefix of the other), or with nothing typed (the same text and cursor again), waits for it, bounded, instead of aborting it and starting over; its answer
 * then comes from the suggestion cache, where the finished generation's suggestion was remembered,
 * or, when its time budget ends first, from what the generation has beyond the typed text so far.
 */
import { toLf } from './line-endings.js';

export interface RunningGeneration {
  readonly key: string;
  readonly text: string;
  readonly offset: number;
  /** Generated text so far (LF line endings, before post-processing). */
  partial: string;
  /** Requests waiting for this generation. */
  attached: number;
  /** Called with `partial` each time it grows (an attached request's time budget: time-budget.ts). */
  readonly watchers: Set<(partial: string) => void>;
  /** What a text generated here shows at this generation's cursor (post-processed, LF line endings). */
  readonly shown: (partial: string) => { text: string; replaceLength: number };
  /** The controller of the request that runs the generation (aborting it ends the generation). */
  readonly owner: AbortController;
  /** Resolves when the owner's request has finished (its suggestion remembered, if any). */
  readonly done: Promise<void>;
}

export class RunningGenerations {
  private readonly running = new Map<string, RunningGeneration & { finish: () => void }>();

  /** Registers the generation of a request; call the returned function when the request ends. */
  start(key: string, text: string, offset: number, owner: AbortController, shown: RunningGeneration['shown']): { gen: RunningGeneration; end: () => void } {
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const gen = { key, text, offset, partial: '', attached: 0, watchers: new Set<(partial: string) => void>(), shown, owner, done, finish };
    this.running.set(key, gen);
    return {
      gen,
      end: () => {
        if (this.running.get(key) === gen) this.running.delete(key);
        finish();
      },
    };
  }

  all(): IterableIterator<RunningGeneration> {
    return this.running.values();
  }

  get(key: string): RunningGeneration | undefined {
    return this.running.get(key);
  }

  /** The running generation of `key` that `text` at `offset` extends by typing what it generates, if any. */
  extendedBy(key: string, text: string, offset: number): RunningGeneration | undefined {
    const g = this.running.get(key);
    if (!g || !extends_(g, text, offset)) return undefined;
    return g;
  }
}

/** Whether `text` is g.text with characters typed at g's cursor that agree with g's output so far. */
function extends_(g: RunningGeneration, text: string, offset: number): boolean {
  const typedLength = offset - g.offset;
  // typedLength 0: the same request again (the one after an accept, when a prefetch computes it)
  if (typedLength < 0 || text.length !== g.text.length + typedLength) return false;
  if (text.slice(offset) !== g.text.slice(g.offset)) return false;
  if (text.slice(0, g.offset) !== g.text.slice(0, g.offset)) return false;
  const typed = toLf(text.slice(g.offset, offset));
  return g.partial.startsWith(typed) || typed.startsWith(g.partial);
}

/** Waits for `g` to finish, at most `ms`; false on timeout or when `signal` aborts first. */
export function waitFor(g: RunningGeneration, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const settle = (v: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = (): void => settle(false);
    const timer = setTimeout(() => settle(false), ms);
    signal.addEventListener('abort', onAbort, { once: true });
    void g.done.then(() => settle(true));
  });
}
