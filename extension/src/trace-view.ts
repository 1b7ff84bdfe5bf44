/**
 * The last request's stage breakdown as the status bar tooltip shows it: its total, the editor's
 * share (keystroke to the server) when known, and each stage that took a visible part with a bar
 * of its share; decode with its rounds. Pure text from a `slipstream/traces` entry (no vscode), so
 * it is unit-tested. Also the latency report page (the CLI's HTML report under a strict content
 * security policy, with a Refresh link) and the `clientTrace` an inline completion request carries
 * (a trace id, and the keystroke's time when the keystroke made the request).
 */
import type { RequestTrace, TracesResult } from '../../server/src/protocol.js';
import { renderHtml } from '../../server/src/trace/html-report.js';

const ms = (v: number): string => (v >= 100 ? `${v.toFixed(0)} ms` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`);
/** Stages below this share of the total are summed into "other". */
const SMALL = 0.02;
const BAR = 12;
const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Tooltip lines for the last request; [] when there is none. */
export function lastRequestLines(t: RequestTrace | null | undefined): string[] {
  if (!t) return [];
  const lines = [`Last request #${t.id} (${t.outcome}): ${ms(t.totalMs)} in the server${t.client?.editorMs !== undefined ? `, ${ms(t.client.editorMs)} in the editor before it` : ''}`];
  const kids = t.spans?.children;
  if (!kids || kids.length === 0) return lines;
  const total = Math.max(t.totalMs, 1e-9);
  let other = 0;
  for (const c of kids) {
    const share = c.dur / total;
    if (share < SMALL) {
      other += c.dur;
      continue;
    }
    const bar = '█'.repeat(Math.max(1, Math.round(share * BAR)));
    const extra =
      c.name === 'decode'
        ? ` (${count((c.children ?? []).length, 'round')}, ${count(Number(c.attrs?.tokens ?? 0), 'token')})`
        : c.name === 'prefill' && typeof c.attrs?.computedTokens === 'number'
          ? ` (${count(c.attrs.computedTokens, 'token')} computed, ${c.attrs.reusedTokens} reused)`
          : '';
    lines.push(`  ${c.name} ${ms(c.dur)} ${bar}${extra}`);
  }
  if (other > 0) lines.push(`  other stages ${ms(other)}`);
  return lines;
}

/** A random W3C trace id (32 lowercase hex digits). */
export function newTraceId(random: (n: number) => Uint8Array): string {
  return Array.from(random(16), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The `clientTrace` of an inline completion request (`params` as sent): the trace id, and the
 * time of the keystroke that made the document's current text when there is one, unless the
 * request was invoked (triggerKind 1: Trigger Inline Suggestion, or Alt+] / Alt+[ fetching the
 * alternatives, the extension's own request once its server is up). Such a request comes from a
 * command, often seconds after the last keystroke: that wait is the user's, not the editor's share.
 */
export function inlineClientTrace(params: unknown, traceId: string, keystrokeAt: number | undefined): { traceId: string; keystrokeAt?: number } {
  const invoked = (params as { context?: { triggerKind?: unknown } } | null)?.context?.triggerKind === 1;
  return keystrokeAt !== undefined && !invoked ? { traceId, keystrokeAt } : { traceId };
}

/** Nothing runs in the report: no script, only inline styles and the SVG. */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** The latency report page for a slipstream/traces result; its Refresh link runs `refreshCommand`. */
export function reportHtml(r: TracesResult, refreshCommand: string, now = new Date()): string {
  return renderHtml(r.traces, {
    title: 'Slipstream latency report',
    source: `this session's last ${r.traces.length} request${r.traces.length === 1 ? '' : 's'} (the server keeps ${r.capacity}), ${now.toLocaleTimeString()}`,
    headerExtra: ` · <a href="command:${refreshCommand}">Refresh</a>`,
    csp: REPORT_CSP,
  });
}
