/**
 * `slipstream bench keystrokes --multi`: keystroke memory (issue 14) measured on a multi-document
 * session against a real `slipstream serve --stdio`. A developer writes in three files of
 * fixtures/workspace/src: in each, at a seeded spot, a region of the file is deleted when they
 * first get there, and each visit (visits switch files and come back) types its next characters
 * one at a time, a completion request after each keystroke, continuing where the last visit to
 * that file stopped; a suggestion that starts with what they were about to type (3 characters or
 * more) is accepted up to there, after reading it for READ_BEFORE_ACCEPT_MS. The session runs three
 * times in one run on fresh servers: cache.enabled on, on with cache.prefetch off, and off; the later
 * passes replay the first one's edits exactly (the same keystrokes and accepts), so all see the same texts. Then, cache on, 20 documents each get a request under a small
 * cache.kvBudgetMB and the KV bytes are sampled after each. Figures from the client (latency) and
 * the server's traces and status (engine ms, prompt / reused tokens, hit kind, drafts, KV bytes).
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RequestTrace, StatusResult } from '../server/src/protocol.js';
import { latencySummary, planSpots, type LatencySummary } from './keystroke-plan.js';
import { LspClient } from './lib/lsp-client.js';
import { Docs } from './lib/lsp-docs.js';

export const MULTI_FILES = ['lru-cache.ts', 'stats.ts', 'text-lines.ts'];
/** Which file each visit types in: switching away and coming back. */
const VISIT_ORDER = [0, 1, 0, 2, 0, 1, 2, 1, 0];
/** A suggestion is accepted when it starts with at least this many of the next characters. */
const ACCEPT_MIN = 3;
/** The developer reads a suggestion this long before accepting it (every pass alike); keystrokes follow answers at once. */
const READ_BEFORE_ACCEPT_MS = 300;
/** The many-documents check: documents opened, and the KV budget in MiB. */
const MANY_DOCS = 20;
const MANY_BUDGET_MB = 16;
/** Of those, how many are visited again at the end, most recently dropped first. */
const REVISIT_DOCS = 5;

export interface MultiOptions {
  root: string;
  serverArgs: string[];
  /** 'redrafter' with a drafter; 'auto' without one (plain decoding with prompt lookup, as a server runs it). */
  mode: 'auto' | 'redrafter';
  visits: number;
  chars: number;
  seed: number;
  debounceMs: number;
  maxTokens: number | null;
  threads?: number;
  log: (s: string) => void;
}

type Edit = { kind: 'type' | 'accept'; text: string };

interface Visit {
  doc: number;
  /** Where the document's region starts, and its text (deleted at the first visit). */
  region: number;
  regionText: string;
  /** The first visit to the document; the last one (the file is whole again after it). */
  first: boolean;
  last: boolean;
  /** Where in the region this visit starts typing, and what it types. */
  at: number;
  typed: string;
}

export interface MultiRequest {
  visit: number;
  doc: string;
  /** The first request of a visit (after switching to the document). */
  first: boolean;
  /** The visit comes back to a document already typed in (else it is the first visit: a new spot, its region just deleted). */
  returning: boolean;
  after: 'type' | 'accept';
  latency_ms: number;
  outcome: string;
  cache_hit: string | null;
  prompt_tokens: number | null;
  reused_tokens: number | null;
  engine_ms: number;
  suggestion: string;
}

export interface MultiPass {
  cache: boolean;
  /** cache.prefetch (with the cache on). */
  prefetch_on: boolean;
  keystrokes: number;
  requests: number;
  latency_ms: LatencySummary | null;
  /** Requests answered from the suggestion cache (typing through, attached) and their latency. */
  answered_without_engine: number;
  without_engine_share: number;
  cache_answer_latency_ms: LatencySummary | null;
  engine_calls: number;
  engine_ms_per_keystroke: number;
  prefill_tokens_per_keystroke: number;
  median_prefill_per_engine_call: number | null;
  /** The first engine call of each visit that comes back to a document (the first visits start at a new spot). */
  median_prefill_first_after_switch_back: number | null;
  /** The same for the first visits. */
  median_prefill_first_at_new_spot: number | null;
  drafts: { offered: number; accepted: number };
  /**
   * The server's prefetches (cache.prefetch): computed, answered from, abandoned for a request, and
   * the engine ms they took (background work, not in engine_ms_per_keystroke).
   */
  prefetch: { computed: number; used: number; abandoned: number; engine_ms: number };
  kv_bytes_max: number;
  kv_budget_bytes: number;
  chars_accepted: number;
  chars_typed: number;
  requests_detail: MultiRequest[];
}

