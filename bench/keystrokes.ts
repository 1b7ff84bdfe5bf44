/**
 * `slipstream bench keystrokes [--model DIR] [--drafter DIR] [--multi]`: what a user typing feels
 * (default: the shipped model and drafter; --multi: the multi-document session with the cache on
 * and off, keystrokes-multi.ts). Drives a
 * real `slipstream serve --stdio` like an editor (lib/lsp-client.ts): at K seeded spots of a file it
 * deletes the next N characters of the line and types them back, an inline completion request
 * after every keystroke, with the keystroke's time and a trace id as an editor sends them
 * (clientTrace). Per request: client-side latency, typing-through cache or engine, and the prompt /
 * KV-reused tokens from the server's trace (slipstream/traces). Table on stdout; --out JSON; the
 * server's traces of the measured requests as JSON lines (--trace, or beside --out), for
 * `slipstream trace`. --compare-tracing types every spot twice, with the server's spans on and off
 * in alternating order, and reports what tracing costs. --record FILE writes every message the
 * client sent, one JSON line each (the fuzzer's seed traffic). --compare-healing does the same with
 * token healing (slipstream.completion.tokenHealing) on and off: what healing costs per keystroke;
 * --compare-lookup with prompt lookup (slipstream.engine.promptLookup) at its default and off.
 * --weights and --psm-typed-lines set the server's engine.weights and completion.psmTypedLines.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { extname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InlineCompletionList } from 'vscode-languageserver';
import { UsageError, type ParsedArgs } from '../server/src/cli/args.js';
import { existingDir, existingFile } from '../server/src/cli/paths.js';
import { defaultSettings } from '../server/src/config.js';
import { packageRoot } from '../server/src/package-root.js';
import type { Outcome, RequestTrace } from '../server/src/protocol.js';
import { nowMs } from '../server/src/trace/clock.js';
import { latencySummary, planSpots, type LatencySummary } from './keystroke-plan.js';
import { LspClient } from './lib/lsp-client.js';
import { formatMulti, runMultiSession } from './keystrokes-multi.js';
import { defaultModelDirs } from '../server/src/completion/default-model.js';

export interface KeystrokeRecord {
  spot: number;
  /** 0 for the first keystroke at a spot. */
  keystroke: number;
  line: number;
  character: number;
  typed: string;
  /** Client-side: request sent to answer received. */
  latency_ms: number;
  outcome: Outcome;
  source: 'cache' | 'engine' | 'none';
  server_ms: number;
  debounce_ms: number;
  prefill_ms: number;
  decode_ms: number;
  prompt_tokens: number | null;
  reused_tokens: number | null;
  generated_tokens: number | null;
  suggestion: string;
  /** The suggestion began with the next character to type (null after a spot's last keystroke). */
  predicted_next: boolean | null;
  /** Answered with what was generated when the time budget ended (completion.timeBudgetMs), the generation going on. */
  early: boolean;
  /** With --compare-tracing: whether the server recorded spans for this request. */
  tracing?: boolean;
  /** With --compare-healing: whether token healing was on for this request. */
  healing?: boolean;
  /** With --compare-lookup: whether prompt lookup was on for this request. */
  lookup?: boolean;
}

export interface KeystrokeGroup {
  requests: number;
  /** Requests answered for the text they were asked about (shown, cached, empty). */
  answered: number;
  /** Over the answered requests; null when none was. */
  latency_ms: LatencySummary | null;
  cache_hits: number;
  cache_share: number;
  engine_requests: number;
  mean_prompt_tokens: number;
  mean_reused_tokens: number;
  reused_share: number;
  mean_debounce_ms: number;
  predicted_next_share: number;
  /** Answered requests answered at the time budget (KeystrokeRecord.early). */
  early_answers: number;
}

