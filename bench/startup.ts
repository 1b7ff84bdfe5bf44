/**
 * `slipstream bench startup`: how soon a freshly started server is of use. Starts `slipstream
 * serve --stdio` --rounds times (default 8; one at a time), and times from the spawn to the answer
 * to `initialize`, and to the first suggestion asked right after it (which waits for the model's
 * load and, with engine.mode auto, its calibration: the server starts both at `initialized`).
 * Prints medians and each round; --out writes the JSON. The CLI (server/src/cli/bench.ts) dispatches here.
 */
import { writeFileSync } from 'node:fs';
import type { ParsedArgs } from '../server/src/cli/args.js';
import { percentile } from '../server/src/percentile.js';
import { LspClient } from './lib/lsp-client.js';

export interface StartupBenchResult {
  rounds: number;
  /** Spawn to the initialize answer, ms, each round. */
  initialize_ms: number[];
  /** Spawn to the first suggestion's answer, ms, each round. */
  first_suggestion_ms: number[];
  initialize_p50_ms: number;
  first_suggestion_p50_ms: number;
}

const TEXT = 'export function clamp(x: number, lo: number, hi: number): number {\n  return ';

export async function runStartupBench(args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const rounds = (f.rounds as number | undefined) ?? 8;
  const settings = { completion: { debounceMs: 0 }, ...(typeof f.model === 'string' ? { engine: { model: f.model } } : {}) };
  const init: number[] = [];
  const first: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const c = new LspClient([]);
    try {
      await c.initialize(settings);
      init.push(performance.now() - t0);
      await c.request('slipstream/complete', { text: TEXT, offset: TEXT.length, uri: 'untitled:startup.ts' });
      first.push(performance.now() - t0);
    } finally {
      await c.close();
    }
  }
  const result: StartupBenchResult = {
    rounds, initialize_ms: init, first_suggestion_ms: first,
    initialize_p50_ms: percentile(init, 50)!, first_suggestion_p50_ms: percentile(first, 50)!,
  };
  const list = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(' ');
  process.stderr.write(
    `bench startup: ${rounds} server starts\n` +
      `initialize answered    p50 ${result.initialize_p50_ms.toFixed(0)} ms  (${list(init)})\n` +
      `first suggestion       p50 ${result.first_suggestion_p50_ms.toFixed(0)} ms  (${list(first)})\n`,
  );
  if (typeof f.out === 'string') writeFileSync(f.out, `${JSON.stringify(result, null, 2)}\n`);
  return 0;
}
