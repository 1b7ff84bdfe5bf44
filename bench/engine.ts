/**
 * `slipstream bench engine`: measures, in one run: load time, prefill tokens/s (512-token prompt),
 * plain decode tokens/s, the cost of one forward over N = 1..64 tokens relative to N = 1, weight
 * bytes, DRAM read bandwidth and decode as a fraction of the roofline (bandwidth / bytes per token).
 * Prints a table; --out writes the JSON. Speed is reported as ratios from this one run
 * (docs/performance.md). The machine's bandwidth moves from second to second, so each decode round
 * is paired with a probe taken just before it, and the N-curve is taken in rounds over all N, so
 * every N sees the same stretch of time. The CLI (server/src/cli/bench.ts) dispatches here.
 */
import { writeFileSync } from 'node:fs';
import { measureReadBandwidth, Model, type Session } from '../native/lib/index.js';
import type { ParsedArgs } from '../server/src/cli/args.js';
import { modelDirsFromFlags } from '../server/src/cli/paths.js';
import { percentile } from '../server/src/percentile.js';
import { seededIds } from './lib/seeded-ids.js';
import { weightsFromFlags } from '../server/src/cli/weights-flag.js';

/** ms of one forward of `tokens` with logits for every row (what a tree verification needs). */
async function timeForward(session: Session, tokens: Int32Array): Promise<number> {
  const base = session.length;
  const t0 = performance.now();
  await session.forward(tokens, { outputRows: Int32Array.from(tokens.keys()) });
  const ms = performance.now() - t0;
  session.truncate(base);
  return ms;
}

export interface EngineBenchResult {
  model: string;
  architecture: string;
  dtype: string;
  threads: number;
  kernel_path: string;
  load_ms: number;
  weight_bytes: number;
  bytes_per_token: number;
  bandwidth_gbs: number;
  roofline_tok_s: number;
  prefill_tokens: number;
  prefill_tok_s: number;
  decode_tokens: number;
  decode_tok_s: number;
  /** Median over rounds of decode tok/s / (that round's bandwidth / bytes per token). */
  decode_fraction_of_roofline: number;
  /** The fraction is above 1: the weights come from the CPU caches, not DRAM (no roofline applies). */
  cache_resident: boolean;
  decode_rounds: { bandwidth_gbs: number; tok_s: number; fraction_of_roofline: number }[];
  forward_cost: { n: number; ms: number; relative: number }[];
}

/**
 * A decode rate as a share of the DRAM roofline. Above 100% the weights did not come from DRAM:
 * the model fits in the CPU caches, so the roofline (bandwidth / bytes per token) does not bound it.
 */
export function rooflineNote(fraction: number, before: string, after: string): string {
  if (fraction > 1) return `${(fraction * 100).toFixed(0)}% of the DRAM roofline: cache-resident model, the roofline does not apply`;
  return `${before}${(100 * fraction).toFixed(1)}% of the roofline${after}`;
}