export interface KeystrokeBenchResult {
  model: string;
  drafter: string | null;
  mode: string;
  file: string;
  spots: number;
  chars: number;
  seed: number;
  interval_ms: number;
  debounce_ms: number | null;
  max_tokens: number | null;
  /** --time-budget-ms (null: the server's default). */
  time_budget_ms: number | null;
  /** --psm-typed-lines (null: the server's default). */
  psm_typed_lines: string | null;
  outcomes: Partial<Record<Outcome, number>>;
  all: KeystrokeGroup;
  first_keystroke: KeystrokeGroup;
  following_keystrokes: KeystrokeGroup;
  /** With --compare-tracing: the same keystrokes with the server's spans on and off. */
  tracing_cost?: TracingCost;
  /** With --compare-healing: the same keystrokes with token healing on and off (TracingCost's figures). */
  healing_cost?: TracingCost;
  /** With --compare-lookup: the same keystrokes with prompt lookup on and off (TracingCost's figures). */
  lookup_cost?: TracingCost;
  requests: KeystrokeRecord[];
}

export interface TracingCost {
  /** Keystrokes answered by the engine in both passes (the pairs compared). */
  pairs: number;
  /** Mean client-side latency of those requests with spans on / off. */
  on_mean_ms: number;
  off_mean_ms: number;
  /** (on - off) / off of the means. */
  cost: number;
  /** Median of the per-keystroke differences on - off. */
  median_diff_ms: number;
  /** Mean of the per-keystroke differences without the 10% lowest and 10% highest (outliers of a shared machine). */
  trimmed_mean_diff_ms: number;
  /** The median difference over the median latency with spans off. */
  median_cost: number;
  /** The same for the server's own total (receipt to answer). */
  server_on_mean_ms: number;
  server_off_mean_ms: number;
  server_cost: number;
  /** Pairs whose two answers held the same suggestion (with prompt lookup: every pair, as it is exact). */
  same_suggestions: number;
}

const LANGUAGES: Record<string, string> = { '.ts': 'typescript', '.js': 'javascript', '.py': 'python', '.rs': 'rust', '.go': 'go', '.c': 'c', '.cpp': 'cpp' };
const ANSWERED: ReadonlySet<Outcome> = new Set<Outcome>(['shown', 'cached', 'empty']);

const mean = (xs: number[]): number => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export function summarize(rs: KeystrokeRecord[]): KeystrokeGroup {
  const answered = rs.filter((r) => ANSWERED.has(r.outcome));
  const engine = rs.filter((r) => r.source === 'engine');
  const withReuse = engine.filter((r) => r.prompt_tokens !== null && r.reused_tokens !== null);
  const prompt = withReuse.reduce((s, r) => s + r.prompt_tokens!, 0);
  const reused = withReuse.reduce((s, r) => s + r.reused_tokens!, 0);
  const cacheHits = rs.filter((r) => r.source === 'cache').length;
  const predictable = rs.filter((r) => r.predicted_next !== null);
  return {
    requests: rs.length,
    answered: answered.length,
    latency_ms: answered.length > 0 ? latencySummary(answered.map((r) => r.latency_ms)) : null,
    cache_hits: cacheHits,
    cache_share: rs.length > 0 ? cacheHits / rs.length : 0,
    engine_requests: engine.length,
    mean_prompt_tokens: withReuse.length > 0 ? prompt / withReuse.length : 0,
    mean_reused_tokens: withReuse.length > 0 ? reused / withReuse.length : 0,
    reused_share: prompt > 0 ? reused / prompt : 0,
    mean_debounce_ms: mean(engine.map((r) => r.debounce_ms)),
    predicted_next_share: predictable.length > 0 ? predictable.filter((r) => r.predicted_next).length / predictable.length : 0,
    early_answers: answered.filter((r) => r.early).length,
  };
}

const sleepUntil = (t: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, t - performance.now())));

interface Pending {
  tracing?: boolean;
  spot: number;
  keystroke: number;
  line: number;
  character: number;
  typed: string;
  version: number;
  rest: string;
  answer: Promise<{ list: InlineCompletionList | null; ms: number } | { error: Error }>;
}

