/**
 * `slipstream bench steps`: what one decode step costs as a Session.generate consumer sees it (the
 * time between two chunks' arrivals) against the engine's own time for the step, with the steps
 * run one per next() (runAhead 0) and ahead of the consumer (DEFAULT_RUN_AHEAD), for a consumer
 * that takes each chunk at once and one that spends --work-us on each (as the server does:
 * decoding the text, its filters, the trace). The variants alternate within each round, so they
 * see the same stretches of a noisy machine; figures are medians over all steps. Also says which
 * runAhead generate() picks by default here (defaultRunAhead: ahead only when the model's
 * threads leave a CPU free). --out writes the JSON. The CLI (server/src/cli/bench.ts) dispatches here.
 */
import { availableParallelism } from 'node:os';
import { writeFileSync } from 'node:fs';
import { DEFAULT_RUN_AHEAD, defaultRunAhead, Model, type Session } from '../native/lib/index.js';
import type { ParsedArgs } from '../server/src/cli/args.js';
import { modelDirsFromFlags } from '../server/src/cli/paths.js';
import { percentile } from '../server/src/percentile.js';
import { seededIds } from './lib/seeded-ids.js';

export interface StepsBenchRow {
  consumer: 'idle' | 'busy';
  run_ahead: number;
  /** Median time between two decode chunks' arrivals. */
  step_wall_ms: number;
  /** Median engine time of a decode step. */
  step_engine_ms: number;
  /** Tokens per second of wall time from the first decode chunk to the last, median over rounds. */
  tok_s: number;
}

export interface StepsBenchResult {
  model: string;
  threads: number;
  cpus: number;
  default_run_ahead: number;
  work_us: number;
  tokens: number;
  rounds: number;
  rows: StepsBenchRow[];
}

/** Spins for `us` microseconds (a consumer's own work on a chunk). */
function work(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

/** One generation of `tokens` after `prompt`: its decode steps' arrival gaps and engine times. */
async function run(session: Session, prompt: Int32Array, tokens: number, runAhead: number, workUs: number) {
  session.truncate(0);
  const walls: number[] = [];
  const engine: number[] = [];
  let last = 0;
  let first = 0;
  let n = 0;
  for await (const chunk of session.generate(prompt, { maxTokens: tokens, stopTokens: [], runAhead })) {
    const at = performance.now();
    if (chunk.step.kind === 'prefill') first = at;
    else {
      walls.push(at - last);
      engine.push(chunk.step.stepMs);
      n += chunk.ids.length;
    }
    last = at;
    if (workUs > 0) work(workUs);
  }
  return { walls, engine, tokS: (n / (last - first)) * 1000 };
}

export async function runStepsBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const dir = modelDirsFromFlags(f).modelDir;
  const threads = (f.threads as number | undefined) ?? 2;
  const tokens = (f.tokens as number | undefined) ?? 64;
  const rounds = (f.rounds as number | undefined) ?? 30;
  const workUs = (f['work-us'] as number | undefined) ?? 60;
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const model = await Model.load(dir, { threads });
  try {
    const info = model.info;
    const session = model.createSession({ maxContext: Math.min(info.maxPositionEmbeddings, 1024) });
    const prompt = seededIds(Math.min(300, session.maxContext - tokens - 1), 3, Math.max(4, info.vocabSize >> 1), 5);
    const variants = (['idle', 'busy'] as const).flatMap((consumer) => [0, DEFAULT_RUN_AHEAD].map((runAhead) => ({ consumer, runAhead })));
    const got = variants.map(() => ({ walls: [] as number[], engine: [] as number[], tokS: [] as number[] }));
    await run(session, prompt, tokens, 0, 0);  // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const [i, v] of variants.entries()) {
        const x = await run(session, prompt, tokens, v.runAhead, v.consumer === 'busy' ? workUs : 0);
        got[i]!.walls.push(...x.walls);
        got[i]!.engine.push(...x.engine);
        got[i]!.tokS.push(x.tokS);
      }
    }
    session.dispose();
    const rows: StepsBenchRow[] = variants.map((v, i) => ({
      consumer: v.consumer,
      run_ahead: v.runAhead,
      step_wall_ms: percentile(got[i]!.walls, 50)!,
      step_engine_ms: percentile(got[i]!.engine, 50)!,
      tok_s: percentile(got[i]!.tokS, 50)!,
    }));
    const cpus = availableParallelism();
    const result: StepsBenchResult = {
      model: dir, threads, cpus, default_run_ahead: defaultRunAhead(threads), work_us: workUs, tokens, rounds, rows,
    };
    log(`bench steps: ${dir}, ${threads} threads of ${cpus} CPUs (generate() runs ahead by default here: ${result.default_run_ahead > 0 ? `yes, ${result.default_run_ahead}` : 'no'}), ${tokens} tokens x ${rounds} rounds, busy consumer ${workUs} us a chunk`);
    log('consumer  runAhead  step (consumer sees)  engine step  overhead  tok/s');
    for (const row of rows)
      log(
        `${row.consumer.padEnd(8)}  ${String(row.run_ahead).padStart(8)}  ${`${row.step_wall_ms.toFixed(3)} ms`.padStart(20)}  ${`${row.step_engine_ms.toFixed(3)} ms`.padStart(11)}` +
          `  ${`${(row.step_wall_ms - row.step_engine_ms).toFixed(3)} ms`.padStart(8)}  ${row.tok_s.toFixed(0).padStart(5)}`,
      );
    if (typeof f.out === 'string') writeFileSync(f.out, `${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
