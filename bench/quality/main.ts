/**
 * `slipstream bench quality [--model DIR] [--drafter DIR] [--cases N] [--seed S] [--max-tokens N]
 * [--out FILE]`: would a user take the suggestions? Held-out TypeScript (fixtures/quality: npm
 * packages the training corpus never saw) cut at seeded cursors (plan.ts: after a line's
 * indentation and mid-line), each asked through a real `slipstream serve --stdio`
 * (textDocument/inlineCompletion, one document per case, closed after): invoked with token healing
 * on and off (slipstream.completion.tokenHealing), then as typing asks (automatic, healing on, at
 * completion.minTokenProbability: its default or --min-token-probability), in the same run.
 * Reports first-line exact match, the share a user would accept (a correct start of the line:
 * plan.ts scoreCase) and that share among the suggestions shown, the share of expected characters
 * matched from the start, empty suggestions and suggestions that begin with whitespace at a line
 * start. Default model: the shipped one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, type ParsedArgs } from '../../server/src/cli/args.js';
import { existingDir } from '../../server/src/cli/paths.js';
import { defaultModelDirs } from '../../server/src/completion/default-model.js';
import { packageRoot } from '../../server/src/package-root.js';
import type { RequestTrace } from '../../server/src/protocol.js';
import { Model } from '../../native/lib/model.js';
import { Tokenizer } from '../../native/lib/tokenizer.js';
import { percentileOfSorted } from '../../server/src/percentile.js';
import { buildPrompt, decodeContinuation, PromptState, type BuiltPrompt } from '../../server/src/completion/context.js';
import { detectPromptFormat } from '../../server/src/completion/prompt-format.js';
import { healingVocab, healPrompt, stripHealed } from '../../server/src/completion/token-healing.js';
import { defaultSettings } from '../../server/src/config.js';
import { LspClient } from '../lib/lsp-client.js';
import type { QualityManifest } from './copy-fixtures.js';
import { planCases, scoreCase, summarizeScores, type CaseKind, type CaseScore, type GroupScore } from './plan.js';

export interface QualityRow {
  file: string;
  line: number;
  kind: CaseKind;
  expected: string;
  healing: boolean;
  /** 'invoked' (the whole suggestion) or 'automatic' (as typing asks: cut or dropped by minTokenProbability). */
  trigger: 'invoked' | 'automatic';
  suggestion: string;
  /** Tokens and bytes the server healed (trace), null when it did not. */
  healed: { tokens: number; bytes: number } | null;
  score: CaseScore;
}

export interface QualityPass {
  all: GroupScore;
  line_start: GroupScore;
  mid_line: GroupScore;
  /** Share of the requests the server healed. */
  healed_share: number;
}

export interface QualityResult {
  model: string;
  drafter: string | null;
  mode: string;
  cases: number;
  seed: number;
  max_tokens: number;
  files: string[];
  healing_on: QualityPass;
  healing_off: QualityPass;
  /** Automatic requests (healing on) at min_token_probability. */
  typing: QualityPass;
  min_token_probability: number;
  /** healPrompt's own time on these cases' prompts (this process, the model's tokenizer), microseconds. */
  healing_cpu_us: { p50: number; p99: number; vocab_build_ms: number };
  /**
   * Healing's own effect, before post-processing: the line-start cases' prompts generated in this
   * process (the model, plain greedy decoding, 6 tokens), how many outputs begin with a space or tab.
   */
  raw_whitespace_led_at_line_start: { cases: number; healing_on: number; healing_off: number };
  rows: QualityRow[];
}

/** The held-out files listed in fixtures/quality/manifest.json, as "package@version/path". */
/** The three passes: invoked with healing on and off, then automatic (as typing asks) with healing on. */
const PASSES = [
  { healing: true, trigger: 'invoked', dir: 'healed' },
  { healing: false, trigger: 'invoked', dir: 'plain' },
  { healing: true, trigger: 'automatic', dir: 'typing' },
] as const;

function caseUri(dir: string, i: number, file: string): string {
  return `file:///quality/${dir}/${i}/${file.replace(/[^A-Za-z0-9._/-]/g, '_')}`;
}

export function qualityFiles(root: string): { name: string; text: string }[] {
  const dir = join(root, 'fixtures', 'quality');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as QualityManifest;
  return manifest.packages.flatMap((p) => p.files.map((f) => ({ name: `${p.dir}/${f}`, text: readFileSync(join(dir, p.dir, f), 'utf8') })));
}

function pass(rows: QualityRow[]): QualityPass {
  return {
    all: summarizeScores(rows),
    line_start: summarizeScores(rows.filter((r) => r.kind === 'line-start')),
    mid_line: summarizeScores(rows.filter((r) => r.kind === 'mid-line')),
    healed_share: rows.length > 0 ? rows.filter((r) => r.healed).length / rows.length : 0,
  };
}

