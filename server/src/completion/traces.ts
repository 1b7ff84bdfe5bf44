/**
 * Where finished request traces go: a bounded ring served by `slipstream/traces` (filtered by
 * document, time and id), the trace file (JSON lines, rotated: trace/trace-file.ts) and
 * OpenTelemetry (trace/otlp-export.ts, only with an endpoint set); plus the running latency and
 * outcome figures `slipstream/status` reports. A request's trace itself is trace/request-trace.ts.
 * The file and the exporter are fed after the answer is on its way (setImmediate), never before.
 */
import { resolve } from 'node:path';
import type { Settings } from '../config.js';
import { percentileOfSorted } from '../percentile.js';
import type { Outcome, RequestTrace, StatusResult, TracesParams } from '../protocol.js';
import type { ClientTrace } from '../trace/client-trace.js';
import { OtlpExport } from '../trace/otlp-export.js';
import { Trace } from '../trace/request-trace.js';
import { openTraceFile, type TraceFileHandle } from '../trace/trace-file.js';

export { Trace };

/**
 * Prefetch traces (the server's own work, trigger 'prefetch') and alternatives' (further
 * suggestions of an invoked request, trigger 'alternative') are in the ring but not in these figures.
 */
const OUTCOME_COUNT: Record<Exclude<Outcome, 'prefetched'>, keyof StatusResult['requests']> = {
  shown: 'shown', empty: 'empty', cached: 'cached', cancelled: 'cancelled', superseded: 'superseded', stale: 'stale', error: 'errors', disabled: 'empty',
};

export class TraceLog {
  private ring: RequestTrace[] = [];
  private nextId = 1;
  private readonly latencies: number[] = [];
  private lastMs: number | null = null;
  readonly counts: StatusResult['requests'] = { total: 0, shown: 0, empty: 0, cached: 0, cancelled: 0, superseded: 0, stale: 0, errors: 0 };
  capacity = 200;
  /** Record span trees (slipstream.trace.spans). */
  spans = true;
  private file: TraceFileHandle | null = null;
  private fileMax = 0;
  private otlp: { endpoint: string; ready: Promise<OtlpExport | null> } | null = null;
  /** Traces finished but not yet written to the file and exporter. */
  private pending: RequestTrace[] = [];
  private flushing: NodeJS.Immediate | null = null;

  constructor(private readonly warn: (message: string) => void = () => {}) {}

  /** Applies the trace settings: opens, rotates to or closes the file and the exporter. */
  configure(t: Settings['trace']): void {
    this.capacity = t.capacity;
    this.spans = t.spans;
    const maxBytes = t.fileMaxKB * 1024;
    if (this.file?.path !== (t.file ? resolve(t.file) : undefined) || this.fileMax !== maxBytes) {
      this.drain();
      this.file?.close();
      this.file = t.file ? openTraceFile(t.file, maxBytes, this.warn) : null;
      this.fileMax = maxBytes;
    }
    if ((this.otlp?.endpoint ?? '') !== t.otlpEndpoint) {
      this.drain();
      void this.stopOtlp();
      this.otlp = t.otlpEndpoint ? { endpoint: t.otlpEndpoint, ready: startOtlp(t.otlpEndpoint, this.warn) } : null;
    }
  }

  start(uri: string, version: number | null, trigger: RequestTrace['trigger'], opts: { receivedAt?: number; client?: ClientTrace } = {}): Trace {
    return new Trace({ id: this.nextId++, uri, version, trigger, spans: this.spans, ...opts });
  }

  finish(trace: Trace, outcome: Outcome, error?: string): RequestTrace {
    const r = trace.finish(outcome, error);
    if (r.trigger !== 'prefetch' && r.trigger !== 'alternative' && outcome !== 'prefetched') this.count(r, outcome);
    if (this.capacity > 0) {
      this.ring.push(r);
      // trimmed in batches: amortized O(1) per request
      if (this.ring.length > 2 * this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    }
    if (this.file || this.otlp) {
      this.pending.push(r);
      this.flushing ??= setImmediate(() => this.drain());
    }
    return r;
  }

  /** A client request's outcome and latency in the status figures. */
  private count(r: RequestTrace, outcome: Exclude<Outcome, 'prefetched'>): void {
    this.counts.total++;
    this.counts[OUTCOME_COUNT[outcome]]++;
    if (outcome === 'shown' || outcome === 'empty' || outcome === 'cached') {
      this.lastMs = r.totalMs;
      this.latencies.push(r.totalMs);
      if (this.latencies.length > 1000) this.latencies.shift();
    }
  }

  /** Writes the pending traces to the file and hands them to the exporter. */
  private drain(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    if (this.file) for (const r of batch) this.file.write(JSON.stringify(r));
    const otlp = this.otlp;
    if (otlp) void otlp.ready.then((e) => batch.forEach((r) => e?.export(r)));
  }

  /** Kept traces, oldest first: ids above `after`, of document `uri`, started at or after `since`, at most `limit` (the newest). */
  traces(q: TracesParams = {}): RequestTrace[] {
    const kept = this.ring.length > this.capacity ? this.ring.slice(this.ring.length - this.capacity) : this.ring;
    const after = q.after ?? 0;
    const list = kept.filter((t) => t.id > after && (q.uri === undefined || t.uri === q.uri) && (q.since === undefined || t.startedAt >= q.since));
    const limit = q.limit ?? Infinity;
    return Number.isFinite(limit) ? list.slice(Math.max(0, list.length - limit)) : list;
  }

  latency(): StatusResult['latency'] {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return { count: sorted.length, p50Ms: percentileOfSorted(sorted, 50), p95Ms: percentileOfSorted(sorted, 95), p99Ms: percentileOfSorted(sorted, 99), lastMs: this.lastMs };
  }

  /** Sends what the exporter holds now (tests, shutdown). */
  async flush(): Promise<void> {
    this.drain();
    const e = await this.otlp?.ready;
    await e?.flush();
  }

  private async stopOtlp(): Promise<void> {
    const old = this.otlp;
    this.otlp = null;
    const e = await old?.ready;
    await e?.shutdown().catch(() => {});
  }

  /** Writes and sends what is pending, then closes the file and the exporter. */
  async close(): Promise<void> {
    this.drain();
    this.file?.close();
    this.file = null;
    await this.stopOtlp();
  }
}

function startOtlp(endpoint: string, warn: (message: string) => void): Promise<OtlpExport | null> {
  return OtlpExport.start(endpoint, warn).catch((err: unknown) => {
    warn(`OpenTelemetry export to ${endpoint} could not start: ${(err as Error).message}`);
    return null;
  });
}