export interface ManyDocs {
  documents: number;
  budget_bytes: number;
  kv_bytes_max: number;
  sessions_max: number;
  evictions: number;
  /** The engine's shared block pool: most resident blocks, blocks found by prefills, blocks evicted. */
  pool_blocks_max: number;
  pool_hits: number;
  pool_evictions: number;
  /**
   * After all 20, REVISIT_DOCS documents again, the most recently dropped first (documents 16, 15,
   * ...: their sessions were dropped, the last 3 or so still have one): one character typed at the
   * same spot, a request; the prompt and the tokens it reused (from the engine's shared block
   * pool, their sessions being gone), and the median of what it prefilled.
   */
  revisits: { doc: number; prompt_tokens: number | null; reused_tokens: number | null; outcome: string }[];
  median_prefill_revisit: number | null;
}

export interface MultiResult {
  /** Cache on, cache on without prefetch, cache off: the same edits. */
  passes: MultiPass[];
  /** off / on of engine ms per keystroke (the target: >= 3). */
  engine_ms_ratio: number;
  many_docs: ManyDocs;
}

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.ceil(s.length / 2) - 1]!;
};

/** Several open documents over one LspClient connection (the client's own document is not used). */

function planVisits(root: string, visits: number, chars: number, seed: number): { files: string[]; texts: string[]; plan: Visit[] } {
  const files = MULTI_FILES.map((f) => resolve(root, 'fixtures', 'workspace', 'src', f));
  const texts = files.map((f) => readFileSync(f, 'utf8'));
  const order = Array.from({ length: visits }, (_, i) => VISIT_ORDER[i % VISIT_ORDER.length]!);
  const counts = texts.map((_, d) => order.filter((x) => x === d).length);
  const regions = texts.map((t, d) => {
    const start = planSpots(t, 1, 1, seed + d)[0]!.offset;
    return { start, text: t.slice(start, start + chars * counts[d]!) };
  });
  const used = texts.map(() => 0);
  const plan = order.map((doc): Visit => {
    const k = used[doc]!++;
    const r = regions[doc]!;
    return { doc, region: r.start, regionText: r.text, first: k === 0, last: k === counts[doc]! - 1, at: k * chars, typed: r.text.slice(k * chars, (k + 1) * chars) };
  });
  return { files, texts, plan };
}

