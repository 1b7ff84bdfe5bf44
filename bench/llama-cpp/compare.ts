/**
 * Our engine against llama.cpp on the same model, on this machine, in one run: converts the HF
 * folder to GGUF (cached under bench/results/tmp/gguf/), then alternates for --rounds rounds
 * (order flipped every round) `engine-cli bench DIR`, llama-engine-bench (the same measurements
 * through llama.cpp's C API: prefill 512, decode after 16, one N-token forward with all-row logits)
 * and llama-bench (pp512, pp16, pp1, tg64). Prints a table of ours vs llama.cpp with the ratios and
 * writes bench/results/<date>-llama-cpp-compare.json and .md. Needs `bash bench/llama-cpp/setup.sh`.
 *
 *   npm run build && node dist/bench/llama-cpp/compare.js --model /work/bench-tmp/q05 [--threads 2] [--rounds 3]
 *   [--engine-cli PATH]   (another build of engine-cli, e.g. the one before a change)
 *   [--isa avx2|avxvnni]  (both sides as on a CPU without AVX-512: ours with SLIPSTREAM_CPU_ISA, llama.cpp
 *                          built by `LLAMA_ISA=<isa> bash bench/llama-cpp/setup.sh`)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { packageRoot } from '../../server/src/package-root.js';
import type { QuantFormat } from './gguf-quantize.js';
import { convertHfToGguf } from './hf-to-gguf.js';

const ROOT = packageRoot();
const DEPS = join(ROOT, '.bench-deps', 'llama-cpp');
const ENGINE_CLI = join(ROOT, 'native', 'build', 'Release', 'engine-cli');
const CONVERTER_VERSION = 'hf-to-gguf 1';

/** One program's figures for one round (ms per forward by N; tok/s). */
export interface EngineFigures {
  prefill512: number;
  decode: number;
  /** Median over decode rounds of decode / (that round's probed bandwidth / weight bytes), 0..1. */
  rooflineFraction?: number;
  /** Median of the bandwidth probes paired with the decode rounds, GB/s. */
  decodeBandwidth?: number;
  forwardMs: Record<number, number>;
  /** The kernels its matmuls ran (engine-cli's "kernels X, ..." line; llama-engine-bench prints none). */
  kernels?: string;
}

export interface LlamaBenchFigures {
  pp512: number;
  tg64: number;
  pp16Ms: number;
  pp1Ms: number;
}

interface Round {
  round: number;
  order: string[];
  loadBefore: number;
  loadAfter: number;
  /** CPU time used by processes other than this benchmark during the round, in cores (0..nproc). */
  otherCores: number;
  ours: EngineFigures;
  llama: EngineFigures;
  llamaBench: LlamaBenchFigures;
  /** stdout of engine-cli bench and llama-engine-bench, for auditing. */
  raw: { ours: string; llama: string };
}

/** Parses `engine-cli bench` / llama-engine-bench stdout (the same line formats). */
export function parseEngineBench(text: string, who: string): EngineFigures {
  const m = /prefill 512: ([\d.]+) tok\/s; decode: ([\d.]+) tok\/s/.exec(text);
  if (!m) throw new Error(`${who}: no "prefill 512: ... decode: ..." line in its output:\n${text.slice(-2000)}`);
  const forwardMs: Record<number, number> = {};
  for (const f of text.matchAll(/forward N=\s*(\d+)\s+([\d.]+) ms/g)) forwardMs[Number(f[1])] = Number(f[2]);
  if (!forwardMs[1] || !forwardMs[16]) throw new Error(`${who}: no forward N=1 / N=16 lines in its output`);
  const roof = /decode: [\d.]+ tok\/s \(median ([\d.]+)% of the paired roofline\)/.exec(text);
  const bws = [...text.matchAll(/^round \d+: bandwidth ([\d.]+) GB\/s/gm)].map((b) => Number(b[1]));
  const kernels = /^kernels (\S+),/m.exec(text);
  return {
    prefill512: Number(m[1]), decode: Number(m[2]),
    ...(roof ? { rooflineFraction: Number(roof[1]) / 100 } : {}), ...(bws.length ? { decodeBandwidth: median(bws) } : {}), forwardMs,
    ...(kernels ? { kernels: kernels[1] } : {}),
  };
}

