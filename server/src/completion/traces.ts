/**
 * Per-request stage timings in a bounded ring (served by `slipstream/traces`), and the running
 * latency and outcome figures `slipstream/status` reports. A Trace is filled in as the request
 * moves through the stages; `finish` stores it. Optionally appends each trace as a JSON line to
 * a file (slipstream.trace.file). The tracing issue extends this.
 */
import { appendFile } from 'node:fs';
import { percentileOfSorted } from '../percentile.js';
import type { Outcome, RequestTrace, Stage, StatusResult } from '../protocol.js';

export class Trace {
  readonly record: RequestTrace;
  private readonly t0: number;
  private mark: number;

  constructor(id: number, uri: string, version: number | null, trigger: RequestTrace['trigger']) {
    this.t0 = performance.now();
    this.mark = this.t0;
    this.record = { id, uri, version, trigger, startedAt: Date.now(), stages: {}, totalMs: 0, outcome: 'empty' };
  }

  /** Ends the current stage as `stage` (time since the previous mark). */
  stage(stage: Stage): void {
    const now = performance.now();
    this.record.stages[stage] = (this.record.stages[stage] ?? 0) + (now - this.mark);
    this.mark = now;
  }

  /** Adds a duration measured elsewhere to a stage without moving the mark. */
  add(stage: Stage, ms: number): void {
    this.record.stages[stage] = (this.record.stages[stage] ?? 0) + ms;
  }

  /** Moves the mark without recording (the time was recorded with add). */
  skip(): void {
    this.mark = performance.now();
  }

  elapsed(): number {
    return performance.now() - this.t0;
  }
}

export class TraceLog {
  private ring: RequestTrace[] = [];
  private nextId = 1;
  private readonly latencies: number[] = [];
  private lastMs: number | null = null;
  readonly counts: StatusResult['requests'] = { total: 0, shown: 0, empty: 0, cached: 0, cancelled: 0, superseded: 0, stale: 0, errors: 0 };
  capacity = 200;
  file = '';

  start(uri: string, version: number | null, trigger: RequestTrace['trigger']): Trace {
    return new Trace(this.nextId++, uri, version, trigger);
  }

  finish(trace: Trace, outcome: Outcome, error?: string): RequestTrace {
    const r = trace.record;
    r.outcome = outcome;
    r.totalMs = trace.elapsed();
    if (error) r.error = error;
    this.counts.total++;
    const key: Record<Outcome, keyof StatusResult['requests']> = {
      shown: 'shown', empty: 'empty', cached: 'cached', cancelled: 'cancelled', superseded: 'superseded', stale: 'stale', error: 'errors', disabled: 'empty',
    };
    this.counts[key[outcome]]++;
    if (outcome === 'shown' || outcome === 'empty' || outcome === 'cached') {
      this.lastMs = r.totalMs;
      this.latencies.push(r.totalMs);
      if (this.latencies.length > 1000) this.latencies.shift();
    }
    if (this.capacity > 0) {
      this.ring.push(r);
      if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    }
    if (this.file) appendFile(this.file, `${JSON.stringify(r)}\n`, () => {});
    return r;
  }

  traces(after = 0, limit = Infinity): RequestTrace[] {
    const list = this.ring.filter((t) => t.id > after);
    return Number.isFinite(limit) ? list.slice(Math.max(0, list.length - limit)) : list;
  }

  latency(): StatusResult['latency'] {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return { count: sorted.length, p50Ms: percentileOfSorted(sorted, 50), p95Ms: percentileOfSorted(sorted, 95), p99Ms: percentileOfSorted(sorted, 99), lastMs: this.lastMs };
  }
}
