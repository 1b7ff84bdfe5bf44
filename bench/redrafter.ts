/**
 * `slipstream bench redrafter --model DIR --drafter DIR`: plain greedy decoding vs ReDrafter on the
 * same prompts in one run: tokens/s of each, the speedup ratio, tokens per step, accepted lengths,
 * tree sizes and the time split (drafting, verification, the rest), and whether the greedy outputs
 * are identical (they must be, token for token: docs/redrafter.md §2.6). --sweep also measures a
 * grid of (beams, beam length). --calibrate first runs mode auto's calibration (server/src/completion/
 * mode-calibration.ts) and then measures each of its candidate shapes (its choice, the drafter's
 * default among them) here too, so its choice can be checked against longer runs on other prompts.
 * --context FILE puts the file's text before every prompt (a long file above the cursor), its start
 * cut to fit the model's context.
 * Prints a table; --out writes the JSON. Ratios come from this run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Drafter, Model, type GenerateOptions, type GenerateStats, type Session } from '../native/lib/index.js';
import { Tokenizer } from '../native/lib/tokenizer.js';
import { UsageError, type ParsedArgs } from '../server/src/cli/args.js';
import { modelDirsFromFlags } from '../server/src/cli/paths.js';
import { seededIds } from './lib/seeded-ids.js';
import { calibrate, candidateShapes, decideMode, fastestShape, type Calibration, type ModeDecision } from '../server/src/completion/mode-calibration.js';
import { weightsFromFlags } from '../server/src/cli/weights-flag.js';

/** Code and prose openings; tokenized with the model's tokenizer when it has one. */
const TEXT_PROMPTS = [
  'export function debounce<T extends (...args: unknown[]) => void>(fn: T, ms: number): T {\n  let timer: ReturnType<typeof setTimeout> | undefined;\n',
  "import { readFileSync } from 'node:fs';\nimport { join } from 'node:path';\n\nexport function loadConfig(dir: string) {\n",
  'class LRUCache<K, V> {\n  private map = new Map<K, V>();\n  constructor(private capacity: number) {}\n\n  get(key: K): V | undefined {\n',
  'function parseArgs(argv) {\n  const out = {};\n  for (let i = 0; i < argv.length; i++) {\n',
  'Once upon a time, there was a little girl named Lily. She loved to',
  'The dog ran to the park. He saw a big red ball and',
];

const SWEEP: [number, number][] = [
  [1, 2], [1, 3], [1, 4], [1, 5], [2, 3], [2, 4], [2, 5], [3, 4], [4, 4], [4, 5], [8, 5],
];

export interface RunMeasure {
  decode_ms: number;
  tokens: number;
  stats: GenerateStats;
}

export interface RedrafterConfigResult {
  beams: number;
  beam_length: number;
  tok_s: number;
  speedup: number;
  tokens_per_step: number;
  mean_tree_size: number;
  accepted_histogram: number[];
  draft_ms: number;
  verify_ms: number;
  accept_ms: number;
  other_ms: number;
  decode_ms: number;
  identical: boolean;
  mismatched_prompts: number[];
}

export interface RedrafterBenchResult {
  model: string;
  drafter: string;
  threads: number;
  kernel_path: string;
  dtype: string;
  prompts: number;
  max_tokens: number;
  repeats: number;
  plain: { tok_s: number; decode_ms: number; tokens: number };
  redrafter: RedrafterConfigResult;
  sweep?: RedrafterConfigResult[];
  /** --calibrate: mode auto's calibration and decision, made in this run before the timing. */
  calibration?: { figures: Calibration; decision: Omit<ModeDecision, 'calibration'>; fastest: { beams: number; beamLength: number } };
  identical_greedy_output: boolean;
}

async function runOnce(session: Session, prompt: Int32Array, opts: GenerateOptions): Promise<{ ids: Int32Array; stats: GenerateStats }> {
  const gen = session.generate(prompt, opts);
  let r = await gen.next();
  while (!r.done) r = await gen.next();
  return r.value;
}

