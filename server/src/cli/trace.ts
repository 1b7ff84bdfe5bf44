/**
 * `slipstream trace FILE`: reads a trace file (JSON lines from slipstream.trace.file or the
 * keystroke benchmark, or Chrome trace JSON this command wrote) and prints where the time went:
 * the per-stage table, decode rounds and the slowest requests (--json: the figures as JSON).
 * --svg / --html write the picture and the report, --chrome the Chrome trace for Perfetto.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { toChromeTrace } from '../trace/chrome-trace.js';
import { renderHtml } from '../trace/html-report.js';
import { parseTraces } from '../trace/read-traces.js';
import { formatSummary, summarize } from '../trace/summary.js';
import { renderSvg } from '../trace/svg-report.js';
import type { ParsedArgs } from './args.js';
import { existingFile } from './paths.js';

export async function runTrace(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const file = existingFile('FILE', args.positionals.file!);
  const { traces, format, skipped } = parseTraces(readFileSync(file, 'utf8'));
  const top = (f.top as number | undefined) ?? 5;
  const s = summarize(traces, top);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  if (skipped > 0) log(`slipstream trace: ${skipped} line(s) of ${basename(file)} are not request traces and were skipped`);
  if (f.json) {
    const { median, slowest, ...figures } = s;
    process.stdout.write(`${JSON.stringify({ ...figures, median: median?.id ?? null, slowest: slowest.map((t) => t.id) }, null, 2)}\n`);
  } else {
    process.stdout.write(`${basename(file)} (${format === 'chrome' ? 'Chrome trace' : 'JSON lines'})\n${formatSummary(s)}`);
  }
  const title = `Slipstream latency: ${basename(file)}`;
  if (f.svg !== undefined) {
    writeFileSync(f.svg as string, renderSvg(traces, title));
    log(`slipstream trace: wrote ${f.svg}`);
  }
  if (f.html !== undefined) {
    writeFileSync(f.html as string, renderHtml(traces, { title, source: file }));
    log(`slipstream trace: wrote ${f.html}`);
  }
  if (f.chrome !== undefined) {
    writeFileSync(f.chrome as string, `${JSON.stringify(toChromeTrace(traces))}\n`);
    log(`slipstream trace: wrote ${f.chrome} (open it in https://ui.perfetto.dev or chrome://tracing)`);
  }
  return 0;
}
