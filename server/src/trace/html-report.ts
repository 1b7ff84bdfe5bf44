/**
 * The latency report as one self-contained HTML page: the SVG picture (svg-report.ts) inline,
 * the per-stage table with each stage's colour, the decode rounds, and the slowest requests with
 * their breakdown. No script and no outside resource, so it opens from disk and in a VS Code
 * webview under a strict content security policy (the Open Latency Report command shows it).
 */
import type { RequestTrace } from '../protocol.js';
import { colorOf, EDITOR } from './stages.js';
import { breakdown, summarize } from './summary.js';
import { escapeXml, renderSvg } from './svg-report.js';

const f1 = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

export interface HtmlOptions {
  title?: string;
  /** Where the traces came from, shown under the title. */
  source?: string;
  /** Extra markup at the end of the header (the VS Code report puts its refresh link there). */
  headerExtra?: string;
  /** A content security policy for the page's meta tag. */
  csp?: string;
}

export function renderHtml(traces: readonly RequestTrace[], options: HtmlOptions = {}): string {
  const title = options.title ?? 'Slipstream latency report';
  const s = summarize(traces, 10);
  const e = escapeXml;
  const stageRows = s.stages
    .map(
      (r) =>
        `<tr><td><span class="sw" style="background:${colorOf(r.name)}"></span>${e(r.name)}</td><td>${r.count}</td><td>${f1(r.p50)}</td><td>${f1(r.p95)}</td><td>${f1(r.p99)}</td><td>${f1(r.max)}</td><td>${(100 * r.share).toFixed(1)}%</td></tr>`,
    )
    .join('\n');
  const slow = s.slowest
    .map((t) => `<tr><td>#${t.id}</td><td>${e(t.uri.slice(t.uri.lastIndexOf('/') + 1))}${t.version !== null ? ` v${t.version}` : ''}</td><td>${e(t.outcome)}</td><td>${f1(t.totalMs)}</td><td class="bd">${e(breakdown(t))}</td></tr>`)
    .join('\n');
  const others = Object.entries(s.outcomes).map(([o, n]) => `${n} ${o}`).join(', ');
  const r = s.rounds;
  const rounds = r
    ? `<p>Decode rounds: ${r.rounds} (${Object.entries(r.modes).map(([m, n]) => `${n} ${e(m)}`).join(', ')}), ${r.roundsPerRequest.toFixed(1)} per request, ${r.tokensPerRound.toFixed(2)} tokens each; per round p50 ${f1(r.ms.p50)} ms, p95 ${f1(r.ms.p95)} ms, max ${f1(r.ms.max)} ms${r.accepted !== undefined ? `; ${r.accepted.toFixed(2)} drafted tokens accepted` : ''}${r.treeSize !== undefined ? `, tree ${r.treeSize.toFixed(1)} nodes` : ''}.</p>`
    : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
${options.csp ? `<meta http-equiv="Content-Security-Policy" content="${e(options.csp)}">` : ''}
<title>${e(title)}</title>
<style>
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 16px 24px; color: #222; background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 22px 0 6px; }
.meta { color: #555; font-size: 12px; margin: 0 0 12px; }
table { border-collapse: collapse; font-size: 12px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px 3px 0; text-align: right; border-bottom: 1px solid #eee; vertical-align: top; }
th:first-child, td:first-child, td.bd, th.bd { text-align: left; }
td.bd { color: #333; max-width: 720px; }
.sw { display: inline-block; width: 10px; height: 10px; margin-right: 6px; vertical-align: -1px; }
.pic { max-width: 960px; overflow-x: auto; } .pic svg { min-width: 720px; }
</style>
</head>
<body>
<h1>${e(title)}</h1>
<p class="meta">${options.source ? `${e(options.source)} · ` : ''}${s.requests} requests (${e(others || 'none')})${options.headerExtra ?? ''}</p>
<div class="pic">${renderSvg(traces, 'Where every millisecond went', true)}</div>
<h2>Stages</h2>
<table>
<tr><th>stage</th><th>count</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>share</th></tr>
${stageRows || '<tr><td colspan="7">no answered request with spans</td></tr>'}
</table>
${s.stages[0]?.name === EDITOR ? "<p class=\"meta\">editor: the client's keystroke to the server's receipt; its share is of keystroke-to-answer time.</p>" : ''}
${rounds}
<h2>Slowest requests</h2>
<table>
<tr><th>id</th><th>document</th><th>outcome</th><th>ms</th><th class="bd">where the time went (ms)</th></tr>
${slow || '<tr><td colspan="5">none</td></tr>'}
</table>
</body>
</html>
`;
}