export async function runKeystrokesBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  // no --model: the shipped pair (its drafter too, unless --drafter names another)
  const shipped = defaultModelDirs();
  const modelDir = existingDir('model', (f.model as string | undefined) ?? shipped.model);
  const drafterDir = f.drafter !== undefined ? existingDir('drafter', f.drafter as string) : f.model === undefined ? existingDir('drafter', shipped.drafter) : null;
  const root = packageRoot();
  if (f.multi === true) {
    const result = await runMultiSession({
      root,
      serverArgs: ['--model', modelDir, ...(drafterDir ? ['--drafter', drafterDir] : [])],
      mode: drafterDir ? 'redrafter' : 'auto',
      visits: (f.spots as number | undefined) ?? 9,
      chars: (f.chars as number | undefined) ?? 24,
      seed: (f.seed as number | undefined) ?? 1,
      debounceMs: (f['debounce-ms'] as number | undefined) ?? 0,
      maxTokens: (f['max-tokens'] as number | undefined) ?? null,
      ...(f.threads !== undefined ? { threads: f.threads as number } : {}),
      log: (s) => void process.stderr.write(`${s}\n`),
    });
    process.stdout.write(formatMulti(result));
    if (f.out !== undefined) writeFileSync(f.out as string, `${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const file = existingFile('--file', (f.file as string | undefined) ?? resolve(root, 'fixtures', 'workspace', 'src', 'lru-cache.ts'));
  const spotCount = (f.spots as number | undefined) ?? 8;
  const chars = (f.chars as number | undefined) ?? 12;
  const seed = (f.seed as number | undefined) ?? 1;
  const interval = (f['interval-ms'] as number | undefined) ?? 0;
  const debounce = (f['debounce-ms'] as number | undefined) ?? null;
  const maxTokens = (f['max-tokens'] as number | undefined) ?? null;
  const timeBudget = (f['time-budget-ms'] as number | undefined) ?? null;
  const psmTypedLines = (f['psm-typed-lines'] as string | undefined) ?? null;
  if (psmTypedLines !== null && psmTypedLines !== 'middle' && psmTypedLines !== 'prefix') throw new UsageError(`--psm-typed-lines: expected middle or prefix, got "${psmTypedLines}"`);
  const variants = (['tracing', 'healing', 'lookup'] as const).filter((v) => f[`compare-${v}`] === true);
  if (variants.length > 1) throw new UsageError('--compare-tracing, --compare-healing and --compare-lookup are one at a time');
  const compare = variants.length > 0;
  const variant: ComparedSetting = variants[0] ?? 'tracing';
  if (maxTokens !== null && maxTokens > 1024) throw new UsageError('--max-tokens must be at most 1024 for keystrokes (completion.maxTokens)');
  const original = readFileSync(file, 'utf8');
  const spots = planSpots(original, spotCount, chars, seed);
  const total = spots.reduce((s, p) => s + [...p.typed].length, 0);
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  const serverArgs = ['--model', modelDir, ...(drafterDir ? ['--drafter', drafterDir] : []), ...(f.weights !== undefined ? ['--weights', f.weights as string] : [])];
  const recorded: string[] = [];
  const typist = new LspClient(serverArgs, f.record === undefined ? {} : { record: (m) => recorded.push(JSON.stringify(m)) });
  try {
    await typist.initialize({
      // without a drafter: mode auto, what a server runs for such a model (plain decoding with prompt lookup)
      engine: { mode: drafterDir ? 'redrafter' : 'auto', ...(f.threads !== undefined ? { threads: f.threads } : {}) },
      completion: {
        ...(debounce !== null ? { debounceMs: debounce } : {}),
        ...(maxTokens !== null ? { maxTokens } : {}),
        ...(timeBudget !== null ? { timeBudgetMs: timeBudget } : {}),
        ...(psmTypedLines !== null ? { psmTypedLines } : {}),
      },
      trace: { capacity: Math.min(100000, (compare ? 3 : 1) * total + 64) },
    });
    const uri = pathToFileURL(file).href;
    await typist.open(uri, LANGUAGES[extname(file)] ?? 'plaintext', original);
    // Outside the measurement: load the model, and let the document's engine session hold the
    // file, as it does once a user has been editing (a request at the end of the file).
    await typist.inlineCompletion(original.length, 'invoked');
    const status = await typist.status();
    if (status.engine.state !== 'ready') throw new Error(`the server did not load the model: ${status.engine.error ? `${status.engine.error.code}: ${status.engine.error.message}` : status.engine.state}`);
    if (drafterDir && status.engine.mode !== 'redrafter') throw new Error(`the server runs mode '${status.engine.mode}' although a drafter was given`);
    const before = (await typist.traces(0)).reduce((m, t) => Math.max(m, t.id), 0);
    log(`bench keystrokes: ${relative(process.cwd(), file) || file}, ${spots.length} spots, ${total} keystrokes, mode ${status.engine.mode}, ` +
      (interval > 0 ? `a keystroke every ${interval} ms` : 'each keystroke waits for its answer'));

    if (compare && variant === 'lookup') {
      const l = status.engine.lookup;
      log(`bench keystrokes: prompt lookup at its default ${l ? `${l.on ? 'runs' : 'does not run'}: ${l.reason}` : 'is off (engine.mode "ar")'}`);
    }
    const pending: Pending[] = [];
    // One spot: delete its characters, type them back one keystroke at a time.
    const typeSpot = async (s: number, spot: (typeof spots)[number], tracing?: boolean, measured = true): Promise<void> => {
      await typist.edit(spot.offset, spot.offset + spot.typed.length, '');
      const t0 = performance.now();
      const here: Pending[] = [];
      let cursor = spot.offset;
      let done = '';
      for (const [k, ch] of [...spot.typed].entries()) {
        if (interval > 0) await sleepUntil(t0 + (k + 1) * interval);
        const keystrokeAt = nowMs();
        await typist.edit(cursor, cursor, ch);
        cursor += ch.length;
        done += ch;
        const sent = performance.now();
        const clientTrace = { traceId: randomBytes(16).toString('hex'), keystrokeAt };
        const answer = typist.inlineCompletion(cursor, 'automatic', { clientTrace }).then(
          (list) => ({ list, ms: performance.now() - sent }),
          (error: Error) => ({ error }),
        );
        const at = { line: spot.line, character: cursor - (typist.text.lastIndexOf('\n', cursor - 1) + 1) };
        here.push({ ...(tracing !== undefined ? { tracing } : {}), spot: s, keystroke: k, ...at, typed: ch, version: typist.version, rest: spot.typed.slice(done.length), answer });
        if (interval === 0) {
          const a = await answer;
          if ('error' in a) throw a.error;
        }
      }
      for (const p of here) {
        const a = await p.answer;
        if ('error' in a) throw a.error;
      }
      if (measured) pending.push(...here);
      if (typist.text !== original) throw new Error(`internal: the document differs from ${file} after spot ${s}`);
    };
    const setSpans = (on: boolean): Promise<void> =>
      typist.notify('workspace/didChangeConfiguration', { settings: { slipstream: comparedSetting(variant, on) } });
    for (const [s, spot] of spots.entries()) {
      if (!compare) {
        await typeSpot(s, spot);
        continue;
      }
      // a pass not measured first, so both measured passes start from the state a pass of this
      // spot leaves (the engine session's KV, the typing cache); then on/off, and off/on at the next spot
      await typeSpot(s, spot, undefined, false);
      for (const on of s % 2 === 0 ? [true, false] : [false, true]) {
        await setSpans(on);
        await typeSpot(s, spot, on);
      }
    }
    if (compare) await setSpans(true);

    const traces = new Map<number, RequestTrace>();
    for (const t of await typist.traces(before)) if (t.uri === uri && t.version !== null) traces.set(t.version, t);
    const requests: KeystrokeRecord[] = [];
    const measured: RequestTrace[] = [];
    for (const p of pending) {
      const a = (await p.answer) as { list: InlineCompletionList | null; ms: number };
      const t = traces.get(p.version);
      if (!t) throw new Error(`the server kept no trace for the request at document version ${p.version}`);
      if (t.outcome === 'error') throw new Error(`the server failed a completion (line ${p.line + 1}): ${t.error ?? 'no message'}`);
      const item = a.list?.items[0];
      const suggestion = typeof item?.insertText === 'string' ? item.insertText : '';
      requests.push({
        spot: p.spot, keystroke: p.keystroke, line: p.line, character: p.character, typed: p.typed,
        latency_ms: a.ms,
        outcome: t.outcome,
        source: t.outcome === 'cached' ? 'cache' : t.promptTokens !== undefined ? 'engine' : 'none',
        server_ms: t.totalMs,
        debounce_ms: t.stages.debounce ?? 0,
        prefill_ms: t.stages.prefill ?? 0,
        decode_ms: t.stages.decode ?? 0,
        prompt_tokens: t.promptTokens ?? null,
        reused_tokens: t.reusedTokens ?? null,
        generated_tokens: t.generatedTokens ?? null,
        suggestion,
        predicted_next: p.rest === '' ? null : suggestion !== '' && suggestion[0] === p.rest[0],
        early: t.spans?.children?.some((c) => (c.name === 'postprocess' || c.name === 'cache') && c.attrs?.timeBudget === true) ?? false,
        ...(p.tracing !== undefined ? { [variant]: p.tracing } : {}),
      });
      measured.push(t);
    }
    const outcomes: Partial<Record<Outcome, number>> = {};
    for (const r of requests) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    const result: KeystrokeBenchResult = {
      model: modelDir, drafter: drafterDir, mode: status.engine.mode, file, spots: spots.length, chars, seed,
      interval_ms: interval, debounce_ms: debounce, max_tokens: maxTokens, time_budget_ms: timeBudget, psm_typed_lines: psmTypedLines, outcomes,
      all: summarize(requests),
      first_keystroke: summarize(requests.filter((r) => r.keystroke === 0)),
      following_keystrokes: summarize(requests.filter((r) => r.keystroke > 0)),
      ...(compare ? { [`${variant}_cost`]: tracingCost(requests, variant) } : {}),
      requests,
    };
    process.stdout.write(formatTable(result));
    if (f.out !== undefined) writeFileSync(f.out as string, `${JSON.stringify(result, null, 2)}\n`);
    const traceFile = (f.trace as string | undefined) ?? (f.out !== undefined ? `${(f.out as string).replace(/\.json$/, '')}.trace.jsonl` : undefined);
    if (traceFile !== undefined) {
      writeFileSync(traceFile, measured.map((t) => `${JSON.stringify(t)}\n`).join(''));
      log(`bench keystrokes: the server's traces of the ${measured.length} requests in ${traceFile} (slipstream trace ${traceFile})`);
    }
    return 0;
  } finally {
    await typist.close();
    if (f.record !== undefined) writeFileSync(f.record as string, recorded.map((l) => `${l}\n`).join(''));
  }
}

