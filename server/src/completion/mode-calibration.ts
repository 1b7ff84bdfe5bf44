/**
 * Decoding mode `auto`: whether ReDrafter pays for this model, drafter and machine. At load, a
 * short calibration completes three built-in code prompts both ways on one engine session (plain
 * decoding and ReDrafter, greedy, alternating over up to three rounds, the fastest round of each kept) and
 * compares decode time per token; ReDrafter is chosen when it is at least REDRAFTER_MIN_SPEEDUP
 * times faster. The rule and its figures are in docs/configuration.md and
 * `slipstream/status`. Not a benchmark (bench/redrafter.ts is): a few hundred ms on the shipped model.
 */
import type { Drafter, Model } from '../../../native/lib/index.js';
import type { DecodeMode } from '../config.js';
import type { TokenizerLike } from './engine-host.js';
import { detectPromptFormat, DOCUMENT_TEXT } from './prompt-format.js';

/** ReDrafter must decode at least this many times faster than plain decoding to be chosen. */
export const REDRAFTER_MIN_SPEEDUP = 1.1;
/** What the measured rounds may cost, roughly (after an 8-token warm-up each way). */
const BUDGET_MS = 300;
const WARMUP_TOKENS = 8;
const MIN_TOKENS = 12;
const MAX_TOKENS = 32;
const ROUNDS = 3;

/**
 * The code the calibration completes, [text before the cursor, text after it]: three places where
 * drafting is easy, middling and hard, since ReDrafter's gain depends on how predictable the text is.
 */
const SNIPPETS: [string, string][] = [
  [
    `export function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split('\\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    `,
    `
  }
  return headers;
}
`,
  ],
  [`import { readFileSync } from 'node:fs';\n\nexport function readJson(path: string): unknown {\n  `, `\n}\n`],
  [
    `export class Stack<T> {
  private items: T[] = [];

  push(item: T): void {
    this.items.push(item);
  }

  pop(): T | undefined {
    `,
    `
  }
}
`,
  ],
];

export interface Calibration {
  /** Tokens generated at most per timed run (a prompt's completion may stop earlier, the same way in both modes). */
  tokens: number;
  /** Timed rounds (each runs both modes). */
  rounds: number;
  /** Decode time per token (the prefill's first token excluded), the faster round of each mode. */
  arMsPerToken: number;
  redrafterMsPerToken: number;
  /** arMsPerToken / redrafterMsPerToken. */
  speedup: number;
  /** Wall time of the whole calibration, warm-up included. */
  ms: number;
}

export interface ModeDecision {
  /** The mode requests run in. */
  chosen: 'ar' | 'redrafter';
  /** Why, in one line. */
  reason: string;
  /** Present when a calibration ran (mode auto with a drafter). */
  calibration: Calibration | null;
}

/** The built-in prompts in the model's own format (fill-in-the-middle when it has the tokens). */
export function calibrationPrompts(tokenizer: TokenizerLike): { prompt: Int32Array; stopTokens: number[] }[] {
  const f = detectPromptFormat(tokenizer);
  return SNIPPETS.map(([before, after]) => {
    const p = Array.from(tokenizer.encode(before, DOCUMENT_TEXT));
    const s = Array.from(tokenizer.encode(after, DOCUMENT_TEXT));
    const ids =
      f.kind === 'prefix-only'
        ? [...f.bos, ...p]
        : f.order === 'spm'
          ? [...f.bos, f.prefix, f.suffix, ...s, f.middle, ...p]
          : [...f.bos, f.prefix, ...p, f.suffix, ...s, f.middle];
    return { prompt: Int32Array.from(ids), stopTokens: f.stopTokens };
  });
}

/**
 * Times plain decoding against ReDrafter on one session: every built-in prompt both ways (greedy,
 * so both emit the same tokens), alternating which goes first, for ROUNDS rounds; per prompt and
 * mode the faster round counts; the decode times (the prefill excluded) are summed over the prompts.
 */
