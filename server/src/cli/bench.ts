/**
 * `slipstream bench SUITE`: dispatches on the suite to a harness in bench/ (engine.ts, steps.ts, startup.ts,
 * redrafter.ts, lookup.ts, keystrokes.ts, prefetch.ts, alternatives.ts, tracing.ts, fuzz/, soak.ts); the harnesses own their flags' meaning,
 * their tables and JSON.
 * This file only maps suite names to them; the benchmarks are not part of the server.
 */
import { runAlternativesBench } from '../../../bench/alternatives.js';
import { runEngineBench } from '../../../bench/engine.js';
import { runFuzzBench } from '../../../bench/fuzz/main.js';
import { runKeystrokesBench } from '../../../bench/keystrokes.js';
import { runLookupBench } from '../../../bench/lookup.js';
import { runPrefetchBench } from '../../../bench/prefetch.js';
import { runQualityBench } from '../../../bench/quality/main.js';
import { runRedrafterBench } from '../../../bench/redrafter.js';
import { runTracingBench } from '../../../bench/tracing.js';
import { runSoakBench } from '../../../bench/soak.js';
import { runStartupBench } from '../../../bench/startup.js';
import { runStepsBench } from '../../../bench/steps.js';
import { UsageError, type ParsedArgs } from './args.js';

type Suite = (args: ParsedArgs) => Promise<number>;

const suites: Record<string, Suite> = {
  engine: runEngineBench,  // load, prefill, decode, forward cost curve, roofline
  steps: runStepsBench,  // a decode step as generate()'s consumer sees it, run ahead or not
  startup: runStartupBench,  // a fresh server: spawn to initialize answered, to the first suggestion
  redrafter: runRedrafterBench,  // plain vs ReDrafter decoding
  lookup: runLookupBench,  // lookup drafts on the server's prompts, with and without a drafter
  keystrokes: runKeystrokesBench,  // typing through a file against a real server
  prefetch: runPrefetchBench,  // whole suggestions accepted, with cache.prefetch on and off
  alternatives: runAlternativesBench,  // invoked completions with their alternatives
  tracing: runTracingBench,  // the tracing code's own cost, replaying a real trace
  fuzz: runFuzzBench,  // structure-aware fuzzing of a real server (bench/fuzz/)
  soak: runSoakBench,  // clients replaying typing for minutes: answers, memory, latency
  quality: runQualityBench,  // held-out code through the server: would a user take the suggestions (bench/quality/)
};

export async function runBench(args: ParsedArgs): Promise<number> {
  const suite = args.positionals.suite!;
  const run = Object.hasOwn(suites, suite) ? suites[suite] : undefined;
  if (!run) throw new UsageError(`unknown suite '${suite}' (known: ${Object.keys(suites).join(', ')})`);
  return run(args);
}