export function formatTable(r: KeystrokeBenchResult): string {
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const lat = (l: LatencySummary | null): string => (l ? `${ms(l.p50)} / ${ms(l.p90)} / ${ms(l.p99)} / ${ms(l.max)}` : '- (none answered)');
  const tokens = (g: KeystrokeGroup): string =>
    g.engine_requests === 0 ? '-' : `${g.mean_prompt_tokens.toFixed(1)} prompt, ${g.mean_reused_tokens.toFixed(1)} reused (${pct(g.reused_share)})`;
  const { all, first_keystroke: first, following_keystrokes: next } = r;
  const other = Object.entries(r.outcomes).filter(([o]) => !ANSWERED.has(o as Outcome)).map(([o, n]) => `${n} ${o}`);
  const rows: [string, string][] = [
    ['requests', `${all.requests} (${all.answered} answered${other.length > 0 ? `, ${other.join(', ')}` : ''}), mode ${r.mode}`],
    ['latency p50 / p90 / p99 / max', lat(all.latency_ms)],
    ['  first keystroke at a spot', `${lat(first.latency_ms)} (${first.requests})`],
    ['  following keystrokes', `${lat(next.latency_ms)} (${next.requests})`],
    ['typing-through cache hits', `${pct(all.cache_share)} (${all.cache_hits} of ${all.requests})`],
    ['engine requests', `${all.engine_requests}, mean debounce ${ms(all.mean_debounce_ms)}`],
    ['tokens per engine request', tokens(all)],
    ['  first keystroke at a spot', tokens(first)],
    ['  following keystrokes', tokens(next)],
    ['ghost text had the next char', pct(all.predicted_next_share)],
    ['answered at the time budget', `${all.early_answers} of ${all.answered}${r.time_budget_ms !== null ? ` (timeBudgetMs ${r.time_budget_ms})` : ''}`],
  ];
  for (const [name, c] of [['tracing', r.tracing_cost], ['healing', r.healing_cost], ['lookup', r.lookup_cost]] as const) {
    if (!c) continue;
    rows.push([`${name} on vs off (client)`, `${ms(c.on_mean_ms)} vs ${ms(c.off_mean_ms)} mean over ${c.pairs} keystroke pairs: ${c.cost >= 0 ? '+' : ''}${pct(c.cost)}`]);
    rows.push(['  per keystroke, on - off', `median ${c.median_diff_ms.toFixed(3)} ms (${c.median_cost >= 0 ? '+' : ''}${pct(c.median_cost)} of the median), 10%-trimmed mean ${c.trimmed_mean_diff_ms.toFixed(3)} ms`]);
    rows.push([`${name} on vs off (server)`, `${ms(c.server_on_mean_ms)} vs ${ms(c.server_off_mean_ms)}: ${c.server_cost >= 0 ? '+' : ''}${pct(c.server_cost)}`]);
    rows.push(['  the same suggestion on and off', `${c.same_suggestions} of ${c.pairs}`]);
  }
  const w = Math.max(...rows.map((x) => x[0].length)) + 2;
  return `${rows.map(([k, v]) => `${k.padEnd(w)}${v}`).join('\n')}\n`;
}

