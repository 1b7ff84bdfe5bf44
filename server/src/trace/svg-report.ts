/**
 * The latency picture of a set of request traces, as a standalone SVG (written here, no browser
 * and no package: it is rectangles, lines and text): where the time went (each stage's share),
 * the histogram of request latency with every bar split by stage, and waterfalls of the median
 * and the slowest request (stages, decode rounds and their draft / verify / accept phases). Stage
 * colours come from stages.ts, so they match the HTML report and the docs. Pure: traces in, text out.
 */
import type { RequestTrace, TraceSpan } from '../protocol.js';
import { colorOf, EDITOR, STAGES } from './stages.js';
import { ANSWERED, summarize, type TraceSummary } from './summary.js';

const W = 960;
const LEFT = 24;
const LABEL = 118;
const PLOT = W - LEFT - LABEL - 80;
const FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\"";

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const n2 = (x: number): string => (Math.round(x * 100) / 100).toString();
const ms = (x: number): string => (x >= 100 ? `${x.toFixed(0)} ms` : x >= 10 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`);

/** A step of 1, 2 or 5 times a power of ten giving about `count` steps over `range`. */
export function niceStep(range: number, count: number): number {
  if (!(range > 0)) return 1;
  const raw = range / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

class Svg {
  readonly parts: string[] = [];
  rect(x: number, y: number, w: number, h: number, fill: string, title?: string, extra = ''): void {
    const r = `<rect x="${n2(x)}" y="${n2(y)}" width="${n2(Math.max(0, w))}" height="${n2(Math.max(0, h))}" fill="${fill}"${extra}`;
    this.parts.push(title ? `${r}><title>${escapeXml(title)}</title></rect>` : `${r}/>`);
  }
  line(x1: number, y1: number, x2: number, y2: number, stroke: string, extra = ''): void {
    this.parts.push(`<line x1="${n2(x1)}" y1="${n2(y1)}" x2="${n2(x2)}" y2="${n2(y2)}" stroke="${stroke}"${extra}/>`);
  }
  text(x: number, y: number, s: string, extra = ''): void {
    this.parts.push(`<text x="${n2(x)}" y="${n2(y)}"${extra}>${escapeXml(s)}</text>`);
  }
}

/** A horizontal axis from 0 to `max` ms at [x0, x0 + width], ticks below `y`. */
function axis(svg: Svg, x0: number, width: number, y: number, max: number, from = 0): void {
  const step = niceStep(max - from, 8);
  svg.line(x0, y, x0 + width, y, '#888');
  for (let v = Math.ceil(from / step) * step; v <= max + 1e-9; v += step) {
    const x = x0 + ((v - from) / (max - from)) * width;
    svg.line(x, y, x, y + 4, '#888');
    svg.text(x, y + 16, `${n2(v)}`, ' text-anchor="middle" font-size="10" fill="#555"');
  }
  svg.text(x0 + width + 14, y + 16, 'ms', ' font-size="10" fill="#555"');
}

function shareBar(svg: Svg, s: TraceSummary, y: number): number {
  svg.text(LEFT, y, 'Where the time went', ' font-size="14" font-weight="600"');
  svg.text(LEFT, y + 16, "each stage's share of the answered requests' total time (server side)", ' font-size="11" fill="#555"');
  const top = y + 26;
  const width = W - 2 * LEFT;
  let x = LEFT;
  for (const r of s.stages) {
    if (r.name === EDITOR) continue;
    const w = r.share * width;
    svg.rect(x, top, w, 24, colorOf(r.name), `${r.name}: ${(100 * r.share).toFixed(1)}% of the time, p50 ${ms(r.p50)}, p95 ${ms(r.p95)}`);
    if (w > 58) svg.text(x + 4, top + 16, `${r.name} ${(100 * r.share).toFixed(0)}%`, ' font-size="11" fill="#fff"');
    x += w;
  }
  // legend: every stage that ran, with its share and p50
  let lx = LEFT;
  let ly = top + 44;
  for (const r of s.stages) {
    const label = `${r.name} ${(100 * r.share).toFixed(1)}% · p50 ${ms(r.p50)}`;
    const w = 16 + label.length * 6.1 + 18;
    if (lx + w > W - LEFT) {
      lx = LEFT;
      ly += 18;
    }
    svg.rect(lx, ly - 10, 11, 11, colorOf(r.name));
    svg.text(lx + 16, ly, label, ' font-size="11"');
    lx += w;
  }
  return ly + 20;
}

function histogram(svg: Svg, s: TraceSummary, traces: readonly RequestTrace[], y: number): number {
  const answered = traces.filter((t) => ANSWERED.has(t.outcome) && t.spans);
  if (answered.length === 0 || !s.total) return y;
  svg.text(LEFT, y, 'Latency of answered requests', ' font-size="14" font-weight="600"');
  svg.text(LEFT, y + 16, 'requests per bin of server latency; each bar split by where its requests spent their time', ' font-size="11" fill="#555"');
  const top = y + 30;
  const height = 170;
  const max = Math.max(...answered.map((t) => t.totalMs));
  const bw = niceStep(max, 36);
  const bins = Math.max(1, Math.ceil((max + 1e-9) / bw));
  const hi = bins * bw;
  const groups: RequestTrace[][] = Array.from({ length: bins }, () => []);
  for (const t of answered) groups[Math.min(bins - 1, Math.floor(t.totalMs / bw))]!.push(t);
  const most = Math.max(...groups.map((g) => g.length));
  const yStep = niceStep(most, 4);
  const yMax = Math.ceil(most / yStep) * yStep;
  const x0 = LEFT + 40;
  const width = W - x0 - LEFT - 20;
  for (let v = 0; v <= yMax; v += yStep) {
    const yy = top + height - (v / yMax) * height;
    svg.line(x0, yy, x0 + width, yy, '#eee');
    svg.text(x0 - 6, yy + 4, String(v), ' text-anchor="end" font-size="10" fill="#555"');
  }
  const stages = STAGES.filter((st) => answered.some((t) => t.stages[st] !== undefined));
  groups.forEach((g, i) => {
    if (g.length === 0) return;
    const bx = x0 + (i / bins) * width;
    const bwPx = Math.max(1, width / bins - 1);
    const barH = (g.length / yMax) * height;
    const sums = stages.map((st) => g.reduce((a, t) => a + (t.stages[st] ?? 0), 0));
    const all = sums.reduce((a, b) => a + b, 0) || 1;
    let yy = top + height;
    stages.forEach((st, k) => {
      const h = (sums[k]! / all) * barH;
      if (h <= 0) return;
      yy -= h;
      svg.rect(bx, yy, bwPx, h, colorOf(st), `${n2(i * bw)}-${n2((i + 1) * bw)} ms: ${g.length} requests; ${st} ${(100 * sums[k]! / all).toFixed(0)}% of their time`);
    });
  });
  axis(svg, x0, width, top + height, hi);
  for (const [label, v] of [['p50', s.total.p50], ['p95', s.total.p95]] as const) {
    const x = x0 + (v / hi) * width;
    svg.line(x, top - 4, x, top + height, '#222', ' stroke-dasharray="4 3"');
    svg.text(x + 3, top + 6, `${label} ${ms(v)}`, ' font-size="10" fill="#222"');
  }
  return top + height + 36;
}

interface Row {
  label: string;
  spans: TraceSpan[];
  color?: string;
}

function waterfall(svg: Svg, title: string, t: RequestTrace, y: number): number {
  const root = t.spans!;
  const editor = t.client?.editorMs !== undefined && t.client.keystrokeAt !== undefined ? t.client : null;
  const from = editor ? Math.min(editor.keystrokeAt!, root.start) : root.start;
  const to = root.start + root.dur;
  const span = Math.max(to - from, 1e-3);
  svg.text(LEFT, y, title, ' font-size="14" font-weight="600"');
  const sub = `#${t.id} ${t.uri.slice(t.uri.lastIndexOf('/') + 1)}${t.version !== null ? ` v${t.version}` : ''} · ${t.outcome} · ${ms(t.totalMs)} in the server${editor ? ` + ${ms(editor.editorMs!)} in the editor` : ''}${t.promptTokens !== undefined ? ` · ${t.promptTokens} prompt tokens (${t.reusedTokens ?? 0} reused), ${t.generatedTokens ?? 0} generated` : ''}`;
  svg.text(LEFT, y + 16, sub, ' font-size="11" fill="#555"');
  const rows: Row[] = [];
  if (editor) rows.push({ label: EDITOR, spans: [{ name: 'request', start: from, dur: root.start - from }], color: colorOf(EDITOR) });
  for (const c of root.children ?? []) rows.push({ label: c.name, spans: [c] });
  const x0 = LEFT + LABEL;
  const px = (v: number): number => x0 + ((v - from) / span) * PLOT;
  let yy = y + 30;
  const rowH = 18;
  for (const row of rows) {
    const s = row.spans[0]!;
    svg.text(x0 - 8, yy + 13, row.label, ' text-anchor="end" font-size="11"');
    svg.line(x0, yy + rowH / 2, x0 + PLOT, yy + rowH / 2, '#f2f2f2');
    const color = row.color ?? colorOf(s.name);
    const x = px(s.start);
    const w = Math.max(1, px(s.start + s.dur) - x);
    svg.rect(x, yy + 2, w, rowH - 4, color, `${row.label}: ${ms(s.dur)}${attrText(s)}`);
    // rounds inside decode, alternating shades, with their phases as a thin strip below
    if (s.name === 'decode') {
      (s.children ?? []).forEach((r, i) => {
        const rx = px(r.start);
        svg.rect(rx, yy + 2, Math.max(0.5, px(r.start + r.dur) - rx), rowH - 8, i % 2 === 0 ? '#00805d' : '#2fbf94', `round ${i}: ${ms(r.dur)}${attrText(r)}`);
        for (const p of r.children ?? []) {
          const ppx = px(p.start);
          svg.rect(ppx, yy + rowH - 6, Math.max(0.5, px(p.start + p.dur) - ppx), 4, colorOf(p.name), `round ${i} ${p.name}: ${ms(p.dur)}`);
        }
      });
    }
    for (const c of s.name === 'prefill' ? (s.children ?? []) : []) {
      const cx = px(c.start);
      svg.rect(cx, yy + rowH - 6, Math.max(0.5, px(c.start + c.dur) - cx), 4, colorOf(c.name), `${c.name}: ${ms(c.dur)}`);
    }
    svg.text(Math.min(x + w + 4, x0 + PLOT + 4), yy + 13, ms(s.dur), ' font-size="10" fill="#333"');
    yy += rowH;
  }
  axis(svg, x0, PLOT, yy + 4, (to - from), 0);
  return yy + 44;
}