/** Parses llama-bench -o json output. */
export function parseLlamaBench(json: string): LlamaBenchFigures {
  const rows = JSON.parse(json) as { n_prompt: number; n_gen: number; avg_ts: number; avg_ns: number }[];
  const find = (p: number, g: number): { avg_ts: number; avg_ns: number } => {
    const r = rows.find((x) => x.n_prompt === p && x.n_gen === g);
    if (!r) throw new Error(`llama-bench: no result for n_prompt=${p} n_gen=${g}`);
    return r;
  };
  return { pp512: find(512, 0).avg_ts, tg64: find(0, 64).avg_ts, pp16Ms: find(16, 0).avg_ns / 1e6, pp1Ms: find(1, 0).avg_ns / 1e6 };
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { stdout: string; stderr: string; seconds: number } {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...(env ? { env } : {}) });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${basename(cmd)} ${args.join(' ')} exited with ${r.status}:\n${(r.stderr || '').slice(-3000)}`);
  return { stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
}

/** The cached GGUF of dir: keyed on the folder's path and its files' sizes and mtimes. */
export function cachedGguf(dir: string, cacheDir: string, weights?: QuantFormat): string {
  const real = realpathSync(dir);
  const h = createHash('sha1').update(CONVERTER_VERSION).update(real).update(weights ?? '');
  for (const f of readdirSync(real).sort()) {
    if (!/\.(json|safetensors)$/.test(f)) continue;
    const s = statSync(join(real, f));
    h.update(`${f}:${s.size}:${s.mtimeMs}`);
  }
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, `${basename(real)}${weights ? `-${weights}` : ''}-${h.digest('hex').slice(0, 12)}.gguf`);
  if (!existsSync(out)) {
    process.stderr.write(`converting ${real} -> ${out}\n`);
    convertHfToGguf(real, `${out}.part`, weights);
    renameSync(`${out}.part`, out);  // a failure throws, naming both paths, instead of returning a path to no file
  }
  return out;
}

/** Busy CPU ticks of the whole machine (/proc/stat) and of this process + its waited children. */
function cpuTicks(): { machine: number; ours: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const machine = cpu.reduce((a, b) => a + b, 0) - cpu[3] - (cpu[4] ?? 0); // minus idle and iowait
  const self = readFileSync('/proc/self/stat', 'utf8');
  const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number); // fields from 3 (state) on
  return { machine, ours: f[11] + f[12] + f[13] + f[14] }; // utime stime cutime cstime
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The instruction sets --isa can hold both programs to (a CPU without AVX-512). */
type Isa = 'avx2' | 'avxvnni';
/** The llama.cpp build for an instruction set (setup.sh: -march=native without --isa). */
const llamaBin = (isa?: Isa): string => join(DEPS, isa ? `build-${isa}` : 'build', 'bin');

/** engineCli: our engine-cli (another build's, e.g. to compare before and after a change). */
interface Args { model: string; threads: number; rounds: number; out: string; engineCli: string; weights?: QuantFormat; isa?: Isa }

function parseArgs(argv: string[]): Args {
  const a: Args = { model: '', threads: 2, rounds: 3, out: join(ROOT, 'bench', 'results'), engineCli: ENGINE_CLI };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${argv[i]} needs a value`);
    if (argv[i] === '--model') a.model = v;
    else if (argv[i] === '--threads') a.threads = Number(v);
    else if (argv[i] === '--rounds') a.rounds = Number(v);
    else if (argv[i] === '--out') a.out = v;
    else if (argv[i] === '--engine-cli') a.engineCli = v;
    else if (argv[i] === '--isa') {
      if (v !== 'avx2' && v !== 'avxvnni') throw new Error("--isa must be 'avx2' or 'avxvnni'");
      a.isa = v;
    }
    else if (argv[i] === '--weights') {
      if (v !== 'q8_0' && v !== 'q4_0' && v !== 'bf16') throw new Error("--weights must be 'bf16', 'q8_0' or 'q4_0'");
      if (v !== 'bf16') a.weights = v;
    }
    else throw new Error(`unknown option ${argv[i]}`);
  }
  if (!a.model) throw new Error('usage: node dist/bench/llama-cpp/compare.js --model HF_DIR [--threads 2] [--rounds 3] [--out DIR] [--engine-cli PATH] [--weights q8_0|q4_0] [--isa avx2|avxvnni]');
  if (!(a.threads > 0) || !(a.rounds > 0)) throw new Error('--threads and --rounds must be positive');
  return a;
}

