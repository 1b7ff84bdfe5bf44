/**
 * `slipstream bench startup`: how soon a freshly started server is of use. Starts `slipstream
 * serve --stdio` 2 x --rounds times (default 8 rounds; one server at a time), and times from the
 * spawn to the answer to `initialize`, and to the first suggestion asked right after it (which
 * waits for the model's load and, with engine.mode auto, its calibration: the server starts both
 * at `initialized`). Each round starts one server with an empty calibration cache (a first start:
 * it calibrates) and one whose cache an earlier start filled (a later start: it reads the
 * calibration back), in turn; `SLIPSTREAM_CACHE_DIR` points each at a scratch folder, never the
 * user's cache. Prints medians and each round; --out writes the JSON. The CLI
 * (server/src/cli/bench.ts) dispatches here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedArgs } from '../server/src/cli/args.js';
import { percentile } from '../server/src/percentile.js';
import { LspClient } from './lib/lsp-client.js';

/** Spawn to the initialize answer and to the first suggestion's answer, ms, each round. */
export interface StartupTimes {
  initialize_ms: number[];
  first_suggestion_ms: number[];
  initialize_p50_ms: number;
  first_suggestion_p50_ms: number;
}

export interface StartupBenchResult {
  rounds: number;
  /** Starts with an empty calibration cache. */
  first_start: StartupTimes;
  /** Starts whose calibration cache an earlier start filled. */
  later_start: StartupTimes;
}

const TEXT = 'export function clamp(x: number, lo: number, hi: number): number {\n  return ';

/** One server start with this calibration cache directory: [initialize answered, first suggestion] in ms from the spawn. */
async function start(settings: object, cacheDir: string): Promise<[number, number]> {
  const t0 = performance.now();
  const c = new LspClient([], { spawn: { env: { ...process.env, SLIPSTREAM_CACHE_DIR: cacheDir } } });
  try {
    await c.initialize(settings);
    const init = performance.now() - t0;
    await c.request('slipstream/complete', { text: TEXT, offset: TEXT.length, uri: 'untitled:startup.ts' });
    return [init, performance.now() - t0];
  } finally {
    await c.close();
  }
}

function times(pairs: [number, number][]): StartupTimes {
  const init = pairs.map((p) => p[0]);
  const first = pairs.map((p) => p[1]);
  return { initialize_ms: init, first_suggestion_ms: first, initialize_p50_ms: percentile(init, 50)!, first_suggestion_p50_ms: percentile(first, 50)! };
}

export async function runStartupBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const rounds = (f.rounds as number | undefined) ?? 8;
  const settings = { completion: { debounceMs: 0 }, ...(typeof f.model === 'string' ? { engine: { model: f.model } } : {}) };
  const scratch = mkdtempSync(join(tmpdir(), 'slipstream-bench-startup-'));
  const kept = join(scratch, 'kept');
  const cold: [number, number][] = [];
  const warm: [number, number][] = [];
  try {
    await start(settings, kept); // fills the kept cache (not timed)
    for (let r = 0; r < rounds; r++) {
      cold.push(await start(settings, join(scratch, `empty-${r}`)));
      warm.push(await start(settings, kept));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const result: StartupBenchResult = { rounds, first_start: times(cold), later_start: times(warm) };
  const list = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(' ');
  const lines = (name: string, t: StartupTimes): string =>
    `${name}\n` +
    `  initialize answered    p50 ${t.initialize_p50_ms.toFixed(0)} ms  (${list(t.initialize_ms)})\n` +
    `  first suggestion       p50 ${t.first_suggestion_p50_ms.toFixed(0)} ms  (${list(t.first_suggestion_ms)})\n`;
  process.stderr.write(
    `bench startup: ${rounds} rounds of two server starts\n` +
      lines('first start (empty calibration cache)', result.first_start) +
      lines('later start (calibration kept by an earlier start)', result.later_start),
  );
  if (typeof f.out === 'string') writeFileSync(f.out, `${JSON.stringify(result, null, 2)}\n`);
  return 0;
}
