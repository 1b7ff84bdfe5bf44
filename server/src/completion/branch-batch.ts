/**
 * An invoked request's suggestions decoded together (feature.ts, alternatives.ts): the first (the
 * usual one) and its alternatives each run their own provider.complete (own trace, early stop and
 * post-processing) up to the engine, where they take a seat here in place of a generation of their
 * own. The first seat to arrive starts ONE EngineHost.generateTogether call with a branch for every
 * seat (each seat's sampling is fixed when the batch is made); its request gives the prompt and
 * limits all branches share. A seat that arrives later (the alternatives are asked for once the
 * first suggestion is known) reads its branch's tokens from the start, then as they come. A seat
 * whose consumer stops (its suggestion is whole), whose signal aborts, or that will not come
 * (absent: answered from the cache, or its alternatives not wanted) ends its branch; the others go
 * on. A late seat whose request cannot share the generation (another prompt or limits), or a lone
 * seat, gets a generation of its own.
 */
import type { BranchRequest, EngineHost, GeneratedChunk, GenerateRequest, GenerateSummary } from './engine-host.js';
import type { EngineSpans } from '../trace/engine-steps.js';
import { nowMs } from '../trace/clock.js';

/** A seat's sampler settings, fixed when the batch is made. */
export interface SeatSampling {
  temperature: number;
  seed: number;
}

type Item = { chunk: GeneratedChunk } | { summary: GenerateSummary | undefined } | { error: unknown };

/** One seat: its branch's sampling, its request once it arrives, and the items its stream has yet to yield. */
class Seat {
  private readonly queue: Item[] = [];
  private wake: (() => void) | null = null;
  req: GenerateRequest | null = null;
  absent = false;
  /** Its branch in the shared generation takes its items (false: a generation of its own does). */
  inBatch = true;
  /** Ends the seat's branch: its consumer left, it is absent, its request's signal aborted, or it went alone. */
  readonly end = new AbortController();
  /** Its consumer is gone (it stopped early, or its request ended). */
  readonly left = new AbortController();
  /** Nothing more is taken: the last item (a summary or an error) is queued, or the consumer left. */
  finished = false;

  constructor(readonly sampling: SeatSampling) {}

  push(item: Item): void {
    if (this.finished) return;
    if (!('chunk' in item)) this.finished = true;
    this.queue.push(item);
    this.wake?.();
    this.wake = null;
  }

  async next(): Promise<Item> {
    while (this.queue.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.queue.shift()!;
  }
}

export class BranchBatch {
  private readonly seats: Seat[];
  /** The request every branch shares (the first seat's), once a seat arrived. */
  private shared: GenerateRequest | null = null;
  /** Whether the shared generation runs (false: every seat gets one of its own). */
  private running = false;
  /** Prompt tokens the session already held, once the engine said. */
  private reused: number | null = null;
  /** Whether the engine's queue let the shared generation in. */
  private admitted = false;

  constructor(
    private readonly host: EngineHost,
    samplings: SeatSampling[],
  ) {
    this.seats = samplings.map((s) => new Seat(s));
  }

  /** Seat `index`'s stream, in place of host.generate(req) (the provider's generate calls it). */
  async *member(index: number, req: GenerateRequest): AsyncGenerator<GeneratedChunk, GenerateSummary | undefined, void> {
    const seat = this.seats[index];
    if (!seat) throw new Error(`a branch batch of ${this.seats.length} has no seat ${index}`);
    if (seat.req || seat.absent) throw new Error(`seat ${index} of a branch batch was taken twice`);
    seat.req = req;
    // removed when the seat leaves: the request's signal is a composite one (AbortSignal.any), which
    // Node keeps alive, with everything its listeners hold, while an abort listener is attached
    const aborted = (): void => seat.end.abort(req.signal.reason);
    if (req.signal.aborted) aborted();
    else req.signal.addEventListener('abort', aborted, { once: true });
    if (!this.shared) {
      this.shared = req;
      this.running = this.seats.length > 1 && this.host.generateTogether !== undefined;
      if (this.running) void this.together();
      else this.goAlone(seat);
    } else if (!this.running || !sharesBranches(this.shared, req)) {
      this.goAlone(seat);
    } else {
      // late: what its branch produced so far is queued for it; what the engine already said, it is told now
      if (this.admitted) req.spans?.queued(nowMs());
      if (this.reused !== null) req.onReuse?.(this.reused);
    }
    try {
      for (;;) {
        const item = await seat.next();
        if ('error' in item) throw item.error;
        if ('summary' in item) return item.summary;
        yield item.chunk;
      }
    } finally {
      req.signal.removeEventListener('abort', aborted);
      seat.finished = true;
      seat.left.abort('its suggestion needs no more tokens');
      seat.end.abort('its suggestion needs no more tokens');
    }
  }