/** One pass of the session. With `script` it replays those edits; without, it decides them (accepts) and returns them. */
async function runPass(o: MultiOptions, cache: boolean, script: Edit[][] | null, prefetch = true): Promise<{ pass: MultiPass; script: Edit[][] }> {
  const { files, texts, plan } = planVisits(o.root, o.visits, o.chars, o.seed);
  const client = new LspClient(o.serverArgs);
  const docs = new Docs(client);
  const uris = files.map((f) => pathToFileURL(f).href);
  const made: Edit[][] = [];
  const pending: { req: Omit<MultiRequest, 'outcome' | 'cache_hit' | 'prompt_tokens' | 'reused_tokens' | 'engine_ms'>; version: number; uri: string }[] = [];
  let kvMax = 0;
  let budget = 0;
  let accepted = 0;
  let typedChars = 0;
  try {
    await client.initialize({
      engine: { mode: o.mode, ...(o.threads !== undefined ? { threads: o.threads } : {}) },
      completion: { debounceMs: o.debounceMs, ...(o.maxTokens !== null ? { maxTokens: o.maxTokens } : {}) },
      cache: { enabled: cache, prefetch },
      trace: { capacity: 100000, spans: true },
    });
    // outside the measurement: load the model; each document's session holds its file (a request at its end)
    for (const [d, uri] of uris.entries()) {
      await docs.open(uri, texts[d]!);
      await docs.complete(uri, texts[d]!.length, 1);
    }
    const status0 = await client.status();
    if (status0.engine.state !== 'ready') throw new Error(`the server did not load the model: ${status0.engine.error?.message ?? status0.engine.state}`);
    const before = (await client.traces(0)).reduce((m, t) => Math.max(m, t.id), 0);
    for (const [v, visit] of plan.entries()) {
      const uri = uris[visit.doc]!;
      if (visit.first) await docs.edit(uri, visit.region, visit.region + visit.regionText.length, '');
      const start = visit.region + visit.at;
      const edits: Edit[] = [];
      let pos = 0;
      let first = true;
      const ask = async (after: 'type' | 'accept'): Promise<string> => {
        const { list, ms } = await docs.complete(uri, start + pos);
        const item = list?.items[0];
        const suggestion = typeof item?.insertText === 'string' ? item.insertText : '';
        pending.push({ uri, version: docs.version.get(uri)!, req: { visit: v, doc: basename(files[visit.doc]!), first, returning: !visit.first, after, latency_ms: ms, suggestion } });
        first = false;
        return suggestion;
      };
      const apply = async (e: Edit): Promise<string> => {
        if (e.kind === 'accept') await new Promise((r) => setTimeout(r, READ_BEFORE_ACCEPT_MS));
        await docs.edit(uri, start + pos, start + pos, e.text);
        pos += e.text.length;
        if (e.kind === 'accept') accepted += e.text.length;
        else typedChars += e.text.length;
        edits.push(e);
        return ask(e.kind);
      };
      if (script) {
        for (const e of script[v]!) await apply(e);
      } else {
        while (pos < visit.typed.length) {
          const suggestion = await apply({ kind: 'type', text: visit.typed[pos]! });
          const rest = visit.typed.slice(pos);
          let m = 0;
          while (m < suggestion.length && m < rest.length && suggestion[m] === rest[m]) m++;
          if (m >= ACCEPT_MIN) await apply({ kind: 'accept', text: rest.slice(0, m) });
        }
      }
      made.push(edits);
      if (visit.last && docs.text.get(uri) !== texts[visit.doc]) throw new Error(`internal: ${files[visit.doc]} differs after visit ${v}`);
      const s = await client.status();
      kvMax = Math.max(kvMax, s.cache.kv?.bytes ?? 0);
      budget = s.cache.kv?.budgetBytes ?? 0;
    }
    const traces = new Map<string, RequestTrace>();
    let prefetchMs = 0;
    for (const t of await client.traces(before)) {
      if (t.version !== null) traces.set(`${t.uri} ${t.version}`, t);
      else if (t.trigger === 'prefetch') prefetchMs += (t.stages.prefill ?? 0) + (t.stages.decode ?? 0);
    }
    const requests: MultiRequest[] = pending.map((p) => {
      const t = traces.get(`${p.uri} ${p.version}`);
      if (!t) throw new Error(`no trace for ${p.uri} version ${p.version}`);
      if (t.outcome === 'error') throw new Error(`the server failed a completion: ${t.error ?? ''}`);
      return {
        ...p.req,
        outcome: t.outcome,
        cache_hit: t.cacheHit ?? null,
        prompt_tokens: t.promptTokens ?? null,
        reused_tokens: t.reusedTokens ?? null,
        engine_ms: (t.stages.prefill ?? 0) + (t.stages.decode ?? 0),
      };
    });
    const final: StatusResult = await client.status();
    return { pass: { ...summarizePass(cache, requests, typedChars, accepted, final, kvMax, budget, prefetchMs), prefetch_on: cache && prefetch }, script: made };
  } finally {
    await client.close();
  }
}

function summarizePass(cache: boolean, rs: MultiRequest[], typed: number, accepted: number, s: StatusResult, kvMax: number, budget: number, prefetchMs: number): Omit<MultiPass, 'prefetch_on'> {
  const answered = rs.filter((r) => r.outcome === 'shown' || r.outcome === 'cached' || r.outcome === 'empty');
  const fromCache = rs.filter((r) => r.outcome === 'cached');
  const engine = rs.filter((r) => r.prompt_tokens !== null);
  const prefill = (r: MultiRequest): number => r.prompt_tokens! - (r.reused_tokens ?? 0);
  const keystrokes = rs.length;
  const firstEngine = [...new Set(rs.map((r) => r.visit))].map((v) => engine.find((r) => r.visit === v)).filter((r): r is MultiRequest => r !== undefined);
  return {
    cache,
    keystrokes,
    requests: rs.length,
    latency_ms: answered.length > 0 ? latencySummary(answered.map((r) => r.latency_ms)) : null,
    answered_without_engine: fromCache.length,
    without_engine_share: rs.length > 0 ? fromCache.length / rs.length : 0,
    cache_answer_latency_ms: fromCache.length > 0 ? latencySummary(fromCache.map((r) => r.latency_ms)) : null,
    engine_calls: engine.length,
    engine_ms_per_keystroke: rs.reduce((n, r) => n + r.engine_ms, 0) / Math.max(1, keystrokes),
    prefill_tokens_per_keystroke: engine.reduce((n, r) => n + prefill(r), 0) / Math.max(1, keystrokes),
    median_prefill_per_engine_call: median(engine.map(prefill)),
    median_prefill_first_after_switch_back: median(firstEngine.filter((r) => r.returning).map(prefill)),
    median_prefill_first_at_new_spot: median(firstEngine.filter((r) => !r.returning).map(prefill)),
    drafts: { offered: s.cache.drafts.offered, accepted: s.cache.drafts.accepted },
    prefetch: { ...s.cache.prefetched, engine_ms: prefetchMs },
    kv_bytes_max: kvMax,
    kv_budget_bytes: budget,
    chars_accepted: accepted,
    chars_typed: typed,
    requests_detail: rs,
  };
}