function attrText(s: TraceSpan): string {
  const a = Object.entries(s.attrs ?? {}).filter(([k]) => k !== 'id' && k !== 'index');
  return a.length > 0 ? ` (${a.map(([k, v]) => `${k} ${typeof v === 'number' ? n2(v) : v}`).join(', ')})` : '';
}

/**
 * The report picture of `traces`; `title` names the source. `fluid`: no fixed size, it scales to
 * the width of the page it is in (the HTML report), else 960 px wide.
 */
export function renderSvg(traces: readonly RequestTrace[], title = 'Slipstream latency', fluid = false): string {
  const s = summarize(traces);
  const svg = new Svg();
  const head = s.total
    ? `${s.requests} requests, ${s.answered} answered · p50 ${ms(s.total.p50)} · p95 ${ms(s.total.p95)} · p99 ${ms(s.total.p99)} · max ${ms(s.total.max)}`
    : `${s.requests} requests, none answered`;
  svg.text(LEFT, 30, title, ' font-size="18" font-weight="700"');
  svg.text(LEFT, 48, head, ' font-size="12" fill="#333"');
  let y = 80;
  if (s.withSpans === 0) {
    svg.text(LEFT, y, 'No answered request has spans (slipstream.trace.spans was off): nothing to draw.', ' font-size="12"');
    y += 20;
  } else {
    y = shareBar(svg, s, y);
    y = histogram(svg, s, traces, y + 12);
    if (s.median) y = waterfall(svg, s.median.stages.prefill !== undefined ? 'Median request that ran the engine' : 'Median request', s.median, y);
    const slowest = s.slowest[0];
    if (slowest && slowest !== s.median) y = waterfall(svg, 'Slowest request', slowest, y);
  }
  const height = Math.ceil(y);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" ${fluid ? 'width="100%"' : `width="${W}" height="${height}"`} viewBox="0 0 ${W} ${height}" ${FONT} font-size="12">`,
    `<rect x="0" y="0" width="${W}" height="${height}" fill="#ffffff"/>`,
    ...svg.parts,
    '</svg>',
    '',
  ].join('\n');
}
