/**
 * Reads request traces from the text of a trace file: JSON lines (slipstream.trace.file, the
 * benchmark's trace) or Chrome trace JSON written by chrome-trace.ts, told apart by content. A
 * JSON line that does not parse or is not a trace (a line cut short when the disk filled, say) is
 * skipped and counted; a file with no trace at all is an error.
 */
import type { RequestTrace } from '../protocol.js';
import { readChromeTrace } from './chrome-trace.js';

export interface ReadTraces {
  traces: RequestTrace[];
  format: 'jsonl' | 'chrome';
  /** JSON lines that were not traces. */
  skipped: number;
}

function isTrace(v: unknown): v is RequestTrace {
  const t = v as RequestTrace;
  return typeof v === 'object' && v !== null && typeof t.id === 'number' && typeof t.uri === 'string' && typeof t.totalMs === 'number' && typeof t.outcome === 'string';
}

export function parseTraces(text: string): ReadTraces {
  const head = text.trimStart();
  if (head.startsWith('[') || (head.startsWith('{') && /^\{\s*"(traceEvents|displayTimeUnit|otherData)"/.test(head))) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`not valid JSON: ${(err as Error).message}`);
    }
    return { traces: readChromeTrace(json), format: 'chrome', skipped: 0 };
  }
  const traces: RequestTrace[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (isTrace(v)) traces.push(v);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  if (traces.length === 0) throw new Error(skipped > 0 ? `no request trace in ${skipped} line(s): not a Slipstream trace file` : 'the file is empty');
  return { traces, format: 'jsonl', skipped };
}
