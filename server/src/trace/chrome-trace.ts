/**
 * Request traces as Chrome trace-event JSON (the JSON Object Format that Perfetto and
 * chrome://tracing open), and back. Every span is a complete event (`ph: "X"`, integer
 * microseconds from the first request); one track (thread) per document, with a second lane
 * when two requests of one document overlap, so slices always nest: request > stages > decode
 * rounds > draft / verify / accept. Each event's args carry its request id (`rid`) and its
 * attributes; the request event carries the trace record's fields, so a Chrome file can be
 * summarised again (readChromeTrace). The editor's share is an `editor` slice just before its request.
 */
import type { RequestTrace, TraceSpan } from '../protocol.js';
import { VERSION } from '../version.js';

export interface ChromeEvent {
  name: string;
  ph: 'X' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: 'ms';
  otherData: { generator: string; clockOrigin: number };
}

const PID = 1;
const CAT = 'slipstream';
/** Trace record fields copied to the request event's args (and read back). */
const RECORD_FIELDS = ['id', 'uri', 'version', 'trigger', 'startedAt', 'totalMs', 'outcome', 'promptTokens', 'reusedTokens', 'generatedTokens', 'error', 'client', 'remote'] as const;

function basename(uri: string): string {
  const path = uri.replace(/[?#].*$/, '');
  const i = path.lastIndexOf('/');
  return decodeURIComponent(i >= 0 && i < path.length - 1 ? path.slice(i + 1) : path);
}

/** Chrome trace JSON for `traces` (requests without spans are left out). */
export function toChromeTrace(traces: readonly RequestTrace[]): ChromeTrace {
  const withSpans = traces.filter((t) => t.spans).sort((a, b) => begin(a) - begin(b));
  const origin = withSpans.length > 0 ? Math.floor(begin(withSpans[0]!)) : 0;
  const us = (ms: number): number => Math.round((ms - origin) * 1000);
  const events: ChromeEvent[] = [{ name: 'process_name', ph: 'M', pid: PID, tid: 0, args: { name: 'slipstream' } }];
  // lanes: per document, the end of the last request in each lane
  const lanes = new Map<string, { tid: number; end: number }[]>();
  let nextTid = 1;
  const slices: ChromeEvent[] = [];
  for (const t of withSpans) {
    const root = t.spans!;
    const from = begin(t);
    const to = root.start + root.dur;
    let docLanes = lanes.get(t.uri);
    if (!docLanes) lanes.set(t.uri, (docLanes = []));
    let lane = docLanes.find((l) => l.end <= us(from));
    if (!lane) {
      lane = { tid: nextTid++, end: 0 };
      const n = docLanes.push(lane);
      events.push({ name: 'thread_name', ph: 'M', pid: PID, tid: lane.tid, args: { name: n === 1 ? basename(t.uri) : `${basename(t.uri)} (${n})` } });
      events.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: lane.tid, args: { sort_index: lane.tid } });
    }
    lane.end = us(to);
    const tid = lane.tid;
    const args: Record<string, unknown> = {};
    for (const k of RECORD_FIELDS) if (t[k] !== undefined) args[k] = t[k];
    if (from < root.start) slices.push({ name: 'editor', cat: CAT, ph: 'X', pid: PID, tid, ts: us(from), dur: us(root.start) - us(from), args: { rid: t.id } });
    const walk = (span: TraceSpan, extra: Record<string, unknown>, lo: number, hi: number): void => {
      // integer microseconds, clamped into the parent: slices nest after rounding too
      const a = Math.min(Math.max(us(span.start), lo), hi);
      const b = Math.max(a, Math.min(us(span.start + span.dur), hi));
      const ev: ChromeEvent = { name: span.name, cat: CAT, ph: 'X', pid: PID, tid, ts: a, dur: b - a, args: { rid: t.id, ...extra, ...span.attrs } };
      slices.push(ev);
      for (const c of span.children ?? []) walk(c, c.name === 'draft' || c.name === 'verify' || c.name === 'accept' ? { round: span.attrs?.index } : {}, a, b);
    };
    walk(root, args, -Infinity, Infinity);
  }
  // parents before their children: by start, then longer first
  slices.sort((x, y) => x.tid - y.tid || x.ts! - y.ts! || y.dur! - x.dur!);
  return { traceEvents: [...events, ...slices], displayTimeUnit: 'ms', otherData: { generator: `slipstream ${VERSION}`, clockOrigin: origin } };
}

