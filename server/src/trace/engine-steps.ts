/**
 * What an engine host tells a request's trace (EngineSpans): when its queue let the request in,
 * and each engine step (the prefill, then one decode round per step) with the figures the engine
 * returned with it. The one place that turns a step into a `round` span (roundSpan), so richer
 * per-step figures from the engine (tree size, accepted tokens, draft / verify / accept time)
 * appear in every trace and export without touching the hosts or the exporters.
 */
import type { TraceSpan } from '../protocol.js';

/**
 * Per-step figures an engine may return with a step's tokens (the shape of native/lib's step
 * stats; every field optional, so a step with only its tokens still makes a span).
 */
export interface StepStatsLike {
  kind?: string;
  /** prefill: prompt tokens whose KV was kept / computed. */
  reusedTokens?: number;
  promptTokens?: number;
  /** Tokens the base model verified in the step (plain decoding: 1; ReDrafter: the tree's nodes). */
  treeSize?: number;
  /** ReDrafter: drafted tokens accepted (the guaranteed token not counted). */
  accepted?: number;
  /** Of those, the ones only a caller's extra draft / only prompt lookup proposed. */
  extraAccepted?: number;
  lookupAccepted?: number;
  draftMs?: number;
  verifyMs?: number;
  acceptMs?: number;
  /** The whole step inside the engine. */
  stepMs?: number;
}

export interface EngineStep {
  /** 'drafts': a round verifying drafts without a drafter (a diverged suggestion's rest, prompt lookup). */
  kind: 'prefill' | 'ar' | 'redrafter' | 'drafts';
  /** On the trace clock (trace/clock.ts). */
  start: number;
  end: number;
  /** Tokens the step emitted. */
  tokens: number;
  stats?: StepStatsLike;
}

/** Handed to an engine host with a generation (GenerateRequest.spans) when the request is traced. */
export interface EngineSpans {
  /** The engine's queue (one generation at a time) let this request in at `at` (also called when it gave up waiting). */
  queued(at: number): void;
  /** One engine step finished. */
  step(step: EngineStep): void;
}

/** An engine step from a generator chunk: its tokens and, when the engine sent them, its figures. */
export function engineStep(
  kind: EngineStep['kind'],
  start: number,
  end: number,
  chunk: { ids: ArrayLike<number>; step?: StepStatsLike } | null,
): EngineStep {
  return { kind, start, end, tokens: chunk?.ids.length ?? 0, ...(chunk?.step ? { stats: chunk.step } : {}) };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * The `round` span of decode round `index` (0-based): mode and tokens, and with the engine's
 * figures its tree size, accepted tokens and the draft, verify and accept phases as children,
 * laid end to end from the round's start in the order the engine runs them.
 */
export function roundSpan(step: EngineStep, index: number): TraceSpan {
  const dur = Math.max(0, step.end - step.start);
  const attrs: Record<string, string | number | boolean> = { index, mode: step.kind, tokens: step.tokens };
  const s = step.stats;
  const span: TraceSpan = { name: 'round', start: step.start, dur, attrs };
  if (!s) return span;
  if (s.treeSize !== undefined) attrs.treeSize = s.treeSize;
  if (s.accepted !== undefined) attrs.accepted = s.accepted;
  if (s.extraAccepted) attrs.extraAccepted = s.extraAccepted;
  if (s.lookupAccepted) attrs.lookupAccepted = s.lookupAccepted;
  if (s.stepMs !== undefined) attrs.engineMs = round3(s.stepMs);
  const children: TraceSpan[] = [];
  let at = step.start;
  const end = step.start + dur;
  for (const [name, ms] of [['draft', s.draftMs], ['verify', s.verifyMs], ['accept', s.acceptMs]] as const) {
    if (ms === undefined || !(ms > 0) || at >= end) continue;
    const d = Math.min(ms, end - at);
    children.push({ name, start: at, dur: d });
    at += d;
  }
  if (children.length > 0) span.children = children;
  return span;
}

/** Attributes of the prefill span from the engine's prefill step. */
export function prefillAttrs(step: EngineStep): Record<string, number> {
  const s = step.stats;
  const a: Record<string, number> = {};
  if (s?.reusedTokens !== undefined) a.reusedTokens = s.reusedTokens;
  if (s?.promptTokens !== undefined) a.computedTokens = s.promptTokens;
  if (s?.stepMs !== undefined) a.engineMs = round3(s.stepMs);
  return a;
}
