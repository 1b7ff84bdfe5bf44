/**
 * `slipstream bench prefetch`: what prefetch (cache.prefetch, server/src/completion/prefetch.ts) gives a
 * developer who accepts whole suggestions. At seeded line ends of three files of fixtures/workspace
 * (the files whole, as a developer adding to them finds them), the client asks for a suggestion,
 * reads it for READ_MS, accepts all of it and asks again at its end (what an editor does after an
 * accept); the accept is then undone and the next spot follows. Two passes on fresh servers in one
 * run, cache on with prefetch on and off, the same spots: the latency of the request after the
 * accept, how many came from a prefetch, what the prefetches cost the engine, and whether the
 * suggestions after the accept are the same in both passes (caches change speed, never output).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ParsedArgs } from '../server/src/cli/args.js';
import { existingDir } from '../server/src/cli/paths.js';
import { defaultModelDirs } from '../server/src/completion/default-model.js';
import { packageRoot } from '../server/src/package-root.js';
import type { RequestTrace } from '../server/src/protocol.js';
import { latencySummary, planLineEnds, type LatencySummary, type LineEnd as Spot } from './keystroke-plan.js';
import { MULTI_FILES } from './keystrokes-multi.js';
import { LspClient } from './lib/lsp-client.js';
import { Docs } from './lib/lsp-docs.js';

/** How long the developer reads a suggestion before accepting it. */
const READ_MS = 300;

interface AcceptRow {
  file: string;
  line: number;
  shown: string;
  /** The suggestion after the accept ('' when none). */
  next: string;
  next_ms: number;
  cache_hit: string | null;
}

export interface PrefetchPass {
  prefetch: boolean;
  spots: number;
  /** Spots where a suggestion was shown and accepted. */
  accepts: number;
  after_accept_latency_ms: LatencySummary | null;
  /** Requests after an accept answered by a prefetch: from the cache, or attached to it still running. */
  from_prefetch: number;
  prefetches: { computed: number; used: number; abandoned: number; engine_ms: number };
  rows: AcceptRow[];
}

export interface PrefetchResult {
  passes: PrefetchPass[];
  /** Spots whose suggestion after the accept is the same in both passes, of those accepted in both. */
  same_after_accept: number;
  compared: number;
}

async function runPass(serverArgs: string[], files: string[], texts: string[], spots: Spot[], prefetch: boolean, mode: string): Promise<PrefetchPass> {
  const client = new LspClient(serverArgs);
  const docs = new Docs(client);
  const uris = files.map((f) => pathToFileURL(f).href);
  try {
    await client.initialize({ engine: { mode }, completion: { debounceMs: 0 }, cache: { enabled: true, prefetch }, trace: { capacity: 100000 } });
    for (const [d, uri] of uris.entries()) {
      await docs.open(uri, texts[d]!);
      await docs.complete(uri, texts[d]!.length, 1); // outside the measurement: load, fill each session
    }
    const before = (await client.traces(0)).reduce((m, t) => Math.max(m, t.id), 0);
    const rows: AcceptRow[] = [];
    for (const s of spots) {
      const uri = uris[s.doc]!;
      const { list } = await docs.complete(uri, s.offset);
      const shown = typeof list?.items[0]?.insertText === 'string' ? list.items[0].insertText : '';
      if (shown === '') continue;
      await new Promise((r) => setTimeout(r, READ_MS));
      await docs.edit(uri, s.offset, s.offset, shown);
      const after = await docs.complete(uri, s.offset + shown.length);
      const next = typeof after.list?.items[0]?.insertText === 'string' ? after.list.items[0].insertText : '';
      const line = texts[s.doc]!.slice(0, s.offset).split('\n').length;
      rows.push({ file: MULTI_FILES[s.doc]!, line, shown, next, next_ms: after.ms, cache_hit: null });
      await docs.edit(uri, s.offset, s.offset + shown.length, ''); // undo the accept
      (rows.at(-1) as AcceptRow & { version?: number }).version = docs.version.get(uri)! - 1;
    }
    const traces = await client.traces(before);
    const byVersion = new Map<string, RequestTrace>();
    let prefetchMs = 0;
    for (const t of traces) {
      if (t.version !== null) byVersion.set(`${t.uri} ${t.version}`, t);
      else if (t.trigger === 'prefetch') prefetchMs += (t.stages.prefill ?? 0) + (t.stages.decode ?? 0);
    }
    for (const r of rows as (AcceptRow & { version?: number })[]) {
      r.cache_hit = byVersion.get(`${uris[MULTI_FILES.indexOf(r.file)]} ${r.version}`)?.cacheHit ?? null;
      delete r.version;
    }
    const s = await client.status();
    return {
      prefetch,
      spots: spots.length,
      accepts: rows.length,
      after_accept_latency_ms: rows.length > 0 ? latencySummary(rows.map((r) => r.next_ms)) : null,
      // from the prefetch's cache entry, or waiting for the prefetch still running (nothing else runs here)
      from_prefetch: rows.filter((r) => r.cache_hit === 'prefetched' || (prefetch && r.cache_hit === 'attached')).length,
      prefetches: { ...s.cache.prefetched, engine_ms: prefetchMs },
      rows,
    };
  } finally {
    await client.close();
  }
}

