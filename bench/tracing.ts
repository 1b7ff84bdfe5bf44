/**
 * `slipstream bench tracing --trace FILE`: what the tracing code itself costs per request,
 * measured in one process without an engine, so it is not lost in the noise of a loaded machine.
 * It replays every traced request of FILE (a real trace: its stages, attributes and decode rounds)
 * through the server's own Trace and TraceLog, with the trace file on, alternating rounds of spans
 * on and off, and reports the microseconds per request of each, and the difference as a share of
 * the mean request time in FILE. What a whole request costs with spans on and off, measured by
 * typing: `bench keystrokes --compare-tracing`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, type ParsedArgs } from '../server/src/cli/args.js';
import { existingFile } from '../server/src/cli/paths.js';
import { TraceLog } from '../server/src/completion/traces.js';
import { defaultSettings } from '../server/src/config.js';
import type { RequestTrace, Stage } from '../server/src/protocol.js';
import { parseTraces } from '../server/src/trace/read-traces.js';
import { ANSWERED } from '../server/src/trace/summary.js';

export interface TracingBenchResult {
  file: string;
  requests: number;
  spans_per_request: number;
  rounds: number;
  /** Microseconds of tracing code per request (start, stages, rounds, finish, ring, file line). */
  on_us: number;
  off_us: number;
  /** Mean request time in the file (answered requests), ms. */
  mean_request_ms: number;
  /** (on - off) / mean request time. */
  share: number;
}

/** Replays `t`'s stages and rounds through a new trace of `log` and finishes it. */
function replay(log: TraceLog, t: RequestTrace): void {
  const trace = log.start(t.uri, t.version, t.trigger, { receivedAt: t.startedAt, ...(t.client ? { client: t.client } : {}) });
  for (const s of t.spans!.children!) {
    if (s.name === 'decode') {
      for (const r of s.children ?? []) trace.step({ kind: r.attrs?.mode === 'ar' ? 'ar' : 'redrafter', start: r.start, end: r.start + r.dur, tokens: Number(r.attrs?.tokens ?? 0) });
    }
    if (s.name === 'tokenize') trace.split('tokenize', s.dur);
    else trace.stageAt(s.name as Stage, s.start + s.dur, s.attrs);
  }
  trace.record.promptTokens = t.promptTokens;
  trace.record.reusedTokens = t.reusedTokens;
  trace.record.generatedTokens = t.generatedTokens;
  log.finish(trace, t.outcome);
}

const spansOf = (t: RequestTrace): number => {
  const walk = (s: NonNullable<RequestTrace['spans']>): number => 1 + (s.children ?? []).reduce((n, c) => n + walk(c), 0);
  return walk(t.spans!);
};

export async function runTracingBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  if (f.trace === undefined) throw new UsageError('--trace FILE is required (a trace to replay, e.g. from bench keystrokes --trace)');
  const file = existingFile('--trace', f.trace as string);
  const traces = parseTraces(readFileSync(file, 'utf8')).traces.filter((t) => t.spans);
  if (traces.length === 0) throw new Error(`${file} has no request with spans to replay`);
  const dir = mkdtempSync(join(tmpdir(), 'slipstream-bench-tracing-'));
  const total = { on: 0, off: 0 };
  const count = { on: 0, off: 0 };
  try {
    const logs = { on: new TraceLog(), off: new TraceLog() };
    logs.on.configure({ ...defaultSettings().trace, file: join(dir, 'on.jsonl') });
    logs.off.configure({ ...defaultSettings().trace, spans: false, file: join(dir, 'off.jsonl') });
    const flush = (): Promise<void> => new Promise((r) => setImmediate(r)); // the file is written after each answer
    // alternate on and off, many rounds, until each has had about a second
    for (let round = 0; total.on < 1000 || total.off < 1000; round++) {
      for (const which of round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        const t0 = performance.now();
        for (const t of traces) replay(logs[which], t);
        await flush();
        total[which] += performance.now() - t0;
        count[which] += traces.length;
      }
    }
    await logs.on.close();
    await logs.off.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const answered = traces.filter((t) => ANSWERED.has(t.outcome));
  const meanMs = answered.reduce((s, t) => s + t.totalMs, 0) / Math.max(1, answered.length);
  const onUs = (1000 * total.on) / count.on;
  const offUs = (1000 * total.off) / count.off;
  const result: TracingBenchResult = {
    file,
    requests: traces.length,
    spans_per_request: traces.reduce((s, t) => s + spansOf(t), 0) / traces.length,
    rounds: traces.reduce((s, t) => s + (t.spans!.children!.find((c) => c.name === 'decode')?.children?.length ?? 0), 0),
    on_us: onUs,
    off_us: offUs,
    mean_request_ms: meanMs,
    share: (onUs - offUs) / 1000 / meanMs,
  };
  process.stdout.write(
    [
      `replayed ${result.requests} traced requests of ${file} (${result.spans_per_request.toFixed(1)} spans each), ${count.on / traces.length} times with spans on and off, alternating`,
      `tracing code per request, spans on   ${onUs.toFixed(1)} us (with the trace file)`,
      `tracing code per request, spans off  ${offUs.toFixed(1)} us`,
      `spans cost ${(onUs - offUs).toFixed(1)} us per request: ${(100 * result.share).toFixed(3)}% of the mean answered request (${meanMs.toFixed(1)} ms)`,
      '',
    ].join('\n'),
  );
  if (f.out !== undefined) (await import('node:fs')).writeFileSync(f.out as string, `${JSON.stringify(result, null, 2)}\n`);
  return 0;
}