/** What the server's spans (or token healing) cost: the keystrokes answered by the engine in both passes, on vs off. */
/** The setting a --compare-X run turns on and off. */
export type ComparedSetting = 'tracing' | 'healing' | 'lookup';

/** The slipstream settings that turn `variant` on or off (lookup on: engine.promptLookup's default). */
function comparedSetting(variant: ComparedSetting, on: boolean): Record<string, unknown> {
  if (variant === 'healing') return { completion: { tokenHealing: on } };
  if (variant === 'lookup') return { engine: { promptLookup: on ? defaultSettings().engine.promptLookup : 0 } };
  return { trace: { spans: on } };
}

export function tracingCost(rs: KeystrokeRecord[], variant: ComparedSetting = 'tracing'): TracingCost {
  const key = (r: KeystrokeRecord): string => `${r.spot}/${r.keystroke}`;
  const off = new Map(rs.filter((r) => r[variant] === false && r.source === 'engine' && ANSWERED.has(r.outcome)).map((r) => [key(r), r]));
  const pairs = rs.filter((r) => r[variant] === true && r.source === 'engine' && ANSWERED.has(r.outcome) && off.has(key(r))).map((r) => [r, off.get(key(r))!] as const);
  const diffs = pairs.map(([a, b]) => a.latency_ms - b.latency_ms).sort((x, y) => x - y);
  const cut = Math.floor(diffs.length / 10);
  const trimmed = diffs.slice(cut, diffs.length - cut);
  const offSorted = pairs.map(([, b]) => b.latency_ms).sort((x, y) => x - y);
  const median = (xs: number[]): number => (xs.length > 0 ? xs[Math.ceil(xs.length / 2) - 1]! : 0);
  const onMean = mean(pairs.map(([a]) => a.latency_ms));
  const offMean = mean(pairs.map(([, b]) => b.latency_ms));
  const sOn = mean(pairs.map(([a]) => a.server_ms));
  const sOff = mean(pairs.map(([, b]) => b.server_ms));
  return {
    pairs: pairs.length,
    on_mean_ms: onMean,
    off_mean_ms: offMean,
    cost: offMean > 0 ? (onMean - offMean) / offMean : 0,
    median_diff_ms: median(diffs),
    trimmed_mean_diff_ms: mean(trimmed),
    median_cost: median(offSorted) > 0 ? median(diffs) / median(offSorted) : 0,
    server_on_mean_ms: sOn,
    server_off_mean_ms: sOff,
    server_cost: sOff > 0 ? (sOn - sOff) / sOff : 0,
    same_suggestions: pairs.filter(([a, b]) => a.suggestion === b.suggestion).length,
  };
}
