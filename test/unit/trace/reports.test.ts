/**
 * What `slipstream trace` makes of traces: Chrome trace-event JSON that follows the format
 * (required fields, order, balanced nesting; overlapping requests of a document on separate
 * lanes) and reads back to the same traces; the summary's figures (the project's percentile,
 * shares that add up, the slowest first); an SVG that is well-formed XML and shows every stage;
 * an HTML page around it with no script.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { percentile } from '../../../server/src/percentile.js';
import type { RequestTrace } from '../../../server/src/protocol.js';
import { readChromeTrace, toChromeTrace } from '../../../server/src/trace/chrome-trace.js';
import { renderHtml } from '../../../server/src/trace/html-report.js';
import { parseTraces } from '../../../server/src/trace/read-traces.js';
import { STAGES } from '../../../server/src/trace/stages.js';
import { formatSummary, summarize } from '../../../server/src/trace/summary.js';
import { niceStep, renderSvg } from '../../../server/src/trace/svg-report.js';
import { checkTree } from '../../helpers/span-checks.js';
import { syntheticTrace } from '../../helpers/synthetic-traces.js';
import { traceEventProblems } from '../../helpers/trace-event-format.js';

const T0 = 1_800_000_000_000;

/** Two documents; on a.ts request 3 starts while 2 still runs (a superseded one); some cache hits. */
function sample(): RequestTrace[] {
  return [
    syntheticTrace({ id: 1, at: T0, debounce: 20, prefill: 30, rounds: [3, 3, 3], keystrokeBefore: 1.5 }),
    syntheticTrace({ id: 2, at: T0 + 100, debounce: 5, prefill: 2, rounds: [2, 2], roundStats: true, outcome: 'superseded' }),
    syntheticTrace({ id: 3, at: T0 + 105, debounce: 0, prefill: 4, rounds: [1, 1, 1, 1], roundStats: true, keystrokeBefore: 0.5 }),
    syntheticTrace({ id: 4, at: T0 + 200, cached: true }),
    syntheticTrace({ id: 5, uri: 'file:///w/src/b%20c&d.ts', at: T0 + 120, debounce: 10, prefill: 50, rounds: [5, 6], alternatives: 12 }),
    syntheticTrace({ id: 6, at: T0 + 300, cached: true }),
  ];
}

describe('Chrome trace-event JSON', () => {
  it('follows the trace-event format: required fields, order, balanced nesting', () => {
    const chrome = toChromeTrace(sample());
    expect(traceEventProblems(chrome)).toEqual([]);
    expect(chrome.displayTimeUnit).toBe('ms');
    const x = chrome.traceEvents.filter((e) => e.ph === 'X');
    expect(new Set(x.map((e) => e.name))).toEqual(new Set(['editor', 'request', ...STAGES, 'round', 'draft', 'verify', 'accept']));
    // one track per document, a second lane for a.ts while requests 2 and 3 overlap
    const names = chrome.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args!.name);
    expect(names).toEqual(['a.ts', 'a.ts (2)', 'b c&d.ts']);
    // rounds nest under decode on the same track
    const decode = x.find((e) => e.name === 'decode' && e.args!.rid === 3)!;
    const rounds = x.filter((e) => e.name === 'round' && e.args!.rid === 3);
    expect(rounds).toHaveLength(4);
    for (const r of rounds) {
      expect(r.tid).toBe(decode.tid);
      expect(r.ts!).toBeGreaterThanOrEqual(decode.ts!);
      expect(r.ts! + r.dur!).toBeLessThanOrEqual(decode.ts! + decode.dur!);
    }
    expect(Number.isInteger(decode.ts) && Number.isInteger(decode.dur)).toBe(true);
  });

  it('the checker finds what breaks the format', () => {
    const bad = {
      traceEvents: [
        { name: 'a', ph: 'X', pid: 1, tid: 1, ts: 0, dur: 10 },
        { name: 'b', ph: 'X', pid: 1, tid: 1, ts: 5, dur: 10 },
        { name: 'c', ph: 'X', pid: 1, tid: 1, ts: 2, dur: 1 },
        { name: 'd', ph: 'X', pid: 1, tid: 2, ts: 1 },
        { ph: 'B', pid: 1, tid: 1, ts: 1, name: 'e' },
      ],
    };
    const p = traceEventProblems(bad).join('\n');
    expect(p).toContain('unbalanced nesting');
    expect(p).toContain('out of order');
    expect(p).toContain('dur must be');
    expect(p).toContain('only X and M');
    expect(traceEventProblems([])).toEqual(['no traceEvents array (JSON Object Format)']);
  });

  it('reads back to the same traces, to the microsecond', () => {
    const traces = sample();
    const back = readChromeTrace(JSON.parse(JSON.stringify(toChromeTrace(traces))));
    expect(back.map((t) => t.id)).toEqual([...traces].sort((a, b) => a.startedAt - b.startedAt).map((t) => t.id));
    for (const b of back) {
      const t = traces.find((x) => x.id === b.id)!;
      expect(b).toMatchObject({ uri: t.uri, outcome: t.outcome, version: t.version, trigger: t.trigger });
      expect(b.client).toEqual(t.client);
      expect(b.totalMs).toBeCloseTo(t.totalMs, 2);
      for (const [stage, ms] of Object.entries(t.stages)) expect(b.stages[stage as keyof typeof b.stages]).toBeCloseTo(ms, 2);
      const rounds = (r: RequestTrace) => r.spans!.children!.find((c) => c.name === 'decode')?.children?.map((c) => [c.attrs, c.children?.map((p) => p.name)]);
      expect(rounds(b)).toEqual(rounds(t));
      checkTree(b);
    }
    expect(parseTraces(JSON.stringify(toChromeTrace(traces))).format).toBe('chrome');
    expect(() => readChromeTrace({ traceEvents: [{ name: 'x', ph: 'X', pid: 1, tid: 1, ts: 0, dur: 1 }] })).toThrow(/not a Slipstream trace/);
  });
});