const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const pct = (x: number | undefined): string => (x === undefined ? '?' : `${(100 * x).toFixed(1)}%`);

/** The table rows: metric, ours, llama.cpp, ours/llama (higher-is-better metrics as speed ratios). */
function tableRows(ours: EngineFigures, llama: EngineFigures, lb: LlamaBenchFigures): string[][] {
  const r16o = ours.forwardMs[16] / ours.forwardMs[1];
  const r16l = llama.forwardMs[16] / llama.forwardMs[1];
  return [
    ['prefill 512 (tok/s)', f1(ours.prefill512), f1(llama.prefill512), f2(ours.prefill512 / llama.prefill512)],
    ['decode (tok/s)', f1(ours.decode), f1(llama.decode), f2(ours.decode / llama.decode)],
    ['decode, % of paired roofline', pct(ours.rooflineFraction), pct(llama.rooflineFraction),
      ours.rooflineFraction && llama.rooflineFraction ? f2(ours.rooflineFraction / llama.rooflineFraction) : ''],
    ['decode rounds\' probed bandwidth (GB/s)', ours.decodeBandwidth ? f1(ours.decodeBandwidth) : '?', llama.decodeBandwidth ? f1(llama.decodeBandwidth) : '?', ''],
    ['forward N=1 (ms)', f2(ours.forwardMs[1]), f2(llama.forwardMs[1]), f2(llama.forwardMs[1] / ours.forwardMs[1])],
    ['forward N=16 (ms)', f2(ours.forwardMs[16]), f2(llama.forwardMs[16]), f2(llama.forwardMs[16] / ours.forwardMs[16])],
    ['N=16 / N=1', f2(r16o), f2(r16l), ''],
    ['llama-bench pp512 / tg64 (tok/s)', '', `${f1(lb.pp512)} / ${f1(lb.tg64)}`, `${f2(ours.prefill512 / lb.pp512)} / ${f2(ours.decode / lb.tg64)}`],
    ['llama-bench pp1 / pp16 (ms), pp16/pp1', '', `${f2(lb.pp1Ms)} / ${f2(lb.pp16Ms)}, ${f2(lb.pp16Ms / lb.pp1Ms)}`, ''],
  ];
}