/** Cache on, a small budget: a request in each of MANY_DOCS documents; the KV bytes after each. */
async function manyDocs(o: MultiOptions): Promise<ManyDocs> {
  const { texts } = planVisits(o.root, 1, o.chars, o.seed);
  const client = new LspClient(o.serverArgs);
  const docs = new Docs(client);
  let kvMax = 0;
  let sessionsMax = 0;
  let blocksMax = 0;
  try {
    await client.initialize({ engine: { mode: o.mode }, completion: { debounceMs: 0, maxTokens: 8 }, cache: { enabled: true, kvBudgetMB: MANY_BUDGET_MB }, trace: { capacity: 10000, spans: true } });
    let last: StatusResult | null = null;
    const sample = async (): Promise<void> => {
      last = await client.status();
      kvMax = Math.max(kvMax, last.cache.kv?.bytes ?? 0);
      sessionsMax = Math.max(sessionsMax, last.cache.kv?.sessions ?? 0);
      blocksMax = Math.max(blocksMax, last.cache.kv?.blocks ?? 0);
    };
    const spot = (i: number): number => Math.floor(texts[i % texts.length]!.length / 2);
    const shown: string[] = [];
    for (let i = 0; i < MANY_DOCS; i++) {
      const uri = `file:///bench/many/doc${i}.ts`;
      const text = texts[i % texts.length]!;
      await docs.open(uri, text);
      const { list } = await docs.complete(uri, spot(i), 1);
      const item = list?.items[0];
      shown.push(typeof item?.insertText === 'string' ? item.insertText : '');
      await sample();
    }
    // come back to the first documents: a character that differs from the suggestion shown there
    // (so the suggestion cache cannot answer), then a request
    const before = (await client.traces(0)).reduce((m, t) => Math.max(m, t.id), 0);
    const asked: { doc: number; uri: string; version: number }[] = [];
    for (let k = 0; k < REVISIT_DOCS; k++) {
      const i = MANY_DOCS - 4 - k;  // the most recently dropped first (the last 3 or so still have sessions)
      const uri = `file:///bench/many/doc${i}.ts`;
      const ch = shown[i]!.startsWith(' ') ? ';' : ' ';
      await docs.edit(uri, spot(i), spot(i), ch);
      await docs.complete(uri, spot(i) + 1, 1);
      asked.push({ doc: i, uri, version: docs.version.get(uri)! });
      await sample();
    }
    const traces = await client.traces(before);
    const revisits = asked.map((a) => {
      const t = traces.find((x) => x.uri === a.uri && x.version === a.version);
      return { doc: a.doc, prompt_tokens: t?.promptTokens ?? null, reused_tokens: t?.reusedTokens ?? null, outcome: t?.outcome ?? 'no trace' };
    });
    const prefills = revisits.filter((r) => r.prompt_tokens !== null).map((r) => r.prompt_tokens! - (r.reused_tokens ?? 0));
    const kv = (last as StatusResult | null)?.cache.kv;
    return {
      documents: MANY_DOCS,
      budget_bytes: MANY_BUDGET_MB * 1024 * 1024,
      kv_bytes_max: kvMax,
      sessions_max: sessionsMax,
      evictions: kv?.evictions ?? 0,
      pool_blocks_max: blocksMax,
      pool_hits: kv?.pool?.hits ?? 0,
      pool_evictions: kv?.pool?.evictions ?? 0,
      revisits,
      median_prefill_revisit: median(prefills),
    };
  } finally {
    await client.close();
  }
}

