/**
 * The alternatives of one invoked request decoded together (alternatives.ts): each alternative runs
 * its own provider.complete (its own trace, early stop and post-processing) up to the engine, where
 * it takes a seat here in place of a generation of its own. Once every seat is taken, or its
 * request ended before reaching the engine (absent), one EngineHost.generateTogether call decodes
 * the seated requests as branches of one generation (one forward per step for all of them), and
 * each seat's stream yields its branch's tokens. A seat whose consumer stops (its suggestion is
 * whole) or whose signal aborts ends its branch; the others go on. Seats whose requests differ in
 * what branches share (session, prompt, length, stop tokens, required prefix), or a lone seat, get
 * a generation of their own instead.
 */
import type { BranchRequest, EngineHost, GeneratedChunk, GenerateRequest, GenerateSummary } from './engine-host.js';
import type { EngineSpans } from '../trace/engine-steps.js';

type Item = { chunk: GeneratedChunk } | { summary: GenerateSummary | undefined } | { error: unknown };

/** One seat: its request, and the items its stream has yet to yield. */
class Seat {
  private readonly queue: Item[] = [];
  private wake: (() => void) | null = null;
  /** The stream's consumer is gone (it stopped early, or its request ended): ends the seat's branch. */
  readonly left = new AbortController();
  /** Nothing more is taken: the last item (a summary or an error) is queued, or the consumer left. */
  finished = false;

  constructor(readonly req: GenerateRequest) {}

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
  private readonly seats: (Seat | 'absent' | undefined)[];
  private started = false;

  /** size: the seats (alternatives) that will each either take their seat or be marked absent. */
  constructor(
    private readonly host: EngineHost,
    size: number,
  ) {
    this.seats = new Array<Seat | 'absent' | undefined>(size).fill(undefined);
  }

  /** Seat `index`'s stream, in place of host.generate(req) (the provider's generate calls it). */
  async *member(index: number, req: GenerateRequest): AsyncGenerator<GeneratedChunk, GenerateSummary | undefined, void> {
    if (this.seats[index] !== undefined) throw new Error(`seat ${index} of a branch batch was taken twice`);
    const seat = new Seat(req);
    this.seats[index] = seat;
    this.startWhenSeated();
    try {
      for (;;) {
        const item = await seat.next();
        if ('error' in item) throw item.error;
        if ('summary' in item) return item.summary;
        yield item.chunk;
      }
    } finally {
      seat.finished = true;
      seat.left.abort('its suggestion needs no more tokens');
    }
  }

  /** Seat `index`'s request ended without reaching the engine (or after it): the others need not wait for it. */
  absent(index: number): void {
    if (this.seats[index] !== undefined) return;
    this.seats[index] = 'absent';
    this.startWhenSeated();
  }

  private startWhenSeated(): void {
    if (this.started || this.seats.includes(undefined)) return;
    this.started = true;
    const seated = this.seats.filter((s): s is Seat => s instanceof Seat);
    const first = seated[0];
    if (first && seated.length > 1 && this.host.generateTogether && seated.every((s) => sharesBranches(first.req, s.req))) void this.together(seated);
    else for (const s of seated) void this.alone(s);
  }

  /** One generation for every seat, branch b for seats[b]. */
  private async together(seats: Seat[]): Promise<void> {
    const first = seats[0]!.req;
    const everyoneLeft = new AbortController();
    const gone = (): void => void (seats.every((s) => s.finished) && everyoneLeft.abort('no branch is wanted any more'));
    for (const s of seats) s.left.signal.addEventListener('abort', gone, { once: true });
    const branches: BranchRequest[] = seats.map((s) => ({
      temperature: s.req.temperature,
      seed: s.req.seed ?? 0,
      signal: AbortSignal.any([s.req.signal, s.left.signal]),
    }));
    const req: GenerateRequest = {
      key: first.key,
      prompt: first.prompt,
      maxTokens: first.maxTokens,
      stopTokens: first.stopTokens,
      temperature: first.temperature,
      plainDecoding: true,
      signal: everyoneLeft.signal,
      ...(first.reuse !== undefined ? { reuse: first.reuse } : {}),
      ...(first.kvBudgetBytes !== undefined ? { kvBudgetBytes: first.kvBudgetBytes } : {}),
      ...(first.requiredPrefix ? { requiredPrefix: first.requiredPrefix } : {}),
      onReuse: (n) => seats.forEach((s) => s.req.onReuse?.(n)),
      ...(seats.some((s) => s.req.spans) ? { spans: everySpans(seats.map((s) => s.req.spans)) } : {}),
    };
    try {
      for await (const step of this.host.generateTogether!(req, branches)) {
        seats.forEach((s, b) => {
          const ids = step.ids.filter((_, i) => step.branches[i] === b);
          if (ids.length > 0) s.push({ chunk: ids });
        });
        for (const e of step.ended) seats[e.branch]?.push({ summary: e.summary });
      }
      for (const s of seats) s.push({ summary: undefined }); // a branch the engine did not end: aborted with the rest
    } catch (error) {
      for (const s of seats) s.push({ error });
    }
  }

  /** A generation of the seat's own. */
  private async alone(seat: Seat): Promise<void> {
    try {
      const gen = this.host.generate({ ...seat.req, signal: AbortSignal.any([seat.req.signal, seat.left.signal]) });
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

/** Spans that report to each of several requests' spans (each alternative's trace shows the shared steps). */
function everySpans(list: (EngineSpans | undefined)[]): EngineSpans {
  const spans = list.filter((s): s is EngineSpans => s !== undefined);
  return {
    queued: (at) => spans.forEach((s) => s.queued(at)),
    step: (step) => spans.forEach((s) => s.step(step)),
  };
}