function formatTable(rows: string[][]): string {
  const head = ['', 'ours', 'llama.cpp', 'ours speed / llama.cpp'];
  const all = [head, ...rows];
  const w = head.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  return all.map((r) => r.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ')).join('\n');
}

function medianFigures(xs: EngineFigures[]): EngineFigures {
  const forwardMs: Record<number, number> = {};
  for (const n of Object.keys(xs[0].forwardMs).map(Number)) forwardMs[n] = median(xs.map((x) => x.forwardMs[n]));
  const roofs = xs.map((x) => x.rooflineFraction).filter((x): x is number => x !== undefined);
  return {
    prefill512: median(xs.map((x) => x.prefill512)), decode: median(xs.map((x) => x.decode)),
    ...(roofs.length === xs.length ? { rooflineFraction: median(roofs) } : {}),
    ...(xs.every((x) => x.decodeBandwidth) ? { decodeBandwidth: median(xs.map((x) => x.decodeBandwidth!)) } : {}), forwardMs,
    ...(xs[0].kernels ? { kernels: xs[0].kernels } : {}),
  };
}

function main(argv: string[]): void {
  const a = parseArgs(argv);
  const bin = llamaBin(a.isa);
  const llamaBench = join(bin, 'llama-bench');
  const llamaEngine = join(bin, 'llama-engine-bench');
  if (!existsSync(llamaBench) || !existsSync(llamaEngine)) {
    throw new Error(`llama.cpp is not installed (${bin}): run \`${a.isa ? `LLAMA_ISA=${a.isa} ` : ''}bash bench/llama-cpp/setup.sh\` first (npm install into .bench-deps/, ~5 min build on 2 cores)`);
  }
  // --isa: ours capped at the same instruction set (docs/engine.md, "Dispatch")
  const oursEnv = a.isa ? { ...process.env, SLIPSTREAM_CPU_ISA: a.isa } : undefined;
  if (!existsSync(a.engineCli)) throw new Error(`${a.engineCli} missing: run \`npm run build:native\``);
  const gguf = cachedGguf(a.model, join(ROOT, 'bench', 'results', 'tmp', 'gguf'), a.weights);
  const t = String(a.threads);
  const rounds: Round[] = [];
  let systemInfo = '';
  for (let r = 0; r < a.rounds; r++) {
    const order = r % 2 === 0 ? ['ours', 'llama'] : ['llama', 'ours'];
    const loadBefore = loadavg()[0];
    const ticks0 = cpuTicks();
    const wall0 = Date.now();
    let ours: EngineFigures | undefined;
    let llama: EngineFigures | undefined;
    let lb: LlamaBenchFigures | undefined;
    const raw = { ours: '', llama: '' };
    for (const who of order) {
      if (who === 'ours') {
        raw.ours = run(a.engineCli, ['bench', a.model, '--threads', t, ...(a.weights ? ['--weights', a.weights] : [])], oursEnv).stdout;
        ours = parseEngineBench(raw.ours, 'engine-cli bench');
      } else {
        const out = run(llamaEngine, [gguf, '--threads', t]).stdout;
        raw.llama = out;
        systemInfo = /system_info: (.*)/.exec(out)?.[1].trim() ?? systemInfo;
        llama = parseEngineBench(out, 'llama-engine-bench');
        lb = parseLlamaBench(run(llamaBench, ['-m', gguf, '-t', t, '-p', '512,16,1', '-n', '64', '-r', '3', '-o', 'json']).stdout);
      }
    }
    const ticks1 = cpuTicks();
    const hz = 100; // USER_HZ on Linux
    const otherCores = Math.max(0, (ticks1.machine - ticks0.machine - (ticks1.ours - ticks0.ours)) / hz / ((Date.now() - wall0) / 1000));
    const round: Round = { round: r + 1, order, loadBefore, loadAfter: loadavg()[0], otherCores, ours: ours!, llama: llama!, llamaBench: lb!, raw };
    rounds.push(round);
    process.stdout.write(`\nround ${r + 1} (${order.join(' then ')}; load ${f2(loadBefore)} -> ${f2(round.loadAfter)}; other processes used ${f2(otherCores)} cores)\n`);
    process.stdout.write(`${formatTable(tableRows(round.ours, round.llama, round.llamaBench))}\n`);
  }
  const mo = medianFigures(rounds.map((r) => r.ours));
  const ml = medianFigures(rounds.map((r) => r.llama));
  const mlb: LlamaBenchFigures = {
    pp512: median(rounds.map((r) => r.llamaBench.pp512)), tg64: median(rounds.map((r) => r.llamaBench.tg64)),
    pp16Ms: median(rounds.map((r) => r.llamaBench.pp16Ms)), pp1Ms: median(rounds.map((r) => r.llamaBench.pp1Ms)),
  };
  const medianTable = formatTable(tableRows(mo, ml, mlb));
  process.stdout.write(`\nmedian over ${a.rounds} rounds\n${medianTable}\n`);
  // Decode is only comparable where both sides' paired bandwidth probes read the same state.
  const matched = rounds.filter((r) => {
    const [x, y] = [r.ours.decodeBandwidth, r.llama.decodeBandwidth];
    return x !== undefined && y !== undefined && Math.abs(x - y) / Math.max(x, y) < 0.15;
  });
  const matchedLine = matched.length
    ? `decode in rounds whose bandwidth probes agree within 15% (${matched.map((r) => r.round).join(', ')}): ` +
      matched.map((r) => `${f1(r.ours.decode)}/${f1(r.llama.decode)} tok/s = ${f2(r.ours.decode / r.llama.decode)}x at ~${f1(r.llama.decodeBandwidth!)} GB/s`).join('; ')
    : 'no round had both decode measurements at the same probed bandwidth (within 15%): the decode ratio is not reliable';
  process.stdout.write(`${matchedLine}\n`);

  const git = (args: string[]): string => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  const nativeDirty = git(['status', '--porcelain', 'native']).split('\n').filter(Boolean).length;
  const lscpu = spawnSync('lscpu', [], { encoding: 'utf8' }).stdout ?? '';
  const field = (k: string): string => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(lscpu)?.[1].trim() ?? '?';
  const cpu = `${field('Model name')} (family ${field('CPU family')} model ${field('Model')}; flags ${/avx512_bf16/.test(lscpu) ? 'include' : 'lack'} avx512_bf16)`;
  const llamaCommit = spawnSync('git', ['-C', join(DEPS, 'src'), 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  let nlcVersion = 'unknown';
  try {
    nlcVersion = (JSON.parse(readFileSync(join(DEPS, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')) as { version: string }).version;
  } catch { /* reported as unknown */ }
  const otherBuild = a.engineCli !== ENGINE_CLI;  // --engine-cli: a binary this checkout did not build
  const command = `node dist/bench/llama-cpp/compare.js --model ${a.model} --threads ${a.threads} --rounds ${a.rounds}${a.weights ? ` --weights ${a.weights}` : ''}${otherBuild ? ` --engine-cli ${a.engineCli}` : ''}${a.isa ? ` --isa ${a.isa}` : ''}`;
  const build = `llama.cpp ${llamaCommit} from node-llama-cpp ${nlcVersion}'s bundled source, built here with ${a.isa ? `LLAMA_ISA=${a.isa} (no AVX-512: GGML AVX2, FMA, F16C, BMI2${a.isa === 'avxvnni' ? ', AVX_VNNI' : ''})` : 'GGML_NATIVE (-march=native)'}, static, OpenMP`;
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(a.out, { recursive: true });
  let stem = join(a.out, `${date}-llama-cpp-compare`);
  for (let i = 2; existsSync(`${stem}.json`); i++) stem = join(a.out, `${date}-llama-cpp-compare-${i}`);
  const result = {
    command, date: new Date().toISOString(), cpu, threads: a.threads, model: a.model, gguf,
    engineCommit: otherBuild ? null : git(['rev-parse', '--short', 'HEAD']), nativeUncommittedFiles: otherBuild ? null : nativeDirty,
    engineCli: a.engineCli, isa: a.isa ?? null,
    llamaCpp: { build, systemInfo, llamaBenchArgs: `-t ${a.threads} -p 512,16,1 -n 64 -r 3` },
    rounds, median: { ours: mo, llama: ml, llamaBench: mlb },
    ratios: {
      prefillOursOverLlama: mo.prefill512 / ml.prefill512,
      decodeOursOverLlama: mo.decode / ml.decode,
      decodeRooflineFractionOurs: mo.rooflineFraction,
      decodeRooflineFractionLlama: ml.rooflineFraction,
      decodeMatchedBandwidthRounds: matched.map((r) => ({ round: r.round, oursOverLlama: r.ours.decode / r.llama.decode, bandwidth: r.llama.decodeBandwidth })),
      n16OverN1Ours: mo.forwardMs[16] / mo.forwardMs[1],
      n16OverN1Llama: ml.forwardMs[16] / ml.forwardMs[1],
      llamaBenchPp16OverPp1: mlb.pp16Ms / mlb.pp1Ms,
    },
  };
  writeFileSync(`${stem}.json`, `${JSON.stringify(result, null, 2)}\n`);
  const md = [
    `# Our engine vs llama.cpp, ${date}`,
    '',
    `Command: \`${command}\` (${a.rounds} rounds, order flipped each round; load average ${rounds.map((r) => f2(r.loadBefore)).join(', ')} at the start of each round, the benchmark's own 2 threads included; CPU used by other processes during each round: ${rounds.map((r) => f2(r.otherCores)).join(', ')} cores).`,
    `Machine: ${cpu}, ${a.threads} threads${a.isa ? `, both programs held to ${a.isa} (ours with SLIPSTREAM_CPU_ISA=${a.isa})` : ''}. Engine: ${otherBuild ? `the engine-cli given with --engine-cli (${a.engineCli}), not this checkout's build` : `${result.engineCommit}${nativeDirty ? ` with ${nativeDirty} uncommitted file(s) under native/ (the engine-cli binary as built then)` : ''}`}${rounds[0]?.ours.kernels ? `; its matmuls ran the ${rounds[0].ours.kernels} kernels` : ''}.`,
    `llama.cpp: ${build}; system_info: \`${systemInfo}\`.`,
    a.weights
      ? `Model: the HF folder for ours, loaded with --weights ${a.weights}; for llama.cpp its GGUF conversion with the same blocks (bench/llama-cpp/hf-to-gguf.ts --weights ${a.weights}: the layers' matrices ${a.weights.toUpperCase()}, token_embd/output Q8_0, norms F32).`
      : 'Model: the HF folder for ours, its GGUF conversion (bench/llama-cpp/hf-to-gguf.ts: BF16 matrices kept BF16, norms/biases F32) for llama.cpp.',
    '',
    'Ours = `engine-cli bench`; llama.cpp = `llama-engine-bench` (bench/llama-cpp/llama-engine-bench.cpp: the same token ids,',
    'prefill of 512 in one batch, greedy decode after 16, one forward of N tokens after 64 with logits for every row,',
    'best of the same repetitions), plus `llama-bench` for reference (its ppN keeps only the last row\'s logits).',
    'The last column is ours as a speed ratio (> 1: ours faster). This machine\'s DRAM bandwidth moves between',
    'rounds (the probe reads ~30 or ~55 GB/s at different times, for minutes at a time), so decode tok/s ratios',
    'are noisy: both programs pair each decode round with the same bandwidth probe (native/src/backends/cpu/membench.cpp); compare',
    'decode only where both sides\' probed bandwidth is in the same state (llama.cpp reaches ~90% of the roofline in',
    'the ~30 GB/s state but only ~70% in the ~55 GB/s one).',
    '',
    '```',
    `median over ${a.rounds} rounds`,
    medianTable,
    '```',
    '',
    `${matchedLine[0].toUpperCase()}${matchedLine.slice(1)}.`,
    '',
    `Per round: ${rounds.map((r) => `prefill ${f1(r.ours.prefill512)}/${f1(r.llama.prefill512)}, decode ${f1(r.ours.decode)}/${f1(r.llama.decode)} (${pct(r.ours.rooflineFraction)}/${pct(r.llama.rooflineFraction)} of roofline), N16/N1 ${f2(r.ours.forwardMs[16] / r.ours.forwardMs[1])}/${f2(r.llama.forwardMs[16] / r.llama.forwardMs[1])}`).join('; ')} (ours/llama.cpp).`,
    '',
  ].join('\n');
  writeFileSync(`${stem}.md`, md);
  process.stdout.write(`\nwrote ${stem}.json and ${stem}.md\n`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`compare: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