  /** Seat `index` will not come (its request ended without reaching the engine, or is not made): its branch ends. */
  absent(index: number): void {
    const seat = this.seats[index];
    if (!seat || seat.req || seat.absent) return;
    seat.absent = true;
    seat.end.abort('absent');
  }

  /** The seat takes a generation of its own (its branch in a shared one, if any, ends). */
  private goAlone(seat: Seat): void {
    seat.inBatch = false;
    seat.end.abort('a generation of its own');
    void this.alone(seat);
  }

  /** One generation for every seat, branch b for seats[b]; the first seat's request gives what they share. */
  private async together(): Promise<void> {
    const first = this.shared!;
    const seats = this.seats;
    const wanted = new AbortController();
    const gone = (): void => void (seats.every((s) => s.end.signal.aborted) && wanted.abort('no branch is wanted any more'));
    for (const s of seats) s.end.signal.addEventListener('abort', gone, { once: true });
    const branches: BranchRequest[] = seats.map((s) => ({ ...s.sampling, signal: s.end.signal }));
    // the seats there at each moment hear the engine's queue and steps (a late seat is told at its arrival)
    const present = (): Seat[] => seats.filter((s) => s.req !== null && s.inBatch && !s.finished);
    const spans: EngineSpans = {
      queued: (at) => {
        this.admitted = true;
        present().forEach((s) => s.req!.spans?.queued(at));
      },
      step: (step) => present().forEach((s) => s.req!.spans?.step(step)),
    };
    const req: GenerateRequest = {
      key: first.key,
      prompt: first.prompt,
      maxTokens: first.maxTokens,
      stopTokens: first.stopTokens,
      temperature: first.temperature,
      plainDecoding: true,
      signal: wanted.signal,
      ...(first.reuse !== undefined ? { reuse: first.reuse } : {}),
      ...(first.kvBudgetBytes !== undefined ? { kvBudgetBytes: first.kvBudgetBytes } : {}),
      ...(first.requiredPrefix ? { requiredPrefix: first.requiredPrefix } : {}),
      onReuse: (n) => {
        this.reused = n;
        present().forEach((s) => s.req!.onReuse?.(n));
      },
      spans,
    };
    const inBatch = (b: number): Seat | undefined => (seats[b]?.inBatch ? seats[b] : undefined);
    try {
      for await (const step of this.host.generateTogether!(req, branches)) {
        seats.forEach((s, b) => {
          const ids = step.ids.filter((_, i) => step.branches[i] === b);
          if (ids.length > 0 && s.inBatch) s.push({ chunk: ids });
        });
        for (const e of step.ended) inBatch(e.branch)?.push({ summary: e.summary });
      }
      for (const s of seats) if (s.inBatch) s.push({ summary: undefined }); // a branch the engine did not end: aborted with the rest
    } catch (error) {
      for (const s of seats) if (s.inBatch) s.push({ error });
    }
  }

  /** A generation of the seat's own, with the seat's sampling. */
  private async alone(seat: Seat): Promise<void> {
    const req = seat.req!;
    try {
      const gen = this.host.generate({ ...req, ...seat.sampling, signal: AbortSignal.any([req.signal, seat.left.signal]) });
      for (;;) {
        const r = await gen.next();
        if (r.done) return seat.push({ summary: r.value });
        if (seat.finished) return void (await gen.return(undefined));
        seat.push({ chunk: r.value });
      }
    } catch (error) {
      seat.push({ error });
    }
  }
}

/** Whether two requests can be branches of one generation: the same session, prompt and limits. */
function sharesBranches(a: GenerateRequest, b: GenerateRequest): boolean {
  return (
    a.key === b.key &&
    a.maxTokens === b.maxTokens &&
    (a.requiredPrefix ?? '') === (b.requiredPrefix ?? '') &&
    a.reuse === b.reuse &&
    a.prompt.length === b.prompt.length &&
    a.prompt.every((t, i) => b.prompt[i] === t) &&
    a.stopTokens.length === b.stopTokens.length &&
    a.stopTokens.every((t, i) => b.stopTokens[i] === t)
  );
}