export async function runRedrafterBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const { modelDir, drafterDir: maybeDrafter } = modelDirsFromFlags(f);
  if (maybeDrafter === undefined) throw new UsageError('bench redrafter needs --drafter DIR with --model');
  const drafterDir = maybeDrafter;
  const threads = (f.threads as number | undefined) ?? 2;
  const maxTokens = (f['max-tokens'] as number | undefined) ?? 128;
  const repeats = 3;
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  const weights = weightsFromFlags(f);
  const model = await Model.load(modelDir, { threads, ...(weights ? { weights } : {}) });
  let drafter: Drafter | undefined;
  try {
    drafter = await Drafter.load(drafterDir, model);
    const info = model.info;
    const tokenizer = existsSync(join(modelDir, 'tokenizer.json')) ? await Tokenizer.load(modelDir) : null;
    const contextFile = f.context as string | undefined;
    if (contextFile !== undefined && !tokenizer) throw new UsageError('bench redrafter --context needs the model\'s tokenizer.json');
    const contextText = contextFile !== undefined ? `${readFileSync(contextFile, 'utf8')}\n` : '';
    // With --context, each prompt follows the file's text (the code above the cursor), whose start
    // is cut so that the prompt and maxTokens fit the model's context; prompts without it stay whole.
    const room = Math.max(1, info.maxPositionEmbeddings - maxTokens - 32);
    const prompts = tokenizer
      ? TEXT_PROMPTS.map((t) => {
          const ids = tokenizer.encode(contextText + t);
          return contextFile !== undefined ? ids.slice(-room) : ids;
        }).filter((p) => p.length > 0)
      : TEXT_PROMPTS.map((_, i) => seededIds(24, Math.min(300, Math.floor(info.vocabSize / 4)), Math.floor(info.vocabSize / 2), 100 + i));
    const beams = (f.beams as number | undefined) ?? drafter.info.defaultBeams;
    const beamLength = (f['beam-length'] as number | undefined) ?? drafter.info.defaultBeamLength;
    const configs: [number, number][] = f.sweep ? [...SWEEP] : [];
    let calibrated: RedrafterBenchResult['calibration'];
    if (f.calibrate) {
      if (!tokenizer) throw new UsageError('bench redrafter --calibrate needs the model\'s tokenizer.json (the calibration prompts are text)');
      const defaults = { beams: drafter.info.defaultBeams, beamLength: drafter.info.defaultBeamLength };
      const figures = await calibrate(model, tokenizer, drafter, candidateShapes(defaults));
      const { calibration: _, ...decision } = decideMode('auto', defaults, figures);
      const best = fastestShape(figures.shapes)!;
      calibrated = { figures, decision, fastest: { beams: best.beams, beamLength: best.beamLength } };
      log(`calibration (${Math.round(figures.ms)} ms, ${figures.promptTokens}-token prompts): ${decision.reason}`);
      for (const s of figures.shapes) if (!configs.some(([m, l]) => m === s.beams && l === s.beamLength)) configs.push([s.beams, s.beamLength]);
    }
    if (!configs.some(([m, l]) => m === beams && l === beamLength)) configs.unshift([beams, beamLength]);
    const longest = Math.max(...prompts.map((p) => p.length));
    const session = model.createSession({ maxContext: Math.min(info.maxPositionEmbeddings, longest + maxTokens + 32) });
    const tokens = Math.min(maxTokens, session.maxContext - longest - 1);
    log(
      `bench redrafter: ${info.architecture} ${info.computeDtype}, drafter E=${drafter.info.exitDim} N=${drafter.info.numDraftLayers}, ` +
        `${prompts.length} prompts (${Math.min(...prompts.map((p) => p.length))}-${longest} tokens) x ${tokens} tokens, ${repeats} repeats, ${threads} threads`,
    );
    const base: GenerateOptions = { maxTokens: tokens, stopTokens: [], temperature: 0 };

    // best (lowest decode time) of `repeats` runs per prompt and config, runs interleaved
    const plainBest: (RunMeasure & { ids: Int32Array })[] = [];
    const rdBest: (RunMeasure & { ids: Int32Array })[][] = configs.map(() => []);
    await runOnce(session, prompts[0]!, base);  // warm-up
    for (const [m, l] of configs) await runOnce(session, prompts[0]!, { ...base, mode: 'redrafter', drafter, beams: m, beamLength: l });
    for (let r = 0; r < repeats; r++) {
      for (let p = 0; p < prompts.length; p++) {
        const plain = await runOnce(session, prompts[p]!, base);
        if (!plainBest[p] || plain.stats.decode_ms < plainBest[p]!.decode_ms)
          plainBest[p] = { decode_ms: plain.stats.decode_ms, tokens: plain.ids.length - 1, stats: plain.stats, ids: plain.ids };
        for (let c = 0; c < configs.length; c++) {
          const [m, l] = configs[c]!;
          const rd = await runOnce(session, prompts[p]!, { ...base, mode: 'redrafter', drafter, beams: m, beamLength: l });
          if (!rdBest[c]![p] || rd.stats.decode_ms < rdBest[c]![p]!.decode_ms)
            rdBest[c]![p] = { decode_ms: rd.stats.decode_ms, tokens: rd.ids.length - 1, stats: rd.stats, ids: rd.ids };
        }
      }
    }
    session.dispose();

    const plainMs = plainBest.reduce((s, x) => s + x.decode_ms, 0);
    const plainTokens = plainBest.reduce((s, x) => s + x.tokens, 0);
    const plainTokS = (plainTokens / plainMs) * 1000;
    const results: RedrafterConfigResult[] = configs.map(([m, l], c) => {
      const runs = rdBest[c]!;
      const ms = runs.reduce((s, x) => s + x.decode_ms, 0);
      const toks = runs.reduce((s, x) => s + x.tokens, 0);
      const generated = runs.reduce((s, x) => s + x.ids.length, 0);
      const passes = runs.reduce((s, x) => s + x.stats.forward_passes, 0);
      const hist: number[] = [];
      let treeNodes = 0;
      let rounds = 0;
      for (const x of runs) {
        const h = x.stats.accepted_histogram ?? [];
        h.forEach((v, i) => (hist[i] = (hist[i] ?? 0) + v));
        const n = h.reduce((a, b) => a + b, 0);
        rounds += n;
        treeNodes += (x.stats.mean_tree_size ?? 0) * n;
      }
      const draft = runs.reduce((s, x) => s + (x.stats.draft_ms ?? 0), 0);
      const verify = runs.reduce((s, x) => s + (x.stats.verify_ms ?? 0), 0);
      const accept = runs.reduce((s, x) => s + (x.stats.accept_ms ?? 0), 0);
      const mismatched = runs.flatMap((x, p) => (x.ids.length === plainBest[p]!.ids.length && x.ids.every((t, i) => t === plainBest[p]!.ids[i]) ? [] : [p]));
      const tokS = (toks / ms) * 1000;
      return {
        beams: m, beam_length: l, tok_s: tokS, speedup: tokS / plainTokS, tokens_per_step: generated / passes,
        mean_tree_size: rounds > 0 ? treeNodes / rounds : 0, accepted_histogram: Array.from(hist, (v) => v ?? 0),
        draft_ms: draft, verify_ms: verify, accept_ms: accept, other_ms: ms - draft - verify - accept, decode_ms: ms,
        identical: mismatched.length === 0, mismatched_prompts: mismatched,
      };
    });
    const main = results.find((r) => r.beams === beams && r.beam_length === beamLength)!;
    const result: RedrafterBenchResult = {
      model: modelDir, drafter: drafterDir, threads, kernel_path: info.kernelPath, dtype: info.computeDtype,
      prompts: prompts.length, max_tokens: tokens, repeats,
      plain: { tok_s: plainTokS, decode_ms: plainMs, tokens: plainTokens },
      redrafter: main,
      ...(f.sweep || calibrated ? { sweep: results } : {}),
      ...(calibrated ? { calibration: calibrated } : {}),
      identical_greedy_output: results.every((r) => r.identical),
    };

    const pct = (x: number, of: number): string => `${((100 * x) / of).toFixed(0)}%`;
    const rows: [string, string][] = [
      ['plain decoding', `${plainTokS.toFixed(1)} tok/s`],
      [`redrafter M=${main.beams} L=${main.beam_length}`, `${main.tok_s.toFixed(1)} tok/s`],
      ['speedup', `${main.speedup.toFixed(2)}x`],
      ['tokens per step', main.tokens_per_step.toFixed(2)],
      ['accepted drafts (histogram)', main.accepted_histogram.join(' ')],
      ['mean tree size', main.mean_tree_size.toFixed(1)],
      [
        'time: draft / verify / accept / other',
        `${pct(main.draft_ms, main.decode_ms)} / ${pct(main.verify_ms, main.decode_ms)} / ${pct(main.accept_ms, main.decode_ms)} / ${pct(main.other_ms, main.decode_ms)}`,
      ],
      ['identical greedy output', result.identical_greedy_output ? 'yes' : `NO (configs/prompts differ: ${results.filter((r) => !r.identical).map((r) => `M=${r.beams} L=${r.beam_length}: ${r.mismatched_prompts.join(',')}`).join('; ')})`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length)) + 2;
    let out = `${rows.map(([k, v]) => `${k.padEnd(w)}${v}`).join('\n')}\n`;
    if (f.sweep || calibrated) {
      if (calibrated) out += `\ncalibration (${Math.round(calibrated.figures.ms)} ms, ${calibrated.figures.promptTokens}-token prompts): ${calibrated.decision.reason}\n`;
      const mark = (r: RedrafterConfigResult): string =>
        [calibrated && r.beams === calibrated.fastest.beams && r.beam_length === calibrated.fastest.beamLength ? 'calibration' : '', r.beams === beams && r.beam_length === beamLength ? 'default' : '']
          .filter(Boolean)
          .join(', ');
      out += '\n   M   L   tok/s  speedup  tok/step  tree  draft%  identical\n';
      for (const r of results)
        out += `${String(r.beams).padStart(4)}${String(r.beam_length).padStart(4)}${r.tok_s.toFixed(1).padStart(8)}${r.speedup.toFixed(2).padStart(9)}` +
          `${r.tokens_per_step.toFixed(2).padStart(10)}${r.mean_tree_size.toFixed(1).padStart(6)}${pct(r.draft_ms, r.decode_ms).padStart(8)}  ${r.identical ? 'yes' : 'NO'}` +
          `${mark(r) ? `  ${mark(r)}` : ''}\n`;
    }
    process.stdout.write(out);
    if (f.out !== undefined) writeFileSync(f.out as string, `${JSON.stringify(result, null, 2)}\n`);
    if (!result.identical_greedy_output) {
      log('bench redrafter: greedy ReDrafter output differs from plain decoding (see docs/redrafter.md §6, numerical parity)');
      return 1;
    }
    return 0;
  } finally {
    drafter?.dispose();
    model.dispose();
  }
}