describe('reading a trace file', () => {
  it('takes JSON lines and skips lines that are not traces', () => {
    const lines = sample().map((t) => JSON.stringify(t));
    const r = parseTraces(`${lines.join('\n')}\n{"half": \n\n[1,2]\n`);
    expect(r).toMatchObject({ format: 'jsonl', skipped: 2 });
    expect(r.traces.map((t) => t.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => parseTraces('')).toThrow(/empty/);
    expect(() => parseTraces('hello\nworld\n')).toThrow(/not a Slipstream trace file/);
  });
});

describe('the summary', () => {
  it('gives each stage its percentiles (the project percentile) and share, over the answered requests', () => {
    const traces = sample();
    const s = summarize(traces, 2);
    const answered = traces.filter((t) => t.outcome !== 'superseded');
    expect(s).toMatchObject({ requests: 6, answered: 5, withSpans: 5, outcomes: { shown: 3, superseded: 1, cached: 2 } });
    expect(s.total!.p95).toBe(percentile(answered.map((t) => t.totalMs), 95));
    const prefill = s.stages.find((r) => r.name === 'prefill')!;
    expect(prefill.count).toBe(3);
    expect(prefill.p50).toBeCloseTo(30, 3);
    expect(prefill.max).toBeCloseTo(50, 3);
    const shares = s.stages.filter((r) => r.name !== 'editor').reduce((a, r) => a + r.share, 0);
    expect(shares).toBeCloseTo(1, 3);
    expect(s.stages[0]!.name).toBe('editor');
    expect(s.slowest.map((t) => t.id)).toEqual([5, 1]);
    expect(s.median!.id).toBe(1); // of the three that ran the engine
    expect(s.rounds).toMatchObject({ rounds: 9, modes: { redrafter: 9 }, accepted: 1, treeSize: 9 });
    const text = formatSummary(s);
    expect(text).toContain('6 requests: 5 answered (3 shown, 2 cached); 1 superseded');
    expect(text).toMatch(/prefill\s+3\s+30\.0\s+50\.0\s+50\.0\s+50\.0/);
    expect(text).toContain('#5 b%20c&d.ts v5 shown');
  });
});

describe('the SVG and HTML reports', () => {
  it('the SVG is well-formed XML and shows every stage, the histogram and both waterfalls', () => {
    const svg = renderSvg(sample(), 'latency of <a & b>');
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(svg);
    expect(doc.svg['@_xmlns']).toBe('http://www.w3.org/2000/svg');
    const texts: string[] = (doc.svg.text as (string | { '#text': string })[]).map((t) => String(typeof t === 'string' ? t : t['#text']));
    for (const stage of STAGES) expect(texts.some((t) => t.startsWith(`${stage} `))).toBe(true);
    expect(texts).toContain('latency of <a & b>');
    expect(texts).toContain('Where the time went');
    expect(texts).toContain('Latency of answered requests');
    expect(texts).toContain('Median request that ran the engine');
    expect(texts).toContain('Slowest request');
    expect(svg).toContain('&lt;a &amp; b&gt;');
  });

  it('the HTML page carries the picture and tables and no script', () => {
    const html = renderHtml(sample(), { title: 'T', csp: "default-src 'none'" });
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(html).toContain('<h2>Slowest requests</h2>');
    expect(html).toContain('content="default-src &apos;none&apos;"');
    expect(html).not.toMatch(/<script/i);
    for (const stage of STAGES) expect(html).toContain(`</span>${stage}</td>`);
  });

  it('draws something sensible with no answered request', () => {
    const only = [syntheticTrace({ id: 1, at: T0, outcome: 'cancelled' })];
    const svg = renderSvg(only);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('1 requests, none answered');
  });

  it('axis steps are 1, 2 or 5 times a power of ten', () => {
    expect([niceStep(100, 10), niceStep(73, 8), niceStep(0.9, 4), niceStep(3000, 6), niceStep(0.7, 4)]).toEqual([10, 10, 0.5, 500, 0.2]);
  });
});