/** Where a request's picture begins: its keystroke when the client sent one, else its receipt. */
export function begin(t: RequestTrace): number {
  return Math.min(t.client?.keystrokeAt ?? t.startedAt, t.startedAt);
}

const LEVEL: Record<string, 'request' | 'stage' | 'round' | 'phase' | 'ttfb' | 'editor'> = { request: 'request', round: 'round', draft: 'phase', verify: 'phase', accept: 'phase', ttfb: 'ttfb', editor: 'editor' };

/**
 * The request traces in a Chrome trace this module wrote (throws on anything else). Times come
 * back at microsecond resolution.
 */
export function readChromeTrace(json: unknown): RequestTrace[] {
  const events = Array.isArray(json) ? json : (json as { traceEvents?: unknown })?.traceEvents;
  if (!Array.isArray(events)) throw new Error('not a Chrome trace: no traceEvents array');
  const origin = (json as ChromeTrace).otherData?.clockOrigin ?? 0;
  const ms = (us: number): number => origin + us / 1000;
  const byRequest = new Map<number, ChromeEvent[]>();
  for (const e of events as ChromeEvent[]) {
    if (e?.ph !== 'X' || e.cat !== CAT || typeof e.args?.rid !== 'number' || typeof e.ts !== 'number' || typeof e.dur !== 'number') continue;
    const rid = e.args.rid as number;
    let list = byRequest.get(rid);
    if (!list) byRequest.set(rid, (list = []));
    list.push(e);
  }
  if (byRequest.size === 0) throw new Error('not a Slipstream trace: no request slices (cat "slipstream" with args.rid)');
  const out: RequestTrace[] = [];
  for (const [rid, list] of byRequest) {
    list.sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!);
    const req = list.find((e) => e.name === 'request');
    if (!req) continue;
    const span = (e: ChromeEvent): TraceSpan => {
      const { rid: _r, round: _n, ...attrs } = e.args ?? {};
      const s: TraceSpan = { name: e.name as TraceSpan['name'], start: ms(e.ts!), dur: e.dur! / 1000 };
      const a = Object.fromEntries(Object.entries(attrs).filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'));
      if (Object.keys(a).length > 0) s.attrs = a as TraceSpan['attrs'];
      return s;
    };
    const args = req.args ?? {};
    const record = { stages: {} } as RequestTrace;
    for (const k of RECORD_FIELDS) if (args[k] !== undefined) (record as unknown as Record<string, unknown>)[k] = args[k];
    const root: TraceSpan = { name: 'request', start: ms(req.ts!), dur: req.dur! / 1000, children: [] };
    if (args.outcome !== undefined) root.attrs = { id: rid, outcome: args.outcome as string, trigger: args.trigger as string };
    let decode: TraceSpan | undefined;
    let prefill: TraceSpan | undefined;
    const rounds: TraceSpan[] = [];
    for (const e of list) {
      const level = LEVEL[e.name] ?? 'stage';
      if (level === 'request' || level === 'editor') continue;
      const s = span(e);
      if (level === 'stage') {
        root.children!.push(s);
        if (s.name === 'decode') decode = s;
        if (s.name === 'prefill') prefill = s;
      } else if (level === 'round' && decode) {
        (decode.children ??= []).push(s);
        rounds.push(s);
      } else if (level === 'phase') {
        const r = rounds.find((x) => x.attrs?.index === e.args?.round);
        if (r) (r.children ??= []).push(s);
      } else if (level === 'ttfb' && prefill) {
        prefill.children = [s];
      }
    }
    // siblings in time order (the file puts longer slices first at one start; a stage may take 0 µs)
    root.children!.sort((a, b) => a.start - b.start || a.dur - b.dur);
    for (const c of root.children!) record.stages[c.name as keyof RequestTrace['stages']] = (record.stages[c.name as keyof RequestTrace['stages']] ?? 0) + c.dur;
    record.id ??= rid;
    record.startedAt ??= root.start;
    record.totalMs ??= root.dur;
    record.spans = root;
    out.push(record);
  }
  return out.sort((a, b) => a.startedAt - b.startedAt);
}
