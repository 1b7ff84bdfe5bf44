/**
 * `slipstream bench SUITE`: dispatches on the suite. `engine` measures, in one run: load time,
 * prefill tokens/s (512-token prompt), plain decode tokens/s, the cost of one forward over
 * N = 1..64 tokens relative to N = 1, weight bytes, DRAM read bandwidth and decode as a fraction of
 * the roofline (bandwidth / bytes per token). Prints a table; --out writes the JSON.
 * Speed is reported as ratios from this one run (docs/performance.md).
 */
import { writeFileSync } from 'node:fs';
import { measureReadBandwidth, Model, type Session } from '../../../native/lib/index.js';
import { UsageError, type ParsedArgs } from './args.js';
import { runKeystrokesBench } from './bench-keystrokes.js';
import { runRedrafterBench } from './bench-redrafter.js';
import { existingDir } from './paths.js';
import { seededIds } from './seeded-ids.js';

type Suite = (args: ParsedArgs) => Promise<number>;

const suites: Record<string, Suite> = {
  engine: runEngineBench,
  redrafter: runRedrafterBench,  // plain vs ReDrafter decoding (bench-redrafter.ts)
  keystrokes: runKeystrokesBench,  // typing through a file against a real server (bench-keystrokes.ts)
};

export async function runBench(args: ParsedArgs): Promise<number> {
  const suite = args.positionals.suite!;
  const run = suites[suite];
  if (!run) throw new UsageError(`unknown suite '${suite}' (known: ${Object.keys(suites).join(', ')})`);
  return run(args);
}

async function timeForward(session: Session, tokens: Int32Array, allRows: boolean): Promise<number> {
  const base = session.length;
  const t0 = performance.now();
  await session.forward(tokens, allRows ? { outputRows: Int32Array.from(tokens.keys()) } : {});
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
  decode_fraction_of_roofline: number;
  forward_cost: { n: number; ms: number; relative: number }[];
}

async function runEngineBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  if (f.model === undefined) throw new UsageError('--model is required');
  const dir = existingDir('model', f.model as string);
  const threads = (f.threads as number | undefined) ?? 2;
  const log = (s: string): void => void process.stderr.write(`${s}\n`);

  const t0 = performance.now();
  const model = await Model.load(dir, { threads });
  const loadMs = performance.now() - t0;
  const info = model.info;
  const lo = Math.min(300, Math.floor(info.vocabSize / 4));
  const hi = Math.max(lo + 1, Math.floor(info.vocabSize / 2));
  try {
    log(`bench engine: ${info.architecture}, ${info.computeDtype}, ${(info.weightBytes / 1e6).toFixed(0)} MB, ${threads} threads`);
    // measured before and after the engine runs (best of both): the machine is shared, so the
    // better figure is the closer one to what the memory system can do
    const bandwidthBefore = measureReadBandwidth(512 * 1024 * 1024, threads, 5);
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

    // decode: greedy steps after a short prompt, stop tokens off (best of 3 runs)
    const decodeTokens = 64;
    let decodeTokS = 0;
    for (let r = 0; r < 3; r++) {
      session.truncate(0);
      const gen = session.generate(seededIds(16, lo, hi, 2), { maxTokens: decodeTokens, stopTokens: [] });
      let res = await gen.next();
      while (!res.done) res = await gen.next();
      const s = res.value.stats;
      decodeTokS = Math.max(decodeTokS, ((res.value.ids.length - 1) / s.decode_ms) * 1000);
    }

    // forward cost over N tokens after a 64-token context, logits for every row (tree verification)
    session.truncate(0);
    await session.forward(seededIds(64, lo, hi, 3));
    const curve: { n: number; ms: number; relative: number }[] = [];
    for (const n of [1, 2, 4, 8, 16, 32, 64]) {
      const toks = seededIds(n, lo, hi, 10 + n);
      await timeForward(session, toks, true);  // warm-up
      const ms: number[] = [];
      for (let r = 0; r < 7; r++) ms.push(await timeForward(session, toks, true));
      // best of 7: the machine is shared, and interference only ever adds time
      curve.push({ n, ms: Math.min(...ms), relative: 0 });
    }
    for (const c of curve) c.relative = c.ms / curve[0]!.ms;
    session.dispose();
    const bandwidth = Math.max(bandwidthBefore, measureReadBandwidth(512 * 1024 * 1024, threads, 5));
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
      decode_fraction_of_roofline: decodeTokS / roofline,
      forward_cost: curve,
    };
    const rows: [string, string][] = [
      ['load', `${loadMs.toFixed(0)} ms`],
      ['weights', `${(info.weightBytes / 1e6).toFixed(1)} MB (${(bytesPerToken / 1e6).toFixed(1)} MB read per token)`],
      ['DRAM read bandwidth', `${bandwidth.toFixed(1)} GB/s`],
      ['roofline', `${roofline.toFixed(1)} tok/s`],
      [`prefill (${promptLen} tokens)`, `${prefillTokS.toFixed(1)} tok/s`],
      ['decode', `${decodeTokS.toFixed(1)} tok/s (${(100 * result.decode_fraction_of_roofline).toFixed(1)}% of roofline)`],
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