export async function runEngineBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const dir = modelDirsFromFlags(f).modelDir;
  const threads = (f.threads as number | undefined) ?? 2;
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  const t0 = performance.now();
  const weights = weightsFromFlags(f);
  const model = await Model.load(dir, { threads, ...(weights ? { weights } : {}) });
  const loadMs = performance.now() - t0;
  const info = model.info;
  const lo = Math.min(300, Math.floor(info.vocabSize / 4));
  const hi = Math.max(lo + 1, Math.floor(info.vocabSize / 2));
  try {
    log(`bench engine: ${info.architecture}, ${info.computeDtype}, ${(info.weightBytes / 1e6).toFixed(0)} MB, ${threads} threads`);
    // Bytes read per decoded token: every weight, except an untied input embedding (one row is read).
    const embedBytes = info.vocabSize * info.hiddenSize * (info.computeDtype === 'bf16' ? 2 : 4);
    const bytesPerToken = info.tieWordEmbeddings ? info.weightBytes : info.weightBytes - embedBytes;

    const session = model.createSession({ maxContext: Math.min(info.maxPositionEmbeddings, 1024) });
    // prefill: a 512-token prompt (best of 3)
    const promptLen = Math.min(512, session.maxContext - 80);
    const prompt = seededIds(promptLen, lo, hi, 1);
    const prefillMs: number[] = [];
    for (let r = 0; r < 3; r++) {
      session.truncate(0);
      const t = performance.now();
      await session.forward(prompt);
      prefillMs.push(performance.now() - t);
    }
    const prefillTokS = (promptLen / Math.min(...prefillMs)) * 1000;

    // decode: rounds of greedy steps after a short prompt (stop tokens off), each right after a
    // bandwidth probe; the fraction of the roofline is taken per round, then the median
    const decodeTokens = 32;
    const rounds: EngineBenchResult['decode_rounds'] = [];
    for (let r = 0; r < 5; r++) {
      const bandwidth = measureReadBandwidth(256 * 1024 * 1024, threads, 3);
      session.truncate(0);
      const gen = session.generate(seededIds(16, lo, hi, 2), { maxTokens: decodeTokens, stopTokens: [] });
      let res = await gen.next();
      while (!res.done) res = await gen.next();
      const s = res.value.stats;
      const tokS = ((res.value.ids.length - 1) / s.decode_ms) * 1000;
      rounds.push({ bandwidth_gbs: bandwidth, tok_s: tokS, fraction_of_roofline: tokS / ((bandwidth * 1e9) / bytesPerToken) });
    }
    const decodeTokS = Math.max(...rounds.map((r) => r.tok_s));
    const decodeFraction = percentile(rounds.map((r) => r.fraction_of_roofline), 50)!;

    // forward cost over N tokens after a 64-token context, logits for every row (tree verification):
    // a warm-up round, then 7 rounds over all N; best per N (interference only ever adds time)
    session.truncate(0);
    await session.forward(seededIds(64, lo, hi, 3));
    const ns = [1, 2, 4, 8, 16, 32, 64];
    const toks = ns.map((n) => seededIds(n, lo, hi, 10 + n));
    const best = ns.map(() => Infinity);
    for (let r = 0; r < 8; r++) {
      for (let j = 0; j < ns.length; j++) {
        const ms = await timeForward(session, toks[j]!);
        if (r > 0) best[j] = Math.min(best[j]!, ms);
      }
    }
    const curve = ns.map((n, j) => ({ n, ms: best[j]!, relative: best[j]! / best[0]! }));
    session.dispose();
    const bandwidth = Math.max(...rounds.map((r) => r.bandwidth_gbs));
    const roofline = (bandwidth * 1e9) / bytesPerToken;

    const result: EngineBenchResult = {
      model: dir,
      architecture: info.architecture,
      dtype: info.computeDtype,
      threads,
      kernel_path: info.kernelPath,
      load_ms: loadMs,
      weight_bytes: info.weightBytes,
      bytes_per_token: bytesPerToken,
      bandwidth_gbs: bandwidth,
      roofline_tok_s: roofline,
      prefill_tokens: promptLen,
      prefill_tok_s: prefillTokS,
      decode_tokens: decodeTokens,
      decode_tok_s: decodeTokS,
      decode_fraction_of_roofline: decodeFraction,
      cache_resident: decodeFraction > 1,
      decode_rounds: rounds,
      forward_cost: curve,
    };
    const rows: [string, string][] = [
      ['load', `${loadMs.toFixed(0)} ms`],
      ['weights', `${(info.weightBytes / 1e6).toFixed(1)} MB (${(bytesPerToken / 1e6).toFixed(1)} MB read per token)`],
      ['DRAM read bandwidth', `${bandwidth.toFixed(1)} GB/s (best of the decode rounds' probes)`],
      ['roofline', `${roofline.toFixed(1)} tok/s`],
      [`prefill (${promptLen} tokens)`, `${prefillTokS.toFixed(1)} tok/s`],
      ['decode', `${decodeTokS.toFixed(1)} tok/s (${rooflineNote(decodeFraction, 'median ', ' paired with each round')})`],
      ...rounds.map((r, i): [string, string] => [`  round ${i + 1}`, `${r.bandwidth_gbs.toFixed(1)} GB/s, ${r.tok_s.toFixed(1)} tok/s = ${rooflineNote(r.fraction_of_roofline, '', '')}`]),
      ...curve.map((c): [string, string] => [`forward N=${c.n}`, `${c.ms.toFixed(2)} ms (${c.relative.toFixed(2)}x N=1)`]),
    ];
    const w = Math.max(...rows.map((r) => r[0].length)) + 2;
    process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(w)}${v}`).join('\n')}\n`);
    if (f.out !== undefined) writeFileSync(f.out as string, `${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
