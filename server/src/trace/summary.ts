/**
 * The figures of a set of request traces: per stage (count, p50, p95, p99, max, share of the
 * total time), the total latency, decode rounds, the editor's share when clients sent keystroke
 * times, and the median and slowest requests with their breakdown; and that as a text table.
 * Over the answered requests (shown, cached, empty): the ones a user waited for. Percentiles are
 * the project's one definition (percentile.ts).
 */
import { percentileOfSorted } from '../percentile.js';
import type { Outcome, RequestTrace, TraceSpan } from '../protocol.js';
import { EDITOR, STAGES } from './stages.js';

export const ANSWERED: ReadonlySet<Outcome> = new Set<Outcome>(['shown', 'cached', 'empty']);

export interface Distribution {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface StageRow extends Distribution {
  name: string;
  /** This stage's time over all answered requests / their total time (the editor's row: over keystroke-to-answer time). */
  share: number;
}

export interface RoundFigures {
  rounds: number;
  /** Per round. */
  ms: Distribution;
  tokensPerRound: number;
  roundsPerRequest: number;
  modes: Record<string, number>;
  /** Mean accepted drafted tokens and tree size, when the engine reported them. */
  accepted?: number;
  treeSize?: number;
}

export interface TraceSummary {
  requests: number;
  answered: number;
  outcomes: Partial<Record<Outcome, number>>;
  /** Answered requests that carry spans (the ones in the stage table). */
  withSpans: number;
  total: Distribution | null;
  /** Keystroke to answer, for requests whose client sent its keystroke time. */
  keystroke: Distribution | null;
  stages: StageRow[];
  rounds: RoundFigures | null;
  /** The median of the requests that ran the engine (of all when none did). */
  median: RequestTrace | null;
  slowest: RequestTrace[];
}

export function distribution(values: readonly number[]): Distribution | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return { count: s.length, p50: percentileOfSorted(s, 50)!, p95: percentileOfSorted(s, 95)!, p99: percentileOfSorted(s, 99)!, max: s.at(-1)!, mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** Decode rounds of a request, in order. */
export function roundsOf(t: RequestTrace): TraceSpan[] {
  return (t.spans?.children ?? []).filter((c) => c.name === 'decode').flatMap((d) => (d.children ?? []).filter((c) => c.name === 'round'));
}

export function summarize(all: readonly RequestTrace[], top = 5): TraceSummary {
  const outcomes: TraceSummary['outcomes'] = {};
  for (const t of all) outcomes[t.outcome] = (outcomes[t.outcome] ?? 0) + 1;
  const answered = all.filter((t) => ANSWERED.has(t.outcome));
  const traced = answered.filter((t) => t.spans);
  const totalMs = traced.reduce((s, t) => s + t.totalMs, 0);
  const stages: StageRow[] = [];
  const editor = traced.filter((t) => t.client?.editorMs !== undefined);
  if (editor.length > 0) {
    const keyMs = editor.reduce((s, t) => s + t.client!.editorMs! + t.totalMs, 0);
    const ed = editor.reduce((s, t) => s + t.client!.editorMs!, 0);
    stages.push({ name: EDITOR, ...distribution(editor.map((t) => t.client!.editorMs!))!, share: keyMs > 0 ? ed / keyMs : 0 });
  }
  for (const name of STAGES) {
    const values = traced.filter((t) => t.stages[name] !== undefined).map((t) => t.stages[name]!);
    const d = distribution(values);
    if (d) stages.push({ name, ...d, share: totalMs > 0 ? values.reduce((a, b) => a + b, 0) / totalMs : 0 });
  }
  const rounds = traced.flatMap(roundsOf);
  let roundFigures: RoundFigures | null = null;
  if (rounds.length > 0) {
    const modes: Record<string, number> = {};
    for (const r of rounds) modes[String(r.attrs?.mode ?? '?')] = (modes[String(r.attrs?.mode ?? '?')] ?? 0) + 1;
    const mean = (key: string): number | undefined => {
      const v = rounds.map((r) => r.attrs?.[key]).filter((x): x is number => typeof x === 'number');
      return v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
    };
    roundFigures = {
      rounds: rounds.length,
      ms: distribution(rounds.map((r) => r.dur))!,
      tokensPerRound: mean('tokens') ?? 0,
      roundsPerRequest: rounds.length / traced.filter((t) => roundsOf(t).length > 0).length,
      modes,
      ...(mean('accepted') !== undefined ? { accepted: mean('accepted') } : {}),
      ...(mean('treeSize') !== undefined ? { treeSize: mean('treeSize') } : {}),
    };
  }
  const byTotal = [...traced].sort((a, b) => a.totalMs - b.totalMs);
  // the median of the requests that ran the engine (a typing-through hit says little), when any did
  const engine = byTotal.filter((t) => t.stages.prefill !== undefined);
  const pool = engine.length > 0 ? engine : byTotal;
  const total = distribution(answered.map((t) => t.totalMs));
  return {
    requests: all.length,
    answered: answered.length,
    outcomes,
    withSpans: traced.length,
    total,
    keystroke: distribution(editor.map((t) => t.client!.editorMs! + t.totalMs)),
    stages,
    rounds: roundFigures,
    median: pool.length > 0 ? pool[Math.max(0, Math.ceil(pool.length / 2) - 1)]! : null,
    slowest: byTotal.slice(-top).reverse(),
  };
}

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
const f1 = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function docName(uri: string): string {
  return uri.slice(uri.lastIndexOf('/') + 1) || uri;
}

/** One line: where a request's time went, stage by stage (with rounds and tokens where they help). */
export function breakdown(t: RequestTrace): string {
  const parts: string[] = [];
  if (t.client?.editorMs !== undefined) parts.push(`editor ${f1(t.client.editorMs)}`);
  for (const c of t.spans?.children ?? []) {
    let s = `${c.name} ${f1(c.dur)}`;
    if (c.name === 'prefill' && typeof c.attrs?.computedTokens === 'number') s += ` (${c.attrs.computedTokens} computed, ${c.attrs.reusedTokens} reused)`;
    if (c.name === 'decode') s += ` (${plural((c.children ?? []).length, 'round')}, ${plural(Number(c.attrs?.tokens ?? 0), 'token')})`;
    if (c.name === 'cache' && (c.attrs?.hit === 'typing' || c.attrs?.hit === 'attached')) s += ` (hit: ${c.attrs.hit})`;
    parts.push(s);
  }
  return parts.join(' · ');
}

/** The summary as text: the request counts, the stage table, rounds, the slowest requests. */
export function formatSummary(s: TraceSummary): string {
  const lines: string[] = [];
  const others = Object.entries(s.outcomes).filter(([o]) => !ANSWERED.has(o as Outcome)).map(([o, n]) => `${n} ${o}`);
  const answeredBy = (['shown', 'cached', 'empty'] as const).filter((o) => s.outcomes[o]).map((o) => `${s.outcomes[o]} ${o}`);
  lines.push(`${s.requests} requests: ${s.answered} answered (${answeredBy.join(', ') || 'none'})${others.length > 0 ? `; ${others.join(', ')}` : ''}`);
  if (s.total) lines.push(`latency (server, receipt to answer): p50 ${f1(s.total.p50)} ms · p95 ${f1(s.total.p95)} ms · p99 ${f1(s.total.p99)} ms · max ${f1(s.total.max)} ms`);
  if (s.keystroke) lines.push(`keystroke to answer (${s.keystroke.count} with the editor's time): p50 ${f1(s.keystroke.p50)} ms · p95 ${f1(s.keystroke.p95)} ms · max ${f1(s.keystroke.max)} ms`);
  if (s.withSpans < s.answered) lines.push(`${s.answered - s.withSpans} answered requests have no spans (slipstream.trace.spans was off) and are not in the table`);
  if (s.stages.length > 0) {
    lines.push('');
    const head = ['stage', 'count', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'share'];
    const rows = s.stages.map((r) => [r.name, String(r.count), f1(r.p50), f1(r.p95), f1(r.p99), f1(r.max), `${(100 * r.share).toFixed(1)}%`]);
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const fmt = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
    lines.push(fmt(head), ...rows.map(fmt));
    if (s.stages[0]?.name === EDITOR) lines.push("(editor: the client's keystroke to the server's receipt; its share is of keystroke-to-answer time)");
  }
  if (s.rounds) {
    const r = s.rounds;
    const modes = Object.entries(r.modes).map(([m, n]) => `${n} ${m}`).join(', ');
    let line = `decode rounds: ${r.rounds} (${modes}), ${r.roundsPerRequest.toFixed(1)} per request, ${r.tokensPerRound.toFixed(2)} tokens each; per round p50 ${f1(r.ms.p50)} ms · p95 ${f1(r.ms.p95)} ms · max ${f1(r.ms.max)} ms`;
    if (r.accepted !== undefined) line += `; accepted ${r.accepted.toFixed(2)} drafted tokens`;
    if (r.treeSize !== undefined) line += `, tree ${r.treeSize.toFixed(1)} nodes`;
    lines.push('', line);
  }
  if (s.slowest.length > 0) {
    lines.push('', `slowest ${s.slowest.length} requests:`);
    for (const t of s.slowest) {
      lines.push(`  #${t.id} ${docName(t.uri)}${t.version !== null ? ` v${t.version}` : ''} ${t.outcome} ${f1(t.totalMs)} ms`);
      lines.push(`    ${breakdown(t)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