export async function runQualityBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const shipped = defaultModelDirs();
  const modelDir = f.model === undefined ? shipped.model : existingDir('model', f.model as string);
  const drafterDir = f.drafter === undefined ? null : existingDir('drafter', f.drafter as string);
  const count = (f.cases as number | undefined) ?? 60;
  const seed = (f.seed as number | undefined) ?? 1;
  const maxTokens = (f['max-tokens'] as number | undefined) ?? 32;
  const minTokenProbability = (f['min-token-probability'] as number | undefined) ?? defaultSettings().completion.minTokenProbability;
  if (maxTokens > 1024) throw new UsageError('--max-tokens must be at most 1024 for quality (completion.maxTokens)');
  const root = packageRoot();
  const files = qualityFiles(root);
  const cases = planCases(files, count, seed);
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  const client = new LspClient(['--model', modelDir, ...(drafterDir ? ['--drafter', drafterDir] : [])]);
  try {
    await client.initialize({
      engine: { mode: drafterDir ? 'redrafter' : 'ar', ...(f.threads !== undefined ? { threads: f.threads } : {}) },
      // invoked requests, one suggestion each: no alternatives to compute
      completion: { debounceMs: 0, maxTokens, alternatives: 1 },
      trace: { capacity: Math.min(100000, PASSES.length * cases.length + 16) },
    });
    const status = await client.status();
    log(`bench quality: ${cases.length} cases from ${files.length} held-out files (seed ${seed}), healing on and off, typing at minTokenProbability ${minTokenProbability}, ${modelDir}`);
    const rows: QualityRow[] = [];
    for (const { healing, trigger, dir } of PASSES) {
      await client.notify('workspace/didChangeConfiguration', { settings: { slipstream: { completion: { tokenHealing: healing, minTokenProbability } } } });
      for (const [i, c] of cases.entries()) {
        const uri = caseUri(dir, i, c.file);
        await client.open(uri, 'typescript', c.text);
        const list = await client.inlineCompletion(c.offset, trigger);
        await client.notify('textDocument/didClose', { textDocument: { uri } });
        const item = list?.items[0];
        const suggestion = typeof item?.insertText === 'string' ? item.insertText : '';
        rows.push({ file: c.file, line: c.line, kind: c.kind, expected: c.expected, healing, trigger, suggestion, healed: null, score: scoreCase(c.expected, suggestion) });
      }
    }
    const traces = await client.traces(0);
    const byUri = new Map<string, RequestTrace>();
    for (const t of traces) byUri.set(t.uri, t);
    for (const t of traces) if (t.outcome === 'error') throw new Error(`the server failed a completion: ${t.error ?? 'no message'}`);
    let k = 0;
    for (const { dir } of PASSES) {
      for (const [i, c] of cases.entries()) {
        const t = byUri.get(caseUri(dir, i, c.file));
        if (!t) throw new Error(`the server kept no trace for case ${i}`);
        rows[k++]!.healed = t.healed ?? null;
      }
    }
    const mode = (await client.status()).engine.mode;
    const healingCpu = await timeHealing(modelDir, cases, maxTokens);
    const raw = await rawWhitespace(modelDir, cases.filter((c) => c.kind === 'line-start'));
    const result: QualityResult = {
      model: modelDir, drafter: drafterDir, mode, cases: cases.length, seed, max_tokens: maxTokens,
      files: files.map((x) => x.name),
      healing_on: pass(rows.filter((r) => r.healing && r.trigger === 'invoked')),
      healing_off: pass(rows.filter((r) => !r.healing)),
      typing: pass(rows.filter((r) => r.trigger === 'automatic')),
      min_token_probability: minTokenProbability,
      healing_cpu_us: healingCpu,
      raw_whitespace_led_at_line_start: raw,
      rows,
    };
    void status;
    process.stdout.write(formatQuality(result));
    if (f.out !== undefined) writeFileSync(f.out as string, `${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    await client.close();
  }
}

/**
 * What healing itself costs per request: healPrompt on each case's prompt as the server builds it
 * (default budget), 20 times each after a warm-up; and the one-off HealingVocab build.
 */
async function timeHealing(modelDir: string, cases: { text: string; offset: number }[], maxTokens: number): Promise<QualityResult['healing_cpu_us']> {
  const tok = await Tokenizer.load(modelDir);
  const format = detectPromptFormat(tok);
  const t0 = performance.now();
  const vocab = healingVocab(tok.tokenBytes(tok.vocabSize));
  const buildMs = performance.now() - t0;
  const us: number[] = [];
  for (const k of cases) {
    const prompt = casePrompt(tok, format, k, maxTokens);
    healPrompt(prompt, format, vocab);
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      healPrompt(prompt, format, vocab);
      us.push(1000 * (performance.now() - t));
    }
  }
  us.sort((a, b) => a - b);
  return { p50: percentileOfSorted(us, 50) ?? 0, p99: percentileOfSorted(us, 99) ?? 0, vocab_build_ms: buildMs };
}

/** The prompt of a case as the server builds it (default budget, no snippets). */
function casePrompt(tok: Tokenizer, format: ReturnType<typeof detectPromptFormat>, c: { text: string; offset: number }, maxTokens: number): BuiltPrompt {
  const s = defaultSettings().completion;
  const budget = { contextTokens: s.contextTokens, suffixShare: s.suffixShare, maxTokens, maxContext: 1024 };
  return buildPrompt({ text: c.text, offset: c.offset, languageId: 'typescript' }, tok, format, budget, new PromptState(null));
}

async function rawWhitespace(modelDir: string, cases: { text: string; offset: number }[]): Promise<QualityResult['raw_whitespace_led_at_line_start']> {
  const [model, tok] = await Promise.all([Model.load(modelDir, { backend: 'cpu' }), Tokenizer.load(modelDir)]);
  const out = { cases: cases.length, healing_on: 0, healing_off: 0 };
  try {
    const table = tok.tokenBytes(model.info.vocabSize);
    model.setTokenBytes(table);
    const vocab = healingVocab(table);
    const format = detectPromptFormat(tok);
    const session = model.createSession({ maxContext: 1024 });
    for (const c of cases) {
      const prompt = casePrompt(tok, format, c, 8);
      const healed = healPrompt(prompt, format, vocab);
      for (const on of [true, false]) {
        const ids = on ? healed.ids : prompt.ids;
        const rp = on && healed.healing ? healed.healing.text : '';
        const gen: number[] = [];
        for await (const chunk of session.generate(ids, { maxTokens: 6, stopTokens: format.stopTokens, ...(rp ? { requiredPrefix: rp } : {}) })) gen.push(...chunk.ids);
        if (/^[ \t]/.test(stripHealed(decodeContinuation(tok, ids, gen), rp))) out[on ? 'healing_on' : 'healing_off']++;
      }
    }
    session.dispose();
  } finally {
    model.dispose();
  }
  return out;
}

export function formatQuality(r: QualityResult): string {
  const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
  // the share a user would accept among the suggestions shown (not empty)
  const ofShown = (g: GroupScore): number | null => (g.empty < 1 ? g.acceptable / (1 - g.empty) : null);
  const line = (name: string, g: GroupScore): string =>
    `  ${name.padEnd(12)}${String(g.cases).padStart(6)}  ${pct(g.exact_match).padStart(12)}  ${pct(g.acceptable).padStart(11)}  ${pct(ofShown(g)).padStart(9)}  ${pct(g.chars_matched).padStart(14)}  ${pct(g.empty).padStart(7)}  ${pct(g.whitespace_led_at_line_start).padStart(16)}`;
  const out = [`model ${r.model}${r.drafter ? ` + ${r.drafter}` : ''}, mode ${r.mode}, ${r.cases} cases, seed ${r.seed}, max ${r.max_tokens} tokens`];
  const passes = [
    ['invoked, healing on', r.healing_on],
    ['invoked, healing off', r.healing_off],
    [`typing (automatic, healing on, minTokenProbability ${r.min_token_probability})`, r.typing],
  ] as const;
  for (const [name, p] of passes) {
    out.push(`${name} (healed ${pct(p.healed_share)} of requests)`);
    out.push(`  ${'cases'.padEnd(12)}${'n'.padStart(6)}  ${'first-line EM'.padStart(12)}  ${'acceptable'.padStart(11)}  ${'of shown'.padStart(9)}  ${'chars matched'.padStart(14)}  ${'empty'.padStart(7)}  ${'ws-led at start'.padStart(16)}`);
    out.push(line('all', p.all), line('line start', p.line_start), line('mid-line', p.mid_line));
  }
  const w = r.raw_whitespace_led_at_line_start;
  out.push(`before post-processing, line starts (in-process, 6 tokens): ${w.healing_on} of ${w.cases} begin with whitespace with healing, ${w.healing_off} without`);
  const h = r.healing_cpu_us;
  out.push(`healing's own cost: healPrompt p50 ${h.p50.toFixed(1)} us, p99 ${h.p99.toFixed(1)} us per request; vocabulary index built once in ${h.vocab_build_ms.toFixed(1)} ms`);
  return `${out.join('\n')}\n`;
}