export async function calibrate(model: Model, tokenizer: TokenizerLike, drafter: Drafter): Promise<Calibration> {
  const started = performance.now();
  const prompts = calibrationPrompts(tokenizer);
  const longest = Math.max(...prompts.map((p) => p.prompt.length));
  const session = model.createSession({ maxContext: Math.min(model.info.maxPositionEmbeddings, longest + MAX_TOKENS + 16) });
  try {
    const run = async (mode: 'ar' | 'redrafter', i: number, tokens: number): Promise<{ ms: number; tokens: number }> => {
      const { prompt, stopTokens } = prompts[i]!;
      const gen = session.generate(prompt, { maxTokens: tokens, temperature: 0, stopTokens, mode, ...(mode === 'redrafter' ? { drafter } : {}) });
      let r = await gen.next();
      while (!r.done) r = await gen.next();
      return { ms: r.value.stats.decode_ms, tokens: Math.max(0, r.value.ids.length - 1) };
    };
    const warm = await run('ar', 0, WARMUP_TOKENS);
    await run('redrafter', 0, WARMUP_TOKENS);
    const perToken = warm.ms / Math.max(1, warm.tokens);
    const tokens = Math.max(MIN_TOKENS, Math.min(MAX_TOKENS, Math.floor(BUDGET_MS / (2 * ROUNDS * prompts.length * Math.max(perToken, 1e-3)))));
    const ar = prompts.map(() => ({ ms: Infinity, tokens: 0 }));
    const rd = prompts.map(() => ({ ms: Infinity, tokens: 0 }));
    const keep = (best: { ms: number; tokens: number }[], i: number, r: { ms: number; tokens: number }): void => {
      if (r.ms < best[i]!.ms) best[i] = r;
    };
    let rounds = 0;
    const measuring = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < prompts.length; i++) {
        if ((round + i) % 2 === 0) {
          keep(ar, i, await run('ar', i, tokens));
          keep(rd, i, await run('redrafter', i, tokens));
        } else {
          keep(rd, i, await run('redrafter', i, tokens));
          keep(ar, i, await run('ar', i, tokens));
        }
      }
      rounds++;
      if (performance.now() - measuring > BUDGET_MS) break;
    }
    const sum = (xs: { ms: number; tokens: number }[], k: 'ms' | 'tokens'): number => xs.reduce((a, x) => a + x[k], 0);
    const arMsPerToken = sum(ar, 'ms') / Math.max(1, sum(ar, 'tokens'));
    const redrafterMsPerToken = sum(rd, 'ms') / Math.max(1, sum(rd, 'tokens'));
    return { tokens, rounds, arMsPerToken, redrafterMsPerToken, speedup: arMsPerToken / redrafterMsPerToken, ms: performance.now() - started };
  } finally {
    session.dispose();
  }
}

/** The mode for a setting, whether a drafter is loaded, and the calibration (mode auto only). */
export function decideMode(setting: DecodeMode, hasDrafter: boolean, calibration: Calibration | null): ModeDecision {
  if (setting === 'ar') return { chosen: 'ar', reason: 'engine.mode is "ar"', calibration };
  if (!hasDrafter) {
    const why = setting === 'redrafter' ? 'engine.mode is "redrafter" but no drafter is loaded' : 'no drafter is loaded';
    return { chosen: 'ar', reason: `${why}: plain decoding`, calibration };
  }
  if (setting === 'redrafter') return { chosen: 'redrafter', reason: 'engine.mode is "redrafter"', calibration };
  if (!calibration) return { chosen: 'ar', reason: 'auto: not calibrated yet: plain decoding', calibration };
  const figures = `ReDrafter ${calibration.redrafterMsPerToken.toFixed(2)} ms/token vs plain ${calibration.arMsPerToken.toFixed(2)} ms/token (${calibration.speedup.toFixed(2)}x)`;
  return calibration.speedup >= REDRAFTER_MIN_SPEEDUP
    ? { chosen: 'redrafter', reason: `auto: ${figures} >= ${REDRAFTER_MIN_SPEEDUP}x`, calibration }
    : { chosen: 'ar', reason: `auto: ${figures} < ${REDRAFTER_MIN_SPEEDUP}x`, calibration };
}