export function formatPrefetch(r: PrefetchResult): string {
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const lines = ['', ...r.passes.map((p) => `prefetch ${p.prefetch ? 'on' : 'off'}`)];
  const row = (label: string, f: (p: PrefetchPass) => string): string[] => [label, ...r.passes.map(f)];
  const rows = [
    lines,
    row('spots / accepted', (p) => `${p.spots} / ${p.accepts}`),
    row('after an accept: latency p50 / p90 / max', (p) => (p.after_accept_latency_ms ? `${ms(p.after_accept_latency_ms.p50)} / ${ms(p.after_accept_latency_ms.p90)} / ${ms(p.after_accept_latency_ms.max)}` : '-')),
    row('  answered by a prefetch (cached or attached)', (p) => `${p.from_prefetch} (${p.rows.filter((x) => x.cache_hit === 'prefetched').length} / ${p.rows.filter((x) => x.cache_hit === 'attached').length})`),
    row('prefetches computed / used / abandoned', (p) => `${p.prefetches.computed} / ${p.prefetches.used} / ${p.prefetches.abandoned}`),
    row('  their engine ms', (p) => ms(p.prefetches.engine_ms)),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((x) => x[c]!.length)) + 2);
  return `${rows.map((x) => x.map((cell, c) => (c < x.length - 1 ? cell.padEnd(widths[c]!) : cell)).join('')).join('\n')}\nsame suggestion after the accept in both passes: ${r.same_after_accept} of ${r.compared}\n`;
}

export async function runPrefetchBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const shipped = defaultModelDirs();
  const modelDir = existingDir('model', (f.model as string | undefined) ?? shipped.model);
  const drafterDir = f.drafter !== undefined ? existingDir('drafter', f.drafter as string) : f.model === undefined ? existingDir('drafter', shipped.drafter) : null;
  const files = MULTI_FILES.map((x) => resolve(packageRoot(), 'fixtures', 'workspace', 'src', x));
  const texts = files.map((x) => readFileSync(x, 'utf8'));
  const spots = planLineEnds(texts, (f.spots as number | undefined) ?? 12, (f.seed as number | undefined) ?? 1);
  const serverArgs = ['--model', modelDir, ...(drafterDir ? ['--drafter', drafterDir] : [])];
  const mode = drafterDir ? 'redrafter' : 'ar';
  process.stderr.write(`bench prefetch: ${spots.length} line ends over ${MULTI_FILES.join(', ')}; prefetch on, then off\n`);
  const on = await runPass(serverArgs, files, texts, spots, true, mode);
  const off = await runPass(serverArgs, files, texts, spots, false, mode);
  const both = on.rows.filter((r) => off.rows.some((o) => o.file === r.file && o.line === r.line));
  const same = both.filter((r) => off.rows.find((o) => o.file === r.file && o.line === r.line)!.next === r.next).length;
  const result: PrefetchResult = { passes: [on, off], same_after_accept: same, compared: both.length };
  process.stdout.write(formatPrefetch(result));
  if (f.out !== undefined) writeFileSync(f.out as string, `${JSON.stringify(result, null, 2)}\n`);
  return same === both.length ? 0 : 1;
}
