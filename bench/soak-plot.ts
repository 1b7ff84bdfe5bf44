/**
 * Draws a `bench soak --out` JSON as an SVG line chart: the server's RSS, JS heap and engine bytes
 * (weights + K/V) in MB over minutes, with the RSS slope in the title. A few dozen points and
 * three lines need no chart library; the SVG is plain text, reviewable in a diff.
 *
 *   npm run build && node dist/bench/soak-plot.js soak.json docs/soak-memory.svg
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { SoakResult } from './soak.js';

const W = 760;
const H = 360;
const M = { left: 64, right: 170, top: 48, bottom: 48 };

/** A round step for about `n` ticks over [0, max]. */
function tickStep(max: number, n: number): number {
  const raw = max / n;
  const pow = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
}

export function soakSvg(r: SoakResult): string {
  const series = [
    { name: 'RSS', color: '#d62728', values: r.samples.map((s) => s.rss_bytes / 1e6) },
    { name: 'JS heap used', color: '#1f77b4', values: r.samples.map((s) => s.heap_used_bytes / 1e6) },
    { name: 'engine (weights + K/V)', color: '#2ca02c', values: r.samples.map((s) => ((s.engine_weight_bytes ?? 0) + (s.engine_kv_bytes ?? 0)) / 1e6) },
  ];
  const xs = r.samples.map((s) => s.t_s / 60);
  const xMax = Math.max(r.minutes, ...xs);
  const yMax = Math.max(...series.flatMap((s) => s.values)) * 1.1;
  const px = (x: number): number => M.left + (x / xMax) * (W - M.left - M.right);
  const py = (y: number): number => H - M.bottom - (y / yMax) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const slope = r.rss_slope_mb_per_hour === null ? 'n/a' : `${r.rss_slope_mb_per_hour.toFixed(1)} MB/h`;
  out.push(`<text x="${M.left}" y="20" font-size="14" font-weight="bold">slipstream serve: memory during a ${r.minutes}-minute soak, ${r.clients} clients (${basename(r.model)})</text>`);
  out.push(`<text x="${M.left}" y="36" fill="#555">RSS ${r.rss_mb.first.toFixed(0)} → ${r.rss_mb.last.toFixed(0)} MB (max ${r.rss_mb.max.toFixed(0)}), slope after warm-up ${slope}; sampled every ${Math.round((r.samples[1]?.t_s ?? 60) - (r.samples[0]?.t_s ?? 0))} s</text>`);
  const yStep = tickStep(yMax, 5);
  for (let y = 0; y <= yMax; y += yStep) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${y}</text>`);
  }
  const xStep = tickStep(xMax, 6);
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    out.push(`<line x1="${px(x).toFixed(1)}" x2="${px(x).toFixed(1)}" y1="${H - M.bottom}" y2="${H - M.bottom + 4}" stroke="#333"/>`);
    out.push(`<text x="${px(x).toFixed(1)}" y="${H - M.bottom + 18}" text-anchor="middle">${Number(x.toFixed(2))}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle">minutes</text>`);
  out.push(`<text x="16" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(M.top + H - M.bottom) / 2})">MB</text>`);
  series.forEach((s, i) => {
    const pts = s.values.map((v, k) => `${px(xs[k]!).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    const ly = M.top + 10 + i * 20;
    out.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 32}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${W - M.right + 38}" y="${ly + 4}">${s.name}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

if (require.main === module) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    process.stderr.write('usage: node dist/bench/soak-plot.js SOAK.json OUT.svg\n');
    process.exit(2);
  }
  writeFileSync(output, soakSvg(JSON.parse(readFileSync(input, 'utf8')) as SoakResult));
}
