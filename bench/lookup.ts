/**
 * `slipstream bench lookup [--model DIR] [--drafter DIR] [--threads N] [--weights W] [--max-tokens N]
 * [--lookup-tokens K] [--cases N] [--seed S] [--rounds R] [--sweep] [--out FILE]`: lookup drafts
 * (docs/engine.md, "Lookup drafts") on realistic prompts. The prompts are built exactly as the server
 * builds them: bench quality's cases (bench/quality/plan.ts: held-out files of fixtures/quality,
 * half after a line's indentation, half mid-line) through buildPrompt with the model's tokenizer and
 * prompt format and the default completion budget (contextTokens, suffixShare, maxTokens N). Then on
 * the engine directly (Model / Session, like bench/redrafter.ts): plain greedy vs plain + lookup
 * and, with --drafter, ReDrafter vs ReDrafter + lookup; every variant on every prompt in each of R
 * rounds, taking turns (the order rotates per round); best decode time of the rounds per prompt.
 * Reports tok/s, forward passes per token, the lookup share of the emitted and of the accepted
 * drafted tokens, the ratio to the variant without lookup, and whether every output equals plain
 * greedy's token for token (exit 1 if not). --sweep adds a grid of lookup params (draft tokens,
 * n-gram lengths, drafts per round). --cost-curve FILE (the output of `engine-cli forward-curve`
 * for another model, e.g. a memory-bound 0.5B q8_0) adds each variant's modelled ratio there: its
 * decode steps' forward sizes priced on that curve (rows past the curve's last N extrapolated
 * along its last segment), over plain's (or ReDrafter's) on the same curve. --out writes the JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Drafter, LOOKUP_DEFAULTS, Model, type GenerateOptions, type GenerateStats, type LookupOptions, type Session } from '../native/lib/index.js';
import { Tokenizer } from '../native/lib/tokenizer.js';
import { UsageError, type ParsedArgs } from '../server/src/cli/args.js';
import { existingDir } from '../server/src/cli/paths.js';
import { buildPrompt, PromptState } from '../server/src/completion/context.js';
import { defaultModelDirs } from '../server/src/completion/default-model.js';
import { detectPromptFormat } from '../server/src/completion/prompt-format.js';
import { defaultSettings } from '../server/src/config.js';
import { packageRoot } from '../server/src/package-root.js';
import { weightsFromFlags } from '../server/src/cli/weights-flag.js';
import { qualityFiles } from './quality/main.js';
import { planCases } from './quality/plan.js';

/** The server's session context (server/src/completion/native-engine-host.ts SESSION_CONTEXT). */
const SESSION_CONTEXT = 4096;

/** --sweep: lookup params measured besides the main setting (tokens, n-gram range, drafts). */
const SWEEP: Required<LookupOptions>[] = [
  ...[2, 3, 4, 6, 8, 10, 16].flatMap((tokens) => [1, 2].map((maxDrafts) => ({ tokens, minNgram: 1, maxNgram: 3, maxDrafts }))),
  ...[3, 4, 6].flatMap((tokens) => [{ tokens, minNgram: 2, maxNgram: 4, maxDrafts: 1 }, { tokens, minNgram: 1, maxNgram: 2, maxDrafts: 1 }, { tokens, minNgram: 3, maxNgram: 5, maxDrafts: 1 }]),
  { tokens: 4, minNgram: 1, maxNgram: 3, maxDrafts: 4 },
];

interface Variant {
  name: string;
  drafter: boolean;
  lookup: Required<LookupOptions> | null;
}

export interface LookupVariantResult {
  name: string;
  drafter: boolean;
  lookup: Required<LookupOptions> | null;
  tok_s: number;
  /** tok_s over the same decoding without lookup (plain, or ReDrafter with --drafter). */
  ratio: number;
  decode_ms: number;
  tokens: number;
  forward_passes_per_token: number;
  tokens_per_forward: number;
  rounds: number;
  mean_tree_size: number;
  /** Accepted drafted tokens (all sources), lookup_accepted among them. */
  accepted: number;
  lookup_accepted: number;
  /** lookup_accepted over the emitted tokens, and over the accepted drafted tokens. */
  lookup_share_of_emitted: number;
  lookup_share_of_accepted: number;
  identical: boolean;
  mismatched_prompts: number[];
  /**
   * [n] = decode steps whose forward verified n tokens (1: plain steps), over the best runs: with a
   * forward cost curve of another model (engine-cli forward-curve) it gives that model's decode
   * time for these acceptances (docs/performance.md, "Lookup drafts").
   */
  forward_rows_histogram: number[];
  /** With --cost-curve: the variant's decode steps priced on that curve (ms), and the ratio as for `ratio`. */
  modelled_ms?: number;
  modelled_ratio?: number;
}