export async function runMultiSession(o: MultiOptions): Promise<MultiResult> {
  o.log(`bench keystrokes --multi: ${o.visits} visits over ${MULTI_FILES.join(', ')}, ${o.chars} characters each, mode ${o.mode}, debounce ${o.debounceMs} ms; cache on, then off`);
  const on = await runPass(o, true, null);
  o.log('bench keystrokes --multi: cache on, prefetch off (the same edits)');
  const noPrefetch = await runPass(o, true, on.script, false);
  const off = await runPass(o, false, on.script);
  o.log(`bench keystrokes --multi: ${MANY_DOCS} documents under cache.kvBudgetMB ${MANY_BUDGET_MB}`);
  const many = await manyDocs(o);
  return {
    passes: [on.pass, noPrefetch.pass, off.pass],
    engine_ms_ratio: on.pass.engine_ms_per_keystroke > 0 ? off.pass.engine_ms_per_keystroke / on.pass.engine_ms_per_keystroke : 0,
    many_docs: many,
  };
}

export function formatMulti(r: MultiResult): string {
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const lat = (l: LatencySummary | null): string => (l ? `${ms(l.p50)} / ${ms(l.p90)} / ${ms(l.p99)}` : '-');
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const mib = (b: number): string => `${(b / 1048576).toFixed(2)} MiB`;
  const passes = r.passes;
  const row = (label: string, f: (p: MultiPass) => string): string[] => [label, ...passes.map(f)];
  const rows: string[][] = [
    ['', ...passes.map((p) => (!p.cache ? 'cache off' : p.prefetch_on ? 'cache on' : 'cache on, no prefetch'))],
    row('requests (keystrokes + accepts)', (p) => `${p.requests}`),
    row('latency p50 / p90 / p99', (p) => lat(p.latency_ms)),
    row('answered without the engine', (p) => `${pct(p.without_engine_share)} (${p.answered_without_engine})`),
    row('  their latency p50 / p90 / p99', (p) => lat(p.cache_answer_latency_ms)),
    row('engine calls', (p) => `${p.engine_calls}`),
    row('engine ms per request', (p) => ms(p.engine_ms_per_keystroke)),
    row('prefill tokens per request', (p) => p.prefill_tokens_per_keystroke.toFixed(1)),
    row('median prefill per engine call', (p) => `${p.median_prefill_per_engine_call ?? '-'}`),
    row('  first call after switching back', (p) => `${p.median_prefill_first_after_switch_back ?? '-'}`),
    row('  first call at a new spot', (p) => `${p.median_prefill_first_at_new_spot ?? '-'}`),
    row('prefetches computed / used / abandoned', (p) => `${p.prefetch.computed} / ${p.prefetch.used} / ${p.prefetch.abandoned}`),
    row('  their engine ms per request', (p) => ms(p.prefetch.engine_ms / Math.max(1, p.requests))),
    row('draft tokens offered / accepted', (p) => `${p.drafts.offered} / ${p.drafts.accepted}`),
    row('KV bytes max (budget)', (p) => `${mib(p.kv_bytes_max)} (${mib(p.kv_budget_bytes)})`),
    row('characters accepted / typed', (p) => `${p.chars_accepted} / ${p.chars_typed}`),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((x) => x[c]!.length)) + 2);
  const m = r.many_docs;
  return (
    rows.map((x) => x.map((cell, c) => (c < x.length - 1 ? cell.padEnd(widths[c]!) : cell)).join('')).join('\n') +
    `\nengine ms per request, off / on: ${r.engine_ms_ratio.toFixed(2)}x\n` +
    `${m.documents} documents, budget ${mib(m.budget_bytes)}: KV bytes max ${mib(m.kv_bytes_max)}, sessions max ${m.sessions_max}, evictions ${m.evictions}\n` +
    `  engine block pool: blocks max ${m.pool_blocks_max}, blocks found ${m.pool_hits}, evicted ${m.pool_evictions}\n` +
    `  revisiting ${m.revisits.length} whose sessions were dropped: median prefill ${m.median_prefill_revisit ?? '-'} tokens; ` +
    m.revisits.map((r) => `doc${r.doc} ` + (r.prompt_tokens !== null ? `${r.prompt_tokens - (r.reused_tokens ?? 0)} of ${r.prompt_tokens}` : r.outcome)).join(', ') +
    '\n'
  );
}
