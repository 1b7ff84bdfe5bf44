/**
 * One request's trace as it happens: the provider ends each stage as it finishes (stage / stageAt),
 * the engine host reports its queue and steps (EngineSpans), and finish() closes it into a
 * RequestTrace whose `request` span has the stages as contiguous children (so they add up to the
 * total), decode rounds under decode, draft / verify / accept under a round, the remote time to
 * first byte under prefill. With spans off it only keeps the total. Not where traces are stored
 * (completion/traces.ts).
 */
import type { Outcome, RequestTrace, Stage, TraceSpan } from '../protocol.js';
import type { ClientTrace } from './client-trace.js';
import { nowMs } from './clock.js';
import { prefillAttrs, roundSpan, type EngineSpans, type EngineStep } from './engine-steps.js';
import { stageAfter } from './stages.js';

type Attrs = Record<string, string | number | boolean>;

export interface TraceStart {
  id: number;
  uri: string;
  version: number | null;
  trigger: RequestTrace['trigger'];
  /** When the server received the request (trace clock); default now. */
  receivedAt?: number;
  client?: ClientTrace;
  /** Record the span tree (slipstream.trace.spans). */
  spans: boolean;
}

export class Trace implements EngineSpans {
  readonly record: RequestTrace;
  private readonly root: TraceSpan | null;
  private mark: number;
  private last: Stage | null = null;
  private rounds: TraceSpan[] = [];
  private prefill: Attrs = {};

  constructor(s: TraceStart) {
    const t0 = s.receivedAt ?? nowMs();
    this.mark = t0;
    this.record = { id: s.id, uri: s.uri, version: s.version, trigger: s.trigger, startedAt: t0, stages: {}, totalMs: 0, outcome: 'empty' };
    if (s.client) this.record.client = s.client;
    this.root = s.spans ? { name: 'request', start: t0, dur: 0, children: [] } : null;
  }

  /** Ends stage `name` now. */
  stage(name: Stage, attrs?: Attrs): void {
    if (this.root) this.stageAt(name, nowMs(), attrs);
  }

  /** Ends stage `name` at `end` (trace clock; not before the previous stage's end). */
  stageAt(name: Stage, end: number, attrs?: Attrs): void {
    const root = this.root;
    if (!root) return;
    const start = this.mark;
    const span: TraceSpan = { name, start, dur: Math.max(0, end - start) };
    this.mark = start + span.dur;
    const a = { ...(name === 'prefill' ? this.prefill : {}), ...attrs };
    if (Object.keys(a).length > 0) span.attrs = a;
    if (name === 'decode' && this.rounds.length > 0) {
      // rounds lie inside decode by construction; clamp away the clock's last bits
      const end = this.mark;
      span.children = this.rounds.map((r) => clampInto(r, start, end));
      this.rounds = [];
    }
    root.children!.push(span);
    this.last = name;
  }

  /** The last `ms` of the stage just ended were `name` (tokenize inside context): splits it in two. */
  split(name: Stage, ms: number): void {
    const prev = this.root?.children?.at(-1);
    if (!prev) return;
    const d = Math.min(Math.max(0, ms), prev.dur);
    prev.dur -= d;
    this.root!.children!.push({ name, start: prev.start + prev.dur, dur: d });
    this.last = name;
  }

  /** The hooks an engine host reports to, or undefined when spans are off. */
  engine(): EngineSpans | undefined {
    return this.root ? this : undefined;
  }

  queued(at: number): void {
    this.stageAt('queue', at);
  }

  step(step: EngineStep): void {
    if (!this.root) return;
    if (step.kind === 'prefill') Object.assign(this.prefill, prefillAttrs(step));
    else this.rounds.push(roundSpan(step, this.rounds.length));
  }

  /** Closes the trace at `now`: the time since the last stage goes to the stage that was running. */
  finish(outcome: Outcome, error?: string, now = nowMs()): RequestTrace {
    const r = this.record;
    r.outcome = outcome;
    if (error) r.error = error;
    r.totalMs = us(now - r.startedAt);
    const root = this.root;
    if (!root) return r;
    const kids = root.children!;
    const rest = now - this.mark;
    const lastSpan = kids.at(-1);
    // a request answered without work (suggestions off) goes straight to respond
    const running = outcome === 'disabled' ? 'respond' : stageAfter(this.last);
    if (lastSpan && running === this.last) lastSpan.dur += Math.max(0, rest);
    else this.stageAt(running, now);
    root.dur = r.totalMs;
    this.addRemote(r);
    roundSpans(root);
    r.startedAt = root.start;
    r.totalMs = root.dur;
    const stages: RequestTrace['stages'] = {};
    for (const c of kids) stages[c.name as Stage] = (stages[c.name as Stage] ?? 0) + c.dur;
    r.stages = stages;
    root.attrs = { id: r.id, outcome, trigger: r.trigger };
    r.spans = root;
    return r;
  }

  /** A remote host's time to first byte as a `ttfb` span under prefill, and its figures as attributes. */
  private addRemote(r: RequestTrace): void {
    const x = r.remote;
    const prefill = this.root!.children!.find((c) => c.name === 'prefill');
    if (!x || !prefill) return;
    prefill.attrs = { ...prefill.attrs, remoteEnded: x.ended, ...(x.status !== undefined ? { httpStatus: x.status } : {}), ...(x.cachedTokens !== undefined ? { cachedTokens: x.cachedTokens } : {}) };
    if (x.ttfbMs !== undefined) prefill.children = [{ name: 'ttfb', start: prefill.start, dur: Math.min(Math.max(0, x.ttfbMs), prefill.dur) }];
  }
}

/** `span` (and its children) moved inside [start, end]. */
function clampInto(span: TraceSpan, start: number, end: number): TraceSpan {
  const s = Math.min(Math.max(span.start, start), end);
  const e = Math.max(s, Math.min(span.start + span.dur, end));
  const out: TraceSpan = { ...span, start: s, dur: e - s };
  if (span.children) out.children = span.children.map((c) => clampInto(c, s, e));
  return out;
}

const us = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * Rounds every span to microseconds (shorter JSON): each edge is rounded, so spans that touched
 * still touch, and kept inside its parent (the last bits of two sums of one instant can differ).
 */
function roundSpans(span: TraceSpan, lo = -Infinity, hi = Infinity): void {
  const start = Math.min(Math.max(us(span.start), lo), hi);
  const end = Math.min(Math.max(us(span.start + span.dur), start), hi);
  span.start = start;
  span.dur = us(end - start);
  for (const c of span.children ?? []) roundSpans(c, start, end);
}