/** `engine-cli forward-curve`'s lines "forward N=n  t ms" as a cost per forward of n rows. */
export function costCurve(text: string): (n: number) => number {
  const pts = [...text.matchAll(/forward N=(\d+)\s+([\d.]+) ms/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
  if (pts.length < 2) throw new UsageError('--cost-curve: no "forward N=... ms" lines (engine-cli forward-curve output) in the file');
  return (n: number): number => {
    const exact = pts.find((p) => p[0] === n);
    if (exact) return exact[1];
    let i = pts.findIndex((p) => p[0] > n);
    if (i < 0) i = pts.length - 1;
    if (i === 0) i = 1;
    const [n0, c0] = pts[i - 1]!;
    const [n1, c1] = pts[i]!;
    return c0 + ((c1 - c0) * (n - n0)) / (n1 - n0);
  };
}

export interface LookupBenchResult {
  model: string;
  drafter: string | null;
  threads: number;
  kernel_path: string;
  dtype: string;
  cases: number;
  line_start: number;
  mid_line: number;
  prompt_tokens: { min: number; mean: number; max: number };
  max_tokens: number;
  rounds: number;
  variants: LookupVariantResult[];
  cost_curve?: string;
  identical_greedy_output: boolean;
}

interface Measured {
  ids: Int32Array;
  stats: GenerateStats;
  /** (decode steps) the tokens each later step's forward verified (1: a plain step). */
  trees: number[];
}

async function runOnce(session: Session, prompt: Int32Array, opts: GenerateOptions): Promise<Measured> {
  const gen = session.generate(prompt, opts);
  const trees: number[] = [];
  let r = await gen.next();
  while (!r.done) {
    if (r.value.step.kind !== 'prefill') trees.push(r.value.step.treeSize);
    r = await gen.next();
  }
  return { ids: r.value.ids, stats: r.value.stats, trees };
}

function sameIds(a: Int32Array, b: Int32Array): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

export async function runLookupBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const shipped = defaultModelDirs();
  const modelDir = f.model === undefined ? shipped.model : existingDir('model', f.model as string);
  const drafterDir = f.drafter === undefined ? null : existingDir('drafter', f.drafter as string);
  const threads = (f.threads as number | undefined) ?? 2;
  const maxTokens = (f['max-tokens'] as number | undefined) ?? defaultSettings().completion.maxTokens;
  const lookupTokens = (f['lookup-tokens'] as number | undefined) ?? 4;
  if (lookupTokens < 1 || lookupTokens > 63) throw new UsageError('--lookup-tokens must be 1..63');
  const count = (f.cases as number | undefined) ?? 40;
  const seed = (f.seed as number | undefined) ?? 1;
  const rounds = (f.rounds as number | undefined) ?? 3;
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  const weights = weightsFromFlags(f);
  const [model, tok] = await Promise.all([Model.load(modelDir, { threads, ...(weights ? { weights } : {}) }), Tokenizer.load(modelDir)]);
  let drafter: Drafter | undefined;
  try {
    if (drafterDir) drafter = await Drafter.load(drafterDir, model);
    const info = model.info;
    const maxContext = Math.min(info.maxPositionEmbeddings, SESSION_CONTEXT);
    const format = detectPromptFormat(tok);
    const s = defaultSettings().completion;
    const budget = { contextTokens: s.contextTokens, suffixShare: s.suffixShare, maxTokens, maxContext };
    const cases = planCases(qualityFiles(packageRoot()), count, seed);
    const prompts = cases.map((c) => buildPrompt({ text: c.text, offset: c.offset, languageId: 'typescript' }, tok, format, budget, new PromptState(null)).ids);
    const lens = prompts.map((p) => p.length);

    const main: Required<LookupOptions> = { tokens: lookupTokens, ...LOOKUP_DEFAULTS };
    const variants: Variant[] = [{ name: 'plain', drafter: false, lookup: null }, { name: 'plain+lookup', drafter: false, lookup: main }];
    if (drafter) variants.push({ name: 'redrafter', drafter: true, lookup: null }, { name: 'redrafter+lookup', drafter: true, lookup: main });
    if (f.sweep)
      for (const l of SWEEP)
        for (const d of drafter ? [false, true] : [false])
          variants.push({ name: `${d ? 'redrafter' : 'plain'}+lookup k${l.tokens} n${l.minNgram}-${l.maxNgram} d${l.maxDrafts}`, drafter: d, lookup: l });

    const session = model.createSession({ maxContext });
    const optsOf = (v: Variant): GenerateOptions => ({
      maxTokens, temperature: 0,
      ...(v.drafter ? { mode: 'redrafter' as const, drafter: drafter! } : {}),
      ...(v.lookup ? { lookup: v.lookup } : {}),
    });
    log(
      `bench lookup: ${info.architecture} ${info.computeDtype} (${info.kernelPath}), ${threads} threads, ${cases.length} cases ` +
        `(${cases.filter((c) => c.kind === 'line-start').length} line-start, ${cases.filter((c) => c.kind === 'mid-line').length} mid-line), ` +
        `prompts ${Math.min(...lens)}-${Math.max(...lens)} tokens (${format.kind}${format.kind === 'fim' ? ` ${format.order}` : ''}), ` +
        `${maxTokens} tokens, ${variants.length} variants x ${rounds} rounds${drafter ? ', with the drafter' : ''}`,
    );

    // best (lowest decode time) of the rounds per prompt and variant; the variants take turns
    const best: ((Measured & { decode_ms: number }) | undefined)[][] = variants.map(() => []);
    const mismatched: Set<number>[] = variants.map(() => new Set());
    for (const v of variants) await runOnce(session, prompts[0]!, optsOf(v));  // warm-up
    const refs: Int32Array[] = [];  // plain greedy's output per prompt: what every variant must give
    for (const p of prompts) refs.push((await runOnce(session, p, optsOf(variants[0]!))).ids);
    for (let r = 0; r < rounds; r++) {
      for (let p = 0; p < prompts.length; p++) {
        for (let k = 0; k < variants.length; k++) {
          const i = (k + r + p) % variants.length;  // the variants take turns, the order rotating
          const run = await runOnce(session, prompts[p]!, optsOf(variants[i]!));
          if (!sameIds(run.ids, refs[p]!)) mismatched[i]!.add(p);
          const cur = best[i]![p];
          if (!cur || run.stats.decode_ms < cur.decode_ms) best[i]![p] = { ...run, decode_ms: run.stats.decode_ms };
        }
      }
      log(`  round ${r + 1}/${rounds} done`);
    }
    session.dispose();

    const results: LookupVariantResult[] = variants.map((v, i) => {
      const runs = best[i]!.map((x) => x!);
      const ms = runs.reduce((a, x) => a + x.decode_ms, 0);
      const decoded = runs.reduce((a, x) => a + Math.max(0, x.ids.length - 1), 0);  // the prefill's token is not decode time
      const emitted = runs.reduce((a, x) => a + x.ids.length, 0);
      const passes = runs.reduce((a, x) => a + x.stats.forward_passes, 0);
      let accepted = 0;
      let nRounds = 0;
      let treeNodes = 0;
      for (const x of runs) {
        const h = x.stats.accepted_histogram ?? [];
        const n = h.reduce((a, b) => a + b, 0);
        accepted += h.reduce((a, c, j) => a + c * j, 0);
        nRounds += n;
        treeNodes += (x.stats.mean_tree_size ?? 0) * n;
      }
      const lookupAccepted = runs.reduce((a, x) => a + x.stats.lookup_accepted, 0);
      const rowsHist: number[] = [];
      for (const x of runs) for (const t of x.trees) rowsHist[t] = (rowsHist[t] ?? 0) + 1;
      return {
        name: v.name, drafter: v.drafter, lookup: v.lookup, tok_s: (decoded / ms) * 1000, ratio: 0, decode_ms: ms, tokens: decoded,
        forward_passes_per_token: passes / emitted, tokens_per_forward: emitted / passes, rounds: nRounds,
        mean_tree_size: nRounds > 0 ? treeNodes / nRounds : 1, accepted, lookup_accepted: lookupAccepted,
        lookup_share_of_emitted: emitted > 0 ? lookupAccepted / emitted : 0, lookup_share_of_accepted: accepted > 0 ? lookupAccepted / accepted : 0,
        identical: mismatched[i]!.size === 0, mismatched_prompts: [...mismatched[i]!].sort((a, b) => a - b),
        forward_rows_histogram: Array.from(rowsHist, (c) => c ?? 0),
      };
    });
    const plainTokS = results[0]!.tok_s;
    const rdTokS = results.find((r) => r.name === 'redrafter')?.tok_s ?? plainTokS;
    for (const r of results) r.ratio = r.tok_s / (r.drafter ? rdTokS : plainTokS);
    const curveFile = f['cost-curve'] as string | undefined;
    if (curveFile !== undefined) {
      const cost = costCurve(readFileSync(curveFile, 'utf8'));
      for (const r of results) r.modelled_ms = r.forward_rows_histogram.reduce((a, c, n) => a + (c > 0 ? c * cost(n) : 0), 0);
      const plainMs = results[0]!.modelled_ms!;
      const rdMs = results.find((r) => r.name === 'redrafter')?.modelled_ms ?? plainMs;
      for (const r of results) r.modelled_ratio = (r.drafter ? rdMs : plainMs) / r.modelled_ms!;
    }
    const result: LookupBenchResult = {
      model: modelDir, drafter: drafterDir, threads, kernel_path: info.kernelPath, dtype: info.computeDtype,
      cases: cases.length, line_start: cases.filter((c) => c.kind === 'line-start').length, mid_line: cases.filter((c) => c.kind === 'mid-line').length,
      prompt_tokens: { min: Math.min(...lens), mean: lens.reduce((a, b) => a + b, 0) / lens.length, max: Math.max(...lens) },
      max_tokens: maxTokens, rounds, variants: results, ...(curveFile !== undefined ? { cost_curve: curveFile } : {}), identical_greedy_output: results.every((r) => r.identical),
    };
    process.stdout.write(formatLookup(result));
    if (f.out !== undefined) writeFileSync(f.out as string, `${JSON.stringify(result, null, 2)}\n`);
    return result.identical_greedy_output ? 0 : 1;
  } finally {
    drafter?.dispose();
    model.dispose();
  }
}

export function formatLookup(r: LookupBenchResult): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const curve = r.cost_curve !== undefined;
  const head = ['variant', 'tok/s', 'ratio', ...(curve ? ['modelled'] : []), 'fwd/token', 'tok/fwd', 'rounds', 'tree', 'lookup/emitted', 'lookup/accepted', 'identical'];
  const rows = r.variants.map((v) => [
    v.name, v.tok_s.toFixed(1), v.ratio.toFixed(3), ...(curve ? [v.modelled_ratio!.toFixed(3)] : []), v.forward_passes_per_token.toFixed(3), v.tokens_per_forward.toFixed(2), String(v.rounds),
    v.mean_tree_size.toFixed(1), pct(v.lookup_share_of_emitted), pct(v.lookup_share_of_accepted), v.identical ? 'yes' : `NO (${v.mismatched_prompts.join(',')})`,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return (
    `model ${r.model}${r.drafter ? ` + drafter ${r.drafter}` : ''}: ${r.dtype} (${r.kernel_path}), ${r.threads} threads; ${r.cases} cases ` +
    `(${r.line_start} line-start, ${r.mid_line} mid-line), prompts ${r.prompt_tokens.min}-${r.prompt_tokens.max} tokens ` +
    `(mean ${r.prompt_tokens.mean.toFixed(0)}), ${r.max_tokens} tokens, best of ${r.rounds} rounds per prompt\n` +
    `${line(head)}\n${rows.map(line).join('\n')}\n` +
    (curve ? `modelled: the ratio of the same decode steps priced on ${r.cost_curve}\n` : '') +
    `greedy outputs identical to plain: ${r.identical_greedy_output ? 'yes' : 'NO'}\n`
  );
}
