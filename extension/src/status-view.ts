/**
 * What the user reads about the server: the status bar text and tooltip, and the rows of "Show
 * Status", made from a `slipstream/status` result (docs/protocol.md). Pure text (no vscode), so
 * it is unit-tested; status-bar.ts and commands.ts put it on screen.
 */
import type { RetentionStatus, StatusResult } from '../../server/src/protocol.js';

export interface StatusRow {
  /** One short line: "Model: slipstream-code (shipped default)". */
  label: string;
  /** The detail under it (paths, figures). */
  detail?: string;
}

const base = (path: string): string => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
const ms = (v: number | null): string => (v === null ? '-' : `${Math.round(v)} ms`);
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
const origin = (source: 'default' | 'configured'): string => (source === 'default' ? 'shipped default' : 'configured');

/** The status bar text after the icon: "<model> · <backend in use> <last latency>". */
export function statusBarText(s: StatusResult): string {
  const e = s.engine;
  if (e.state === 'error') return 'Slipstream: error';
  if (e.state !== 'ready' || !e.model) return `Slipstream: ${e.state === 'loading' ? 'loading model' : e.state}`;
  const latency = s.latency.lastMs !== null ? ` ${Math.round(s.latency.lastMs)} ms` : '';
  return `${base(e.model.dir)} · ${e.backendInUse ?? e.backend}${latency}`;
}

/** The status bar tooltip: what runs and how fast, in a few lines. */
export function statusBarTooltip(s: StatusResult): string {
  const e = s.engine;
  const lines = ['Slipstream (click for the menu)'];
  if (e.model) lines.push(`Model: ${base(e.model.dir)} (${origin(e.model.source)})`);
  lines.push(`Decoding: ${e.mode}${e.modeSetting === 'auto' ? ' (auto)' : ''}`);
  if (s.latency.count > 0) lines.push(`Latency: last ${ms(s.latency.lastMs)}, p50 ${ms(s.latency.p50Ms)}, p95 ${ms(s.latency.p95Ms)}`);
  if (e.error) lines.push(`Error: ${e.error.message}`);
  return lines.join('\n');
}

/** "Show Status": one row per aspect, readable without knowing the protocol. */
export function statusRows(s: StatusResult): StatusRow[] {
  const e = s.engine;
  const rows: StatusRow[] = [{ label: `Engine: ${e.state}`, detail: `Slipstream ${s.version}` }];
  if (e.error) rows.push({ label: `Error: ${e.error.message}`, detail: e.error.code });
  if (e.model) {
    rows.push({
      label: `Model: ${base(e.model.dir)} (${origin(e.model.source)})`,
      detail: `${e.model.architecture}, ${e.model.numLayers} layers, hidden ${e.model.hiddenSize}, vocabulary ${e.model.vocabSize}${e.model.fim ? ', fill-in-the-middle' : ''}${
        e.model.compute ? ` · ${e.model.compute.weights} weights on ${count(e.model.compute.threads, 'thread')}, ${e.model.compute.kernelPath} kernels` : ''
      } · ${e.model.dir}`,
    });
  }
  rows.push(e.drafter ? { label: `Drafter: ${base(e.drafter.dir)} (${origin(e.drafter.source)})`, detail: e.drafter.dir } : { label: 'Drafter: none' });
  const c = e.modeDecision?.calibration;
  const lk = e.lookup;
  const lookup = !lk ? '' : lk.on ? ` · prompt lookup: up to ${count(lk.tokens, 'token')} a round, ${count(lk.accepted, 'token')} accepted from it (${lk.reason})` : ` · prompt lookup off: ${lk.reason}`;
  rows.push({
    label: `Decoding: ${e.mode === 'redrafter' ? 'ReDrafter speculative decoding' : 'plain (one token per step)'}${lk?.on ? ' + prompt lookup' : ''} · setting ${e.modeSetting}`,
    detail:
      (e.modeDecision?.reason ?? '') +
      lookup +
      (c
        ? ` · calibrated ${c.source === 'cache' ? `by an earlier start on ${c.measuredAt.slice(0, 10)}, ` : ''}in ${Math.round(c.ms)} ms over ${c.rounds} rounds of up to ${c.tokens} tokens after ${c.promptTokens}-token prompts, ${c.shapes.length} tree shapes`
        : ''),
  });
  const others = e.backends.filter((b) => !b.available).map((b) => `${b.name} unavailable: ${b.reason ?? 'unknown'}`);
  rows.push({ label: `Backend: ${e.backendInUse ?? '(not loaded)'} · setting ${e.backend}`, detail: others.join('; ') || undefined });
  const l = s.latency;
  rows.push({
    label: l.count > 0 ? `Latency: last ${ms(l.lastMs)} · p50 ${ms(l.p50Ms)} · p95 ${ms(l.p95Ms)} · p99 ${ms(l.p99Ms)}` : 'Latency: no completions yet',
    detail: `${l.count} answered requests, measured in the server from receipt to response`,
  });
  const r = s.requests;
  rows.push({
    label: `Requests: ${r.total} · shown ${r.shown} · from the suggestion cache ${r.cached} · empty ${r.empty}`,
    detail: `cancelled ${r.cancelled}, superseded ${r.superseded}, stale ${r.stale}, errors ${r.errors}; suggestion cache hits ${s.cache.hits}, misses ${s.cache.misses}`,
  });
  const ev = s.events;
  rows.push({
    label: `Suggestions: shown ${ev.shown} · accepted ${ev.accepted}${ev.acceptedAlternatives > 0 ? ` (${count(ev.acceptedAlternatives, 'alternative')})` : ''} · partly accepted ${ev.partiallyAccepted}`,
    detail: `${s.documents} open documents`,
  });
  const retention = retentionRow(ev.retention);
  if (retention) rows.push(retention);
  return rows;
}

/** "Accepted characters still there: 30 s 92% (1,234 of 1,340) · 5 min …"; none before the first figures. */
function retentionRow(r: RetentionStatus | undefined): StatusRow | undefined {
  const counted = r?.checkpoints.filter((c) => c.items > 0 && c.acceptedChars > 0) ?? [];
  if (!r || counted.length === 0) return undefined;
  const when = (seconds: number): string => (seconds < 60 ? `${seconds} s` : `${seconds / 60} min`);
  const n = (v: number): string => v.toLocaleString('en-US');
  const parts = counted.map((c) => `${when(c.afterSeconds)} ${Math.round((100 * c.retainedChars) / c.acceptedChars)}% (${n(c.retainedChars)} of ${n(c.acceptedChars)})`);
  return {
    label: `Accepted characters still there: ${parts.join(' · ')}`,
    detail: `${counted.map((c) => `${count(c.items, 'item')} at ${when(c.afterSeconds)}`).join(', ')}; ${count(r.untracked, 'accept')} not found in the document; ${r.tracking} followed now`,
  };
}
